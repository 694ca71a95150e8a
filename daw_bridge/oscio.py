"""OSC over UDP for the adapters: encode, decode any packet safely, request/reply with timeouts.

DAW remote scripts answer asynchronously (AbletonOSC polls its socket every ~100 ms, REAPER
and Ardour send feedback to a configured port), so a request is "send, then wait until a
message with the expected address arrives or the timeout passes". Messages that arrive
meanwhile are kept, so errors (``/live/error``) and feedback are not lost.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from ainur_cli.errors import BridgeError

MAX_DATAGRAM = 65536


@dataclass(frozen=True)
class OscMsg:
    """A decoded message: ``address`` and its arguments, and who sent it."""

    address: str
    args: tuple
    sender: tuple[str, int] | None = None


def encode(address: str, *args: Any) -> bytes:
    """One OSC message (int → i, float → f, str → s, bool → T/F, bytes → b)."""
    from pythonosc.osc_message_builder import OscMessageBuilder

    b = OscMessageBuilder(address)
    for a in args:
        b.add_arg(a)
    return b.build().dgram


MAX_BUNDLE_DEPTH = 8
MAX_MESSAGES_PER_PACKET = 256


def decode(data: bytes, sender: tuple[str, int] | None = None, *, depth: int = 0) -> list[OscMsg]:
    """Every message in a packet (bundles flattened, at most :data:`MAX_BUNDLE_DEPTH` levels
    deep, at most :data:`MAX_MESSAGES_PER_PACKET` messages).

    Whatever the bytes are, the only exception is ``ValueError`` (saying what is wrong); the
    caller decides what to do. Bundles are walked here, without recursion, so a packet of
    thousands of nested bundles costs one pass and cannot exhaust the stack.

    :raises ValueError: on anything that is not valid OSC.
    """
    try:
        return _decode(bytes(data), sender, depth)
    except ValueError:
        raise
    except Exception as e:  # python-osc raises ParseError, IndexError, struct.error...
        raise ValueError(f"{type(e).__name__}: {e}") from None


def try_decode(data: bytes, sender: tuple[str, int] | None = None
               ) -> tuple[list[OscMsg], str | None]:
    """``(messages, None)`` or ``([], reason)``; never raises."""
    try:
        return decode(data, sender), None
    except ValueError as e:
        return [], str(e) or "not an OSC packet"


_BUNDLE = b"#bundle\x00"
#: Type tags python-osc decodes (others would be skipped with a log line per packet).
_KNOWN_TAGS = frozenset("ihfdsbrmtTFN[]")


def _check_type_tags(chunk: bytes) -> None:
    """Refuse a message whose type tag string is missing its comma or names unknown types."""
    end = chunk.find(b"\x00")
    if end < 0:
        raise ValueError("OSC address is not NUL-terminated")
    index = (end // 4 + 1) * 4
    if index >= len(chunk):
        return  # no type tag string: a message without arguments
    tag_end = chunk.find(b"\x00", index)
    if tag_end < 0 or chunk[index:index + 1] != b",":
        raise ValueError("OSC type tag string must start with ','")
    unknown = set(chunk[index + 1:tag_end].decode("latin-1")) - _KNOWN_TAGS
    if unknown:
        raise ValueError(f"unsupported OSC type tags {''.join(sorted(unknown))!r}")


def _decode(data: bytes, sender, depth0: int) -> list[OscMsg]:
    from pythonosc.osc_message import OscMessage

    out: list[OscMsg] = []
    stack = [(data, depth0)]
    while stack:
        chunk, depth = stack.pop()
        if chunk[:8] == _BUNDLE:
            if depth >= MAX_BUNDLE_DEPTH:
                raise ValueError(f"OSC bundles nested more than {MAX_BUNDLE_DEPTH} deep")
            if len(chunk) < 16:
                raise ValueError("OSC bundle without a time tag")
            items, i = [], 16
            while i < len(chunk):
                if i + 4 > len(chunk):
                    raise ValueError("OSC bundle element size is cut short")
                size = int.from_bytes(chunk[i:i + 4], "big", signed=True)
                if size <= 0 or size % 4 or i + 4 + size > len(chunk):
                    raise ValueError(f"OSC bundle element has a bad size ({size})")
                items.append((chunk[i + 4:i + 4 + size], depth + 1))
                i += 4 + size
            stack.extend(reversed(items))  # keep the packet's order
            continue
        if not chunk[:1] == b"/":
            raise ValueError("not an OSC message (an address starts with '/')")
        _check_type_tags(chunk)
        m = OscMessage(chunk)
        address = m.address
        if not address.startswith("/") or not address.isprintable():
            raise ValueError("OSC address is not printable text")
        out.append(OscMsg(address, tuple(m.params), sender))
        if len(out) > MAX_MESSAGES_PER_PACKET:
            raise ValueError(f"more than {MAX_MESSAGES_PER_PACKET} messages in one packet")
    return out


class OscPeer:
    """A UDP socket that talks to one DAW: ``send`` to it, ``wait`` for what it answers.

    :param host: / ``port``: where the DAW listens.
    :param reply_port: local port to bind (AbletonOSC answers on 11001, REAPER and Ardour on
        the port configured in the DAW); 0 picks a free one.
    """

    def __init__(self, host: str, port: int, reply_port: int = 0, bind_host: str = "127.0.0.1",
                 daw: str = "DAW") -> None:
        self.host, self.port, self.daw = host, int(port), daw
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.bind((bind_host, int(reply_port)))
        except OSError as e:
            self.sock.close()
            raise BridgeError(f"cannot listen for {daw} replies on UDP port {reply_port}: "
                              f"{e.strerror or e}", field="reply_port", value=reply_port,
                              allowed="a free UDP port (is another Ainur or OSC tool using it?)"
                              ) from None
        self.reply_port = self.sock.getsockname()[1]
        self.inbox: list[OscMsg] = []

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "OscPeer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, address: str, *args: Any) -> None:
        try:
            self.sock.sendto(encode(address, *args), (self.host, self.port))
        except OSError as e:
            raise BridgeError(f"cannot send to {self.daw} at udp://{self.host}:{self.port}: "
                              f"{e.strerror or e}") from None

    def _receive(self, until: float) -> bool:
        """Read one datagram before ``until``; False when the time is up."""
        left = until - time.monotonic()
        if left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            data, sender = self.sock.recvfrom(MAX_DATAGRAM)
        except socket.timeout:
            return False
        except OSError:
            return True  # e.g. ICMP port unreachable surfaced on Linux: keep waiting
        try:
            self.inbox.extend(decode(data, sender))
        except ValueError:
            pass  # garbage from the network is not our reply
        return True

    def wait(self, match: Callable[[OscMsg], bool], timeout_s: float) -> OscMsg | None:
        """The first message (already received or arriving within ``timeout_s``) that matches;
        it is removed from the inbox."""
        until = time.monotonic() + timeout_s
        while True:
            for i, m in enumerate(self.inbox):
                if match(m):
                    return self.inbox.pop(i)
            if not self._receive(until):
                return None

    def collect(self, duration_s: float) -> list[OscMsg]:
        """Everything that arrives within ``duration_s`` (plus what is in the inbox)."""
        until = time.monotonic() + duration_s
        while self._receive(until):
            pass
        out, self.inbox = self.inbox, []
        return out

    def take(self, addresses: Iterable[str]) -> list[OscMsg]:
        """Remove and return inbox messages whose address is one of ``addresses``."""
        wanted = set(addresses)
        keep, out = [], []
        for m in self.inbox:
            (out if m.address in wanted else keep).append(m)
        self.inbox = keep
        return out

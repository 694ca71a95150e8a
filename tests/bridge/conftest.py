"""Shared fixtures of the DAW bridge tests: a tiny song in a served folder, a running
``ainur serve`` server on a free loopback port, and an OSC client built on python-osc.

The client encodes with python-osc's message builder and decodes replies with python-osc's
own parsers (not Ainur's decoder), over a real UDP socket.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

# Three 2-bar sections; the tempo and meter change at bar 4 (120 bpm 4/4 → 90 bpm 3/4), so
# every section starts on a whole second: Intro 0 s, Verse 4 s, Chorus 8 s (song 12 s).
TINY_SONG = """\
title: Tiny Bridge Song
preset: pop
seed: 5
key: A minor
tempo_map:
  - {bar: 1, bpm: 120}
  - {bar: 4, bpm: 90}
time_signature:
  - {bar: 1, signature: "4/4"}
  - {bar: 4, signature: "3/4"}
sections:
  - {name: Intro, bars: 2}
  - {name: Verse 1, bars: 2}
  - {name: Chorus, bars: 2}
output:
  sample_rate: 44100
  bit_depth: 16
  parts: [drums, bass]
"""


def free_udp_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class OscClient:
    """A UDP socket that sends OSC built by python-osc and collects the decoded replies."""

    def __init__(self, server_address: tuple[str, int]) -> None:
        self.server = server_address
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.inbox: list[tuple[str, list]] = []

    def close(self) -> None:
        self.sock.close()

    def send(self, address: str, *args) -> None:
        b = OscMessageBuilder(address)
        for a in args:
            b.add_arg(a)
        self.sock.sendto(b.build().dgram, self.server)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendto(data, self.server)

    def _receive(self, until: float) -> bool:
        left = until - time.monotonic()
        if left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            data, _ = self.sock.recvfrom(65536)
        except socket.timeout:
            return False
        if OscBundle.dgram_is_bundle(data):
            for item in OscBundle(data):
                self.inbox.append((item.address, list(item.params)))
        else:
            m = OscMessage(data)
            self.inbox.append((m.address, list(m.params)))
        return True

    def wait(self, address: str, timeout_s: float = 10.0, job: int | None = None) -> list:
        """Arguments of the first reply on ``address`` (for ``job`` when given); the replies
        before it stay in the inbox. Fails the test on timeout."""
        until = time.monotonic() + timeout_s
        while True:
            for i, (addr, args) in enumerate(self.inbox):
                if addr == address and (job is None or (args and args[0] == job)):
                    return self.inbox.pop(i)[1]
            if not self._receive(until):
                seen = [a for a, _ in self.inbox][-10:]
                pytest.fail(f"no {address} reply within {timeout_s} s (inbox: {seen})")

    def drain(self, duration_s: float = 0.3) -> list[tuple[str, list]]:
        until = time.monotonic() + duration_s
        while self._receive(until):
            pass
        out, self.inbox = self.inbox, []
        return out

    def until_finished(self, job: int, timeout_s: float = 60.0) -> tuple[str, list, list]:
        """``(final address, its args, progress replies)`` for a job: done/error/cancelled."""
        until = time.monotonic() + timeout_s
        progress = []
        while True:
            for i, (addr, args) in enumerate(self.inbox):
                if args and args[0] == job and addr == "/ainur/progress":
                    progress.append(args)
                    self.inbox.pop(i)
                    break
                if addr in ("/ainur/done", "/ainur/cancelled") and args[0] == job or (
                        addr == "/ainur/error" and len(args) > 1 and args[1] == job):
                    self.inbox.pop(i)
                    return addr, args, progress
            else:
                if not self._receive(until):
                    pytest.fail(f"job {job} did not finish within {timeout_s} s")


@pytest.fixture
def served_root(tmp_path) -> Path:
    """A served folder holding ``song.yaml`` (the tiny song)."""
    root = tmp_path / "session"
    root.mkdir()
    (root / "song.yaml").write_text(TINY_SONG, encoding="utf-8")
    return root


@pytest.fixture
def server(served_root):
    """``ainur serve --daw none`` in-process on a free loopback port; stopped afterwards."""
    from daw_bridge.adapter import NoDaw
    from daw_bridge.job_runner import JobRunner
    from daw_bridge.server import BridgeServer

    adapter = NoDaw()
    srv = BridgeServer(served_root, adapter, JobRunner(served_root, adapter), port=0).start()
    yield srv
    assert srv.stop(30.0), "the render worker did not stop"


@pytest.fixture
def client(server):
    c = OscClient(server.address)
    yield c
    c.close()


def leftovers(folder: Path) -> list[str]:
    """Hidden staging folders (``.name.tmp-...``/``.stage-``) anywhere under ``folder``."""
    return sorted(str(p) for p in folder.rglob(".*") if ".tmp-" in p.name or ".stage-" in p.name
                  or ".old-" in p.name)

"""The one interface every DAW adapter implements, and the registry behind ``--daw``.

An adapter can say whether its DAW answers (:meth:`DawAdapter.health`), read the session
(:meth:`DawAdapter.read_session` → :class:`~daw_bridge.facts.SessionFacts`, positions in
beats) and put a render's stems back (:meth:`DawAdapter.place`). Where a DAW cannot do
something over its remote API, the adapter says so in the result (``method`` and
``instructions``) instead of failing silently.
"""

from __future__ import annotations

import abc
import functools
import ipaddress
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from ainur_cli.errors import BridgeError

from daw_bridge.facts import SessionFacts
from daw_bridge.placement import Placement

DAWS = ("ableton", "reaper", "ardour", "none")


@dataclass(frozen=True)
class Option:
    """One connection option of an adapter: the command-line ``flag``, the adapter's
    ``keyword`` argument, its ``type``, ``default`` and one line of ``help``."""

    flag: str
    keyword: str
    type: type
    default: Any
    help: str


#: The connection options of the Ableton and REAPER adapters (the flags are those of
#: ``ainur place``; ``ainur serve`` spells host, port and timeout ``--daw-host``, ``--daw-port``,
#: ``--daw-timeout-s``; see :mod:`ainur_cli.daw_flags`).
OPTIONS: dict[str, tuple[Option, ...]] = {
    "ableton": (
        Option("--host", "host", str, "127.0.0.1", "host running Live + AbletonOSC"),
        Option("--port", "port", int, 11000, "AbletonOSC's UDP port"),
        Option("--ableton-reply-port", "reply_port", int, 11001,
               "UDP port AbletonOSC answers on (11001 in AbletonOSC)"),
        Option("--ableton-set", "live_set", str, None,
               "the open set's .als file: tempo automation, meters and vocal track as saved"),
        Option("--ableton-vocal-track", "vocal_track", str, None,
               "with --ableton-set: the MIDI track the vocal sings (default: named like one)"),
        Option("--ableton-harmony-track", "harmony_track", str, None,
               "with --ableton-set: the MIDI track of a written harmony (default: named like "
               "one)"),
        Option("--timeout-s", "timeout_s", float, 1.0, "seconds to wait for each answer"),
    ),
    "reaper": (
        Option("--host", "host", str, "127.0.0.1", "host running REAPER"),
        Option("--port", "web_port", int, 8080,
               "port of REAPER's web browser interface (0: none, OSC only)"),
        Option("--reaper-osc-port", "osc_port", int, 8000, "REAPER's OSC local listen port"),
        Option("--reaper-feedback-port", "feedback_port", int, 9000,
               "the OSC device port REAPER sends feedback to"),
        Option("--reaper-command", "command_id", str, None,
               "command ID (_RS...) of the registered scripts/ainur_import.lua"),
        Option("--reaper-web-auth", "web_auth", str, None,
               "user:password of the web interface, if it has a login"),
        Option("--reaper-harmony-track", "harmony_track", str, None,
               "with the script: the track of a written harmony (default: named like one)"),
        Option("--timeout-s", "timeout_s", float, 2.0, "seconds to wait for each answer"),
    ),
}


@dataclass(frozen=True)
class Health:
    """``ok`` when the DAW answered; ``message`` says what answered or what to check."""

    ok: bool
    message: str


@dataclass(frozen=True)
class PlaceResult:
    """What placing did: ``method`` is e.g. ``reascript``, ``create_audio_clip``,
    ``tracks+instructions``, ``markers+files`` or ``project-files``; ``placed`` is True when
    the audio is on the DAW's timeline; ``instructions`` tell the user what is left to do."""

    daw: str
    placed: bool
    method: str
    tracks: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    instructions: str = ""
    details: dict[str, Any] = field(default_factory=dict)


_F = TypeVar("_F", bound=Callable[..., Any])
_LOCK_GUARD = threading.Lock()
HEALTH_WAIT_S = 0.5


def serialized(method: _F) -> _F:
    """Run ``method`` holding the adapter's :attr:`DawAdapter.lock`: one conversation with
    the DAW at a time (``ainur serve`` checks health on one thread while a job reads the
    session or places stems on another; replies must not be taken by the wrong one)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self.lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def health_check(method: Callable[..., "Health"]) -> Callable[..., "Health"]:
    """Like :func:`serialized` for ``health()``, but never waits long: while another thread
    talks to the DAW (a job reading or placing, which can take the script's whole timeout),
    the answer is that it is busy, without asking the DAW again."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if not self.lock.acquire(timeout=HEALTH_WAIT_S):
            return Health(True, f"{self.name}: busy with a request (reading the session or "
                                f"placing stems); it answered that conversation")
        try:
            return method(self, *args, **kwargs)
        finally:
            self.lock.release()

    return wrapper


class DawAdapter(abc.ABC):
    """Base class of the DAW adapters."""

    name: str = "daw"

    @property
    def lock(self) -> threading.RLock:
        """The adapter's conversation lock (see :func:`serialized`)."""
        with _LOCK_GUARD:
            lock = self.__dict__.get("_conversation_lock")
            if lock is None:
                lock = self.__dict__["_conversation_lock"] = threading.RLock()
        return lock

    @abc.abstractmethod
    def health(self) -> Health:
        """Ask the DAW whether it is there (never raises for a silent DAW)."""

    @abc.abstractmethod
    def read_session(self) -> SessionFacts:
        """Tempo map, meters, markers, lyrics, length and track names.

        :raises BridgeError: when the DAW does not answer or answers nonsense.
        """

    @abc.abstractmethod
    def place(self, placement: Placement) -> PlaceResult:
        """Put the stems (and section markers) on the DAW's timeline at the song position."""

    def close(self) -> None:
        """Release sockets."""


class NoDaw(DawAdapter):
    """``--daw none``: no session to read; placing writes REAPER and DAWproject files."""

    name = "none"

    def __init__(self, dawproject: bool = True) -> None:
        self.dawproject = dawproject

    def health(self) -> Health:
        return Health(True, "no DAW: renders get a .RPP and a .dawproject beside the stems")

    def read_session(self) -> SessionFacts:
        raise BridgeError("no DAW is connected (ainur serve --daw none)", field="--daw",
                          value="none", allowed="ableton, reaper or ardour to read a session")

    def place(self, placement: Placement) -> PlaceResult:
        from daw_bridge.dawproject import write_dawproject
        from daw_bridge.rpp import write_rpp

        d = placement.render_dir
        files = [d / f"{d.name}.RPP"] + ([d / f"{d.name}.dawproject"] if self.dawproject else [])
        # The same render gives the same projects: write them once, never over a finished one.
        if not files[0].exists():
            write_rpp(placement, files[0])
        if self.dawproject and not files[1].exists():
            write_dawproject(placement, files[1])
        return PlaceResult("none", False, "project-files", files=tuple(str(f) for f in files),
                           instructions="open the .RPP in REAPER or the .dawproject in Bitwig, "
                                        "Studio One or Cubase; every stem also carries its song "
                                        "position as a BWF time reference")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine's loopback (then replies are awaited on 127.0.0.1,
    else on every interface, since the DAW answers to the address it sees)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def make_adapter(daw: str, **options: Any) -> DawAdapter:
    """The adapter for ``daw`` (one of :data:`DAWS`) with its connection ``options``."""
    daw = (daw or "none").lower()
    if daw == "ableton":
        from daw_bridge.ableton import AbletonAdapter

        return AbletonAdapter(**options)
    if daw == "reaper":
        from daw_bridge.reaper import ReaperAdapter

        return ReaperAdapter(**options)
    if daw == "ardour":
        from daw_bridge.ardour import ArdourAdapter

        return ArdourAdapter(**options)
    if daw == "none":
        return NoDaw(**options)
    raise BridgeError("unknown DAW", field="--daw", value=daw, allowed=", ".join(DAWS))

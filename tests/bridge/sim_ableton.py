"""A protocol-faithful AbletonOSC simulator: a real UDP server on loopback.

Written from AbletonOSC's documented addresses and from how its server behaves
(github.com/ideoforms/AbletonOSC: ``abletonosc/osc_server.py``, ``song.py``, ``track.py``,
``handler.py``, ``manager.py``), not from its code:

* Live's remote script reads its socket once per ~100 ms tick and handles every datagram
  queued since the last tick, in order. A handler that raises stops that tick's loop (the
  rest waits for the next tick) and the error is sent as ``/live/error s`` with the text
  "Error handling OSC message: <exception>". An address with no handler gives
  ``/live/error "Unknown OSC address: <address>"``; a datagram that is not OSC gives
  ``/live/error "Error parsing OSC message: ..."``.
* A handler's return value goes back on the query's own address to the sender's IP at the
  *reply port* (11001 in Live; here whatever the test sets), never to the sender's port.
  ``/live/test`` answers ``"ok"`` and errors go to the most recent client (same IP, reply
  port).
* Song getters answer ``(value, *query_args)``; track getters answer ``(track_index,
  value...)``; methods and setters answer nothing.
* ``/live/song/get/cue_points`` answers a flat ``name, time, name, time…`` list (beats).
* ``/live/track/create_audio_clip i s f`` exists only when ``create_audio_clip=True``: the
  Live 12 ``Track.create_audio_clip(file_path, start_time)`` call exposed the way the open
  AbletonOSC pull requests (#168, #196, #206) and ``daw_bridge/scripts`` do it (no reply;
  Live refuses non-audio tracks, missing files and start times outside [0, 1576800];
  ``live_version=11`` has no such Track method, as in Live 11).

Faults for tests: ``silent`` (bound, never answers), ``garbage_before_reply`` (a burst of
junk datagrams to the reply port before every answer) and ``override`` (address → the
argument tuple to answer instead of the real value). ``tap`` forwards every datagram received,
verbatim, to another address (e.g. liblo's ``oscdump``, an independent decoder).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

MAX_START_BEATS = 1576800.0


@dataclass
class Clip:
    """An arrangement clip: ``start_time`` and ``length`` in beats."""

    name: str
    start_time: float
    length: float
    file_path: str = ""


@dataclass
class Track:
    name: str
    audio: bool = True
    arrangement_clips: list[Clip] = field(default_factory=list)


@dataclass
class CuePoint:
    name: str
    time: float  # beats


@dataclass
class LiveSong:
    """The part of a Live Set that AbletonOSC exposes and the adapter uses."""

    tempo: float = 120.0
    signature_numerator: int = 4
    signature_denominator: int = 4
    cue_points: list[CuePoint] = field(default_factory=list)
    tracks: list[Track] = field(default_factory=list)
    current_song_time: float = 0.0
    min_song_length: float = 0.0

    @property
    def song_length(self) -> float:
        """Live: the arrangement's length in beats (last clip end or cue point)."""
        ends = [c.start_time + c.length for t in self.tracks for c in t.arrangement_clips]
        ends += [c.time for c in self.cue_points]
        return float(max([self.min_song_length, *ends]))

    def create_audio_track(self, index: int) -> None:
        self._create(index, True)

    def create_midi_track(self, index: int) -> None:
        self._create(index, False)

    def _create(self, index: int, audio: bool) -> None:
        index = int(index)
        if index == -1:
            index = len(self.tracks)
        if not 0 <= index <= len(self.tracks):
            raise IndexError("Index out of range")
        n = sum(1 for t in self.tracks if t.audio == audio) + 1
        self.tracks.insert(index, Track(f"{n}-{'Audio' if audio else 'MIDI'}", audio))


class AbletonOscSim:
    """AbletonOSC on ``127.0.0.1:<port>`` (ephemeral), answering on ``reply_port``."""

    def __init__(self, song: LiveSong | None = None, *, reply_port: int = 11001,
                 tick_s: float = 0.1, create_audio_clip: bool = False, silent: bool = False,
                 garbage_before_reply: bool = False,
                 override: dict[str, tuple] | None = None,
                 tap: tuple[str, int] | None = None, live_version: int = 12) -> None:
        self.song = song or LiveSong()
        self.reply_port = int(reply_port)
        self.tick_s = float(tick_s)
        self.silent = silent
        self.garbage_before_reply = garbage_before_reply
        self.override = dict(override or {})
        self.tap = tap
        self.live_version = live_version
        self.received: list[tuple[str, tuple]] = []
        self.errors_sent: list[str] = []
        self.busy_ticks = 0   # ticks that handled at least one datagram
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self._remote: tuple[str, int] = ("127.0.0.1", self.reply_port)
        self._handlers: dict[str, Callable[[tuple], Any]] = {}
        self._register(create_audio_clip)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ableton-sim", daemon=True)
        self.lock = threading.Lock()

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> "AbletonOscSim":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2.0)
        self.sock.close()

    def __enter__(self) -> "AbletonOscSim":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the API table --------------------------------------------------------------------
    def _register(self, create_audio_clip: bool) -> None:
        h, song = self._handlers, self.song
        h["/live/test"] = lambda p: self.send("/live/test", ("ok",))
        for prop in ("tempo", "signature_numerator", "signature_denominator",
                     "current_song_time"):
            h[f"/live/song/get/{prop}"] = self._getter(prop)
            h[f"/live/song/set/{prop}"] = self._setter(prop)
        h["/live/song/get/song_length"] = self._getter("song_length")
        h["/live/song/create_audio_track"] = lambda p: song.create_audio_track(*p)
        h["/live/song/create_midi_track"] = lambda p: song.create_midi_track(*p)
        h["/live/song/get/num_tracks"] = lambda p: (len(song.tracks),)
        h["/live/song/get/track_names"] = self._track_names
        h["/live/song/get/cue_points"] = lambda p: tuple(
            x for c in song.cue_points for x in (c.name, c.time))
        h["/live/track/get/name"] = self._track(lambda t, a: (t.name,))
        h["/live/track/set/name"] = self._track(lambda t, a: setattr(t, "name", a[0]))
        h["/live/track/get/arrangement_clips/name"] = self._track(
            lambda t, a: tuple(c.name for c in t.arrangement_clips))
        h["/live/track/get/arrangement_clips/length"] = self._track(
            lambda t, a: tuple(c.length for c in t.arrangement_clips))
        h["/live/track/get/arrangement_clips/start_time"] = self._track(
            lambda t, a: tuple(c.start_time for c in t.arrangement_clips))
        if create_audio_clip:
            h["/live/track/create_audio_clip"] = self._track(self._create_audio_clip)

    def _getter(self, prop: str) -> Callable[[tuple], tuple]:
        return lambda params: (getattr(self.song, prop), *params)

    def _setter(self, prop: str) -> Callable[[tuple], None]:
        return lambda params: setattr(self.song, prop, params[0])

    def _track_names(self, params: tuple) -> tuple:
        lo, hi = (0, len(self.song.tracks)) if not params else params
        if hi == -1:
            hi = len(self.song.tracks)
        return tuple(self.song.tracks[i].name for i in range(lo, hi))

    def _track(self, fn: Callable[[Track, tuple], Any]) -> Callable[[tuple], Any]:
        def callback(params: tuple):
            indices = (range(len(self.song.tracks)) if params[0] == "*"
                       else [int(params[0])])
            for i in indices:
                rv = fn(self.song.tracks[i], tuple(params[1:]))
                if rv is not None:
                    return (i, *rv)
            return None
        return callback

    def _create_audio_clip(self, track: Track, args: tuple) -> None:
        """Live 12's ``Track.create_audio_clip(file_path, start_time)``."""
        if self.live_version < 12:  # a patched AbletonOSC on Live 11: no such Track method
            raise AttributeError("'Track' object has no attribute 'create_audio_clip'")
        path, start = args[0], float(args[1])
        if not track.audio:
            raise RuntimeError("Track.create_audio_clip: not an audio track")
        if not isinstance(path, str) or not os.path.isabs(path) or not os.path.isfile(path):
            raise RuntimeError(f"Track.create_audio_clip: invalid file path {path!r}")
        if not 0.0 <= start <= MAX_START_BEATS:
            raise RuntimeError("Track.create_audio_clip: start_time out of range")
        import soundfile

        info = soundfile.info(path)
        length_beats = info.frames / info.samplerate * self.song.tempo / 60.0
        name = os.path.splitext(os.path.basename(path))[0]
        track.arrangement_clips.append(Clip(name, start, length_beats, path))
        track.arrangement_clips.sort(key=lambda c: c.start_time)

    # -- the server loop (one "tick" per tick_s, like Live's schedule_message) ------------
    def send(self, address: str, params: tuple = (), remote: tuple[str, int] | None = None
             ) -> None:
        if self.silent:
            return
        target = remote or self._remote
        if self.garbage_before_reply:
            for junk in (b"\x00\x01garbage", b"/live/song/get/tempo\x00\x00\x00\x00,f\x00",
                         os.urandom(37), b"#bundle\x00" + b"\xff" * 12):
                self.sock.sendto(junk, target)
        b = OscMessageBuilder(address)
        for p in params:
            b.add_arg(p)
        self.sock.sendto(b.build().dgram, target)

    def _error(self, text: str) -> None:
        self.errors_sent.append(text)
        self.send("/live/error", (text,))

    def _run(self) -> None:
        while not self._stop.wait(self.tick_s):
            self._tick()

    def _tick(self) -> None:
        handled = 0
        while True:
            try:
                data, sender = self.sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError, OSError):
                return
            handled += 1
            # Counted at the tick's first datagram, before any reply goes out: a client that
            # has all its replies sees its tick counted (counting at the tick's end raced
            # with the test's check on a loaded machine).
            self.busy_ticks += handled == 1
            self._remote = (sender[0], self.reply_port)
            if self.tap:
                self.sock.sendto(data, self.tap)  # every request, verbatim, to a listener
            try:
                self._datagram(data, sender)
            except Exception as e:  # Live's script logs it and ends this tick
                self._error(f"Error handling OSC message: {e}")
                return

    def _datagram(self, data: bytes, sender: tuple[str, int]) -> None:
        try:
            if OscBundle.dgram_is_bundle(data):
                msgs = [m for m in self._flatten(OscBundle(data))]
            else:
                msgs = [OscMessage(data)]
        except Exception as e:
            self._error(f"Error parsing OSC message: {type(e).__name__}: {e}")
            return
        for m in msgs:
            self._message(m.address, tuple(m.params), sender)

    def _flatten(self, bundle: OscBundle):
        for item in bundle:
            if isinstance(item, OscBundle):
                yield from self._flatten(item)
            else:
                yield item

    def _message(self, address: str, params: tuple, sender: tuple[str, int]) -> None:
        with self.lock:
            self.received.append((address, params))
            handler = self._handlers.get(address)
            if handler is None:
                self._error(f"Unknown OSC address: {address}")
                return
            rv = handler(params)
        if address in self.override:
            rv = self.override[address]
        if rv is not None:
            self.send(address, tuple(rv), (sender[0], self.reply_port))

    def wait_idle(self, timeout_s: float = 2.0) -> None:
        """Wait until the socket queue is drained (two ticks without anything queued)."""
        time.sleep(min(timeout_s, 2.5 * self.tick_s))

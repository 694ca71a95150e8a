"""Ableton Live through AbletonOSC (the free remote script, github.com/ideoforms/AbletonOSC).

AbletonOSC listens on UDP 11000 and answers a query on the sender's host, port 11001, with
the query's own address; errors arrive as ``/live/error s``. Live polls the socket about
every 100 ms, so each request waits up to ``timeout_s`` and is retried once.

Read: ``/live/test`` (handshake, answers ``"ok"``), ``/live/song/get/tempo``,
``signature_numerator``, ``signature_denominator``, ``song_length`` (beats), ``cue_points``
(flat ``name, beat, name, beat…``), ``track_names``. Live reports only the current tempo
and time signature over OSC: tempo and meter automation cannot be read (a note says so).

Place: ``/live/song/create_audio_track -1`` per stem (no reply; checked with
``num_tracks``), ``/live/track/set/name``, then ``/live/track/create_audio_clip i s f``
(track, absolute file path, start beat) where the script has it (Live 12 with an AbletonOSC
that exposes ``Track.create_audio_clip``; confirmed by reading the track's arrangement clip
start times). Released AbletonOSC answers "Unknown OSC address" and Live 11 has no such
call: then the tracks are created and named, and the result tells the user which file to
drop on which track at which bar.
"""

from __future__ import annotations

import logging

from ainur_cli.errors import BridgeError

from daw_bridge.adapter import DawAdapter, Health, PlaceResult
from daw_bridge.facts import SessionFacts, as_fraction, constant_facts
from daw_bridge.oscio import OscMsg, OscPeer
from daw_bridge.placement import Placement
from daw_bridge.session_spec import markers_from_names

log = logging.getLogger(__name__)

LIVE_PORT = 11000
REPLY_PORT = 11001


class AbletonAdapter(DawAdapter):
    """Talks to AbletonOSC at ``host:port``, listening for replies on ``reply_port``."""

    name = "ableton"

    def __init__(self, host: str = "127.0.0.1", port: int = LIVE_PORT,
                 reply_port: int = REPLY_PORT, timeout_s: float = 1.0, retries: int = 1,
                 track_prefix: str = "Ainur ") -> None:
        self.peer = OscPeer(host, port, reply_port, daw="Ableton Live (AbletonOSC)")
        self.timeout_s, self.retries, self.prefix = float(timeout_s), int(retries), track_prefix
        self.origin = f"udp://{host}:{port}"

    def close(self) -> None:
        self.peer.close()

    # -- requests -------------------------------------------------------------------------
    def _error_for(self, address: str) -> OscMsg | None:
        for i, m in enumerate(self.peer.inbox):
            if m.address == "/live/error":
                self.peer.inbox.pop(i)
                return m
        return None

    def query(self, address: str, *args, timeout_s: float | None = None) -> tuple:
        """Send ``address args`` and return the reply's arguments (same address).

        :raises BridgeError: no reply after the retries, or ``/live/error`` about it.
        """
        timeout = self.timeout_s if timeout_s is None else timeout_s
        self.peer.take([address])  # stale answers to an earlier, timed-out request
        for attempt in range(self.retries + 1):
            self.peer.send(address, *args)
            reply = self.peer.wait(lambda m: m.address in (address, "/live/error"), timeout)
            if reply is None:
                continue
            if reply.address == "/live/error":
                raise BridgeError(f"Ableton Live answered {address} with an error: "
                                  f"{' '.join(map(str, reply.args))}", field=address)
            return reply.args
        raise BridgeError(f"Ableton Live does not answer {address} at {self.origin} "
                          f"(waited {timeout:g} s x {self.retries + 1})",
                          allowed="Live running with AbletonOSC selected as a Control Surface "
                                  "(Preferences > Link, Tempo & MIDI), and UDP 11000/11001 free")

    def health(self) -> Health:
        try:
            args = self.query("/live/test")
        except BridgeError as e:
            return Health(False, e.message + " — " + (e.allowed or ""))
        if args[:1] != ("ok",):
            return Health(False, f"something answered /live/test at {self.origin} but not with "
                                 f"'ok': {args!r}")
        return Health(True, f"AbletonOSC answered at {self.origin}")

    def read_session(self) -> SessionFacts:
        tempo = self._number("/live/song/get/tempo")
        num = int(self._number("/live/song/get/signature_numerator"))
        den = int(self._number("/live/song/get/signature_denominator"))
        length = self._number("/live/song/get/song_length")
        flat = self.query("/live/song/get/cue_points")
        if len(flat) % 2:
            raise BridgeError("Ableton Live sent cue points that are not name/beat pairs",
                              field="/live/song/get/cue_points", value=flat)
        pairs = []
        for name, beat in zip(flat[0::2], flat[1::2]):
            if not isinstance(beat, (int, float)):
                raise BridgeError("a cue point position is not a number",
                                  field="/live/song/get/cue_points", value=beat)
            pairs.append((str(name), float(beat)))
        names = tuple(str(n) for n in self.query("/live/song/get/track_names"))
        return constant_facts(
            "ableton", self.origin, as_fraction(tempo), num, den,
            markers=markers_from_names(pairs), length_beats=as_fraction(length),
            track_names=names,
            notes=("Live reports one tempo and one time signature over OSC: tempo and meter "
                   "automation are not read (export a MIDI file from another DAW if you need "
                   "a tempo map)",))

    def _number(self, address: str) -> float:
        args = self.query(address)
        if not args or not isinstance(args[0], (int, float)) or isinstance(args[0], bool):
            raise BridgeError("Ableton Live answered with something that is not a number",
                              field=address, value=args)
        return float(args[0])

    # -- placing --------------------------------------------------------------------------
    def place(self, placement: Placement) -> PlaceResult:
        before = int(self._number("/live/song/get/num_tracks"))
        stems = placement.stems
        for _ in stems:
            self.peer.send("/live/song/create_audio_track", -1)
        count = before
        for _ in range(10):
            count = int(self._number("/live/song/get/num_tracks"))
            if count >= before + len(stems):
                break
        if count < before + len(stems):
            raise BridgeError(f"Ableton Live created {count - before} of {len(stems)} audio tracks",
                              field="/live/song/create_audio_track")
        names = []
        for i, stem in enumerate(stems):
            name = f"{self.prefix}{stem.part}"
            self.peer.send("/live/track/set/name", before + i, name)
            names.append(name)
        self.query("/live/song/get/track_names")  # a round trip: the renames are processed
        start_beats = [placement.session_start_beat + self._song_beat(placement, s.start_s)
                       for s in stems]
        clips_ok = self._create_clips(placement, before, start_beats)
        if clips_ok:
            return PlaceResult("ableton", True, "create_audio_clip", tracks=tuple(names),
                               files=tuple(str(s.path) for s in stems))
        bar = self._bar_text(placement)
        lines = [f"drop {s.path} on track '{n}' at {bar}" for s, n in zip(stems, names)]
        return PlaceResult(
            "ableton", False, "tracks+instructions", tracks=tuple(names),
            files=tuple(str(s.path) for s in stems),
            instructions=("this Live/AbletonOSC cannot create clips from files (Live 12 and an "
                          "AbletonOSC with /live/track/create_audio_clip can): "
                          + "; ".join(lines)))

    def _create_clips(self, p: Placement, first_track: int, start_beats: list[float]) -> bool:
        for i, (stem, beat) in enumerate(zip(p.stems, start_beats)):
            self.peer.send("/live/track/create_audio_clip", first_track + i, str(stem.path),
                           float(beat))
            err = self.peer.wait(lambda m: m.address == "/live/error", 0.0)
            try:
                args = self.query("/live/track/get/arrangement_clips/start_time", first_track + i)
            except BridgeError as e:
                log.info("create_audio_clip not confirmed: %s", e)
                return False
            err = err or self._error_for("/live/track/create_audio_clip")
            starts = [float(a) for a in args[1:] if isinstance(a, (int, float))]
            if err is not None or not any(abs(s - beat) < 1e-3 for s in starts):
                log.info("Live did not create the clip on track %d (%s)", first_track + i,
                         err.args if err else "no clip at the start beat")
                return False
        return True

    @staticmethod
    def _song_beat(p: Placement, seconds: float) -> float:
        return p.song_s_to_beat(seconds)

    @staticmethod
    def _bar_text(p: Placement) -> str:
        return f"beat {p.session_start_beat:g} (song start)"


"""Ableton Live through AbletonOSC (the free remote script, github.com/ideoforms/AbletonOSC).

AbletonOSC listens on UDP 11000 and answers a query on the *sender's IP* at port 11001 (not
the sender's port), on the query's own address. Errors arrive as ``/live/error s``
("Unknown OSC address: …", "Error handling OSC message: …") and name the address only when
it is unknown. Live runs the script's socket loop every ~100 ms, so each request waits up to
``timeout_s`` and getters are retried ``retries`` times.

Read: ``/live/test`` (handshake, answers ``"ok"``), ``/live/song/get/tempo`` (f),
``signature_numerator`` / ``signature_denominator`` (i), ``song_length`` (f, beats),
``cue_points`` (flat ``name, beat, name, beat…``), ``track_names``. Live reports only the
current tempo and time signature over OSC: tempo and meter automation cannot be read (the
facts' notes say so). Numbers come as 32-bit floats and are read as the nearest fraction
with a denominator up to 960 (MIDI's finest common grid).

Place: ``/live/song/create_audio_track -1`` per stem (no reply; checked with
``num_tracks``), ``/live/track/set/name i s`` (checked with ``track_names``), then
``/live/track/create_audio_clip i s f`` (track, absolute path, start beat), Live 12's
``Track.create_audio_clip`` as exposed by the patch in ``daw_bridge/scripts/
ableton_create_audio_clip.py`` (or an AbletonOSC with that address), confirmed by reading
``/live/track/get/arrangement_clips/start_time``. A released AbletonOSC answers "Unknown
OSC address" and Live 11 has no such call: then the tracks are still created and named and
the result tells the user which file to drop on which track at which bar.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path

from ainur_cli.errors import BridgeError

from daw_bridge.adapter import (DawAdapter, Health, PlaceResult, health_check, is_loopback,
                                serialized)
from daw_bridge.facts import SessionFacts, constant_facts
from daw_bridge.oscio import OscMsg, OscPeer
from daw_bridge.placement import Placement
from daw_bridge.session_spec import markers_from_names

log = logging.getLogger(__name__)

LIVE_PORT = 11000
REPLY_PORT = 11001
ERROR_ADDRESS = "/live/error"
#: Live's limit for ``Track.create_audio_clip`` start times (beats).
MAX_CLIP_START_BEATS = 1576800.0
#: After a ``/live/error`` that does not name the query, how long its reply may still come.
ERROR_GRACE_S = 0.35
FLOAT_GRID = 960
MAX_KEPT_ERRORS = 32

#: the session note of Live's OSC facts that the set file (``--ableton-set``) makes moot
ONE_TEMPO_NOTE = ("Live reports one tempo and one time signature over OSC: tempo and meter "
                  "automation are not read (give the set file, --ableton-set SET.als, or "
                  "render it with ainur render --from-ableton)")

CHECK = ("Live running with AbletonOSC selected as a Control Surface (Preferences > Link, "
         "Tempo & MIDI), nothing else using the reply port, and no firewall blocking UDP "
         "on loopback")


def live_number(x: float) -> Fraction:
    """A 32-bit float from Live as the nearest fraction with denominator <= 960."""
    return Fraction(x).limit_denominator(FLOAT_GRID)


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


class AbletonAdapter(DawAdapter):
    """Talks to AbletonOSC at ``host:port``, listening for replies on ``reply_port``
    (AbletonOSC always answers on 11001; 0 picks a free port, for simulators)."""

    name = "ableton"

    def __init__(self, host: str = "127.0.0.1", port: int = LIVE_PORT,
                 reply_port: int = REPLY_PORT, timeout_s: float = 1.0, retries: int = 1,
                 track_prefix: str = "Ainur ", live_set: str | Path | None = None,
                 vocal_track: str | None = None, harmony_track: str | None = None) -> None:
        bind = "127.0.0.1" if is_loopback(host) else "0.0.0.0"
        self.peer = OscPeer(host, port, reply_port, bind_host=bind,
                            daw="Ableton Live (AbletonOSC)")
        self.timeout_s, self.retries, self.prefix = float(timeout_s), int(retries), track_prefix
        self.origin = f"udp://{host}:{port}"
        #: ``/live/error`` texts received that no query claimed (newest last).
        self.errors: list[str] = []
        #: the open set's file (its tempo automation, meters and vocal MIDI track, as last
        #: saved; see :func:`daw_bridge.ableton_set.with_saved_set`), the vocal track and
        #: the written harmony's track
        self.live_set = Path(live_set) if live_set else None
        self.vocal_track = vocal_track
        self.harmony_track = harmony_track

    def close(self) -> None:
        self.peer.close()

    # -- requests -------------------------------------------------------------------------
    def _where(self) -> str:
        return f"{self.origin} (replies expected on UDP {self.peer.reply_port})"

    def query(self, address: str, *args, timeout_s: float | None = None) -> tuple:
        """Send ``address args`` and return the reply's arguments (same address).

        :raises BridgeError: no reply after the retries, or a ``/live/error`` about it.
        """
        return self.query_many([(address, args)], timeout_s=timeout_s)[0]

    @serialized
    def query_many(self, requests: list[tuple[str, tuple]], timeout_s: float | None = None
                   ) -> list[tuple]:
        """Send every ``(address, args)`` at once and return their replies in order.

        AbletonOSC handles every datagram queued since its last ~100 ms tick, in order, so a
        batch costs one tick instead of one per request. Replies are matched by address, and
        by their first argument (the track index AbletonOSC echoes) when an address repeats.
        A ``/live/error`` naming an address of the batch fails at once; one that names none
        (a handler's exception) fails the requests still unanswered a moment later (Live
        ends its tick on an error and handles the rest on the next).

        :raises BridgeError: a request unanswered after the retries, or answered by an error.
        """
        timeout = self.timeout_s if timeout_s is None else float(timeout_s)
        count = Counter(address for address, _ in requests)
        results: list[tuple | None] = [None] * len(requests)
        pending = list(range(len(requests)))

        def answers(m: OscMsg, i: int) -> bool:
            address, args = requests[i]
            return m.address == address and (count[address] == 1 or m.args[:1] == args[:1])

        self.peer.take(count)  # stale answers to an earlier, timed-out request
        error: str | None = None
        for _ in range(self.retries + 1):
            for i in pending:
                self.peer.send(requests[i][0], *requests[i][1])
            until = time.monotonic() + timeout
            while pending:
                reply = self.peer.wait(lambda m: m.address == ERROR_ADDRESS
                                       or any(answers(m, i) for i in pending),
                                       max(until - time.monotonic(), 0.0))
                if reply is None:
                    break
                if reply.address != ERROR_ADDRESS:
                    i = next(i for i in pending if answers(reply, i))
                    results[i] = reply.args
                    pending.remove(i)
                    continue
                text = " ".join(str(a) for a in reply.args) or "(no message)"
                if text.startswith("Unknown OSC address"):
                    named = text.rsplit(" ", 1)[-1]
                    if any(requests[i][0] == named for i in pending):
                        raise BridgeError(f"Ableton Live answered {named} with an error: "
                                          f"{text}", field=named)
                    self._keep_error(text)  # about another request
                    continue
                error = text
                until = min(until, time.monotonic() + ERROR_GRACE_S)
            if not pending:
                if error is not None:
                    self._keep_error(error)  # it was about an earlier request
                return [r for r in results if r is not None]
            if error is not None:
                address = requests[pending[0]][0]
                raise BridgeError(f"Ableton Live answered {address} with an error: {error}",
                                  field=address)
        address = requests[pending[0]][0]
        raise BridgeError(f"Ableton Live does not answer {address} at {self._where()}; "
                          f"waited {timeout:g} s x {self.retries + 1}", allowed=CHECK)

    def _number(self, address: str, *args) -> float:
        return self._as_number(address, self.query(address, *args))

    @staticmethod
    def _as_number(address: str, reply: tuple) -> float:
        if not reply or not _is_number(reply[0]):
            raise BridgeError("Ableton Live answered with something that is not a number",
                              field=address, value=reply)
        return float(reply[0])

    def _keep_error(self, text: str) -> None:
        self.errors = self.errors[-(MAX_KEPT_ERRORS - 1):] + [text]

    def drain_errors(self) -> list[str]:
        """``/live/error`` messages received so far (and forgets them)."""
        out = self.errors + [" ".join(map(str, m.args)) for m in self.peer.take([ERROR_ADDRESS])]
        self.errors = []
        return out

    # -- health ---------------------------------------------------------------------------
    @health_check
    def health(self) -> Health:
        try:
            args = self.query("/live/test")
        except BridgeError as e:
            return Health(False, f"{e.message} — check: {CHECK}")
        if args[:1] != ("ok",):
            return Health(False, f"something answered /live/test at {self.origin} but not "
                                 f"with 'ok': {args!r}")
        return Health(True, f"AbletonOSC answered at {self._where()}")

    # -- reading --------------------------------------------------------------------------
    @serialized
    def read_session(self) -> SessionFacts:
        """The session as Live reports it over OSC; with :attr:`live_set`, merged with the
        saved set's tempo map, meters and vocal MIDI track."""
        facts = self._osc_session()
        if self.live_set is None:
            return facts
        from daw_bridge.ableton_set import read_live_set, with_saved_set

        return with_saved_set(facts, read_live_set(self.live_set), self.vocal_track,
                              self.harmony_track)

    def _osc_session(self) -> SessionFacts:
        numbers = ("/live/song/get/tempo", "/live/song/get/signature_numerator",
                   "/live/song/get/signature_denominator", "/live/song/get/song_length")
        replies = self.query_many([(a, ()) for a in numbers]
                                  + [("/live/song/get/cue_points", ()),
                                     ("/live/song/get/track_names", ())])
        tempo, num, den, length = (self._as_number(a, r) for a, r in zip(numbers, replies))
        flat, names = replies[4], replies[5]
        for address, value, ok, allowed in (
                ("/live/song/get/tempo", tempo, 20 <= tempo <= 999, "20..999 bpm (Live's range)"),
                ("/live/song/get/signature_numerator", num, num == int(num) and 1 <= num <= 99,
                 "a whole number 1..99"),
                ("/live/song/get/signature_denominator", den, den in (1, 2, 4, 8, 16),
                 "1, 2, 4, 8 or 16")):
            if not ok:
                raise BridgeError("Ableton Live reported an impossible value", field=address,
                                  value=value, allowed=allowed)
        if len(flat) % 2:
            raise BridgeError("Ableton Live sent cue points that are not name/beat pairs",
                              field="/live/song/get/cue_points", value=flat)
        pairs = []
        for name, beat in zip(flat[0::2], flat[1::2]):
            if not isinstance(name, str) or not _is_number(beat) or beat < 0:
                raise BridgeError("a cue point is not a (name, beat) pair",
                                  field="/live/song/get/cue_points", value=(name, beat))
            pairs.append((name, live_number(beat)))
        if not all(isinstance(n, str) for n in names):
            raise BridgeError("Ableton Live sent track names that are not text",
                              field="/live/song/get/track_names", value=names)
        return constant_facts(
            "ableton", self.origin, live_number(tempo), int(num), int(den),
            markers=markers_from_names(pairs), length_beats=live_number(length) or None,
            track_names=tuple(names),
            notes=(ONE_TEMPO_NOTE,
                   "Live has no lyrics to read: they come from a lyrics file or the spec"))

    # -- placing --------------------------------------------------------------------------
    @serialized
    def place(self, placement: Placement) -> PlaceResult:
        stems = placement.stems
        if not stems:
            raise BridgeError("the render has no stems to place", field="files",
                              file=str(placement.render_dir))
        beats = [float(placement.stem_start_beat(s)) for s in stems]
        bad = [b for b in beats if not 0 <= b <= MAX_CLIP_START_BEATS]
        if bad:
            raise BridgeError("a stem would start outside Live's arrangement",
                              field="session_start_beat", value=bad[0],
                              allowed=f"0..{MAX_CLIP_START_BEATS:g} beats")
        asked = ("/live/song/get/signature_numerator", "/live/song/get/signature_denominator",
                 "/live/song/get/num_tracks")
        num, den, before = (int(self._as_number(a, r))
                            for a, r in zip(asked, self.query_many([(a, ()) for a in asked])))
        first = self._create_tracks(before, len(stems))
        names = [f"{self.prefix}{s.part}" for s in stems]
        for i, name in enumerate(names):
            self.peer.send("/live/track/set/name", first + i, name)
        got = self.query("/live/song/get/track_names", first, first + len(stems))
        if tuple(got) != tuple(names):
            raise BridgeError("Ableton Live did not take the new track names",
                              field="/live/track/set/name", value=got)
        missing, reason = self._create_clips(placement, first, beats)
        files = tuple(str(s.path) for s in stems)
        details = {"first_track": first, "start_beats": beats}
        if not missing:
            return PlaceResult("ableton", True, "create_audio_clip", tracks=tuple(names),
                               files=files, details=details)
        lines = [f"drop {stems[i].path} on track '{names[i]}' at {bar_text(beats[i], num, den)}"
                 for i in missing]
        details.update(reason=reason, missing=[stems[i].part for i in missing])
        done = len(stems) - len(missing)
        return PlaceResult(
            "ableton", False, "tracks+instructions", tracks=tuple(names), files=files,
            details=details,
            instructions=(f"Live created {done} of {len(stems)} clips ({reason}); Live 12 with "
                          "AbletonOSC patched by daw_bridge/scripts/ableton_create_audio_clip"
                          ".py creates them all. Until then: " + "; ".join(lines)))

    def _create_tracks(self, before: int, count: int) -> int:
        """Append ``count`` audio tracks to the ``before`` there are; returns the index of
        the first new one."""
        for _ in range(count):
            self.peer.send("/live/song/create_audio_track", -1)
        now = before
        for _ in range(5):  # Live creates them on its next tick; num_tracks comes after
            now = int(self._number("/live/song/get/num_tracks"))
            if now >= before + count:
                break
        if now < before + count:
            errors = "; ".join(self.drain_errors()) or "no error reported"
            raise BridgeError(f"Ableton Live created {now - before} of {count} audio tracks "
                              f"({errors})", field="/live/song/create_audio_track")
        return before

    def _create_clips(self, p: Placement, first: int, beats: list[float]
                      ) -> tuple[list[int], str]:
        """Ask Live for every clip, then read each new track's clip start times back:
        ``(indices of the stems whose clip is not there, why)``."""
        self.drain_errors()
        for i, (stem, beat) in enumerate(zip(p.stems, beats)):
            self.peer.send("/live/track/create_audio_clip", first + i, str(stem.path),
                           float(beat))
        address = "/live/track/get/arrangement_clips/start_time"
        try:
            replies = self.query_many([(address, (first + i,)) for i in range(len(beats))])
        except BridgeError as e:
            return list(range(len(beats))), e.message
        missing = [i for i, (starts, beat) in enumerate(zip(replies, beats))
                   if not any(_is_number(s) and abs(s - beat) < 1e-3 for s in starts[1:])]
        errors = self.drain_errors()
        if missing:
            log.info("Live did not create %d clip(s): %s", len(missing), errors)
        reason = errors[-1] if errors else "no clip at the start beat afterwards"
        return missing, reason


def bar_text(beat: float, numerator: int, denominator: int) -> str:
    """``bar 9 (beat 32)`` for a beat in one meter (Live's arrangement counts bars from 1)."""
    bar_beats = Fraction(numerator * 4, denominator)
    b = Fraction(beat).limit_denominator(FLOAT_GRID)
    bar, rest = divmod(b, bar_beats)
    where = f"bar {int(bar) + 1}" + (f" + {float(rest):g} beats" if rest else "")
    return f"{where} (beat {float(b):g})"

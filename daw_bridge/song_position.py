"""Where a song sits in a DAW session: bars ⇄ beats under a meter map, the song's start from
a bar, a beat or seconds of the session, and how the session's own map differs from the song's.

Positions are exact fractions; a beat is a quarter note counted from the session start. A
meter change that is not on a bar line of the meter before it starts a new bar there (as DAWs
count bars). Used by :mod:`daw_bridge.placement`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING

from ainur_cli.errors import BridgeError

from daw_bridge.facts import MeterPoint, SessionFacts, TempoPoint, as_fraction

if TYPE_CHECKING:
    from pathlib import Path

    from daw_bridge.placement import Placement

SONG_POSITION = "song_position"  # manifest block of a section render (where it sits in its song)


def session_notes(p: Placement, session: SessionFacts) -> list[str]:
    """What differs between ``session``'s own tempo map and meters and the song's where the
    song plays (the stems follow the song's; a DAW keeps its own map): one line each."""
    end = p.start_beat + p.song.seconds_to_beat(Fraction(p.duration_samples, p.sample_rate))
    notes = []
    for what, theirs, ours, key in (
            ("tempo", session.tempo, p.song_tempo, lambda t: f"{float(t.tempo_bpm):g} bpm"),
            ("time signature", session.meters, p.song_meters,
             lambda m: f"{m.numerator}/{m.denominator}")):
        def changes(points, offset):
            inside = [(x.beat + offset, key(x)) for x in points if x.beat + offset < end]
            before = [c for c in inside if c[0] <= p.start_beat][-1:]
            return [(p.start_beat, v) for _, v in before] + [c for c in inside if c[0] > p.start_beat]
        a, b = changes(theirs, 0), changes(ours, p.start_beat)
        if [(x[0], x[1]) for x in _squash(a)] != [(x[0], x[1]) for x in _squash(b)]:
            shown = ", ".join(f"{v} at beat {float(t):g}" for t, v in _squash(a)[:4])
            mine = ", ".join(f"{v} at beat {float(t):g}" for t, v in _squash(b)[:4])
            notes.append(f"the session's {what} where the song plays ({shown}) differs from the "
                         f"song's ({mine}); the stems follow the song's")
    return notes


def _squash(changes: list) -> list:
    out: list = []
    for c in changes:
        if not out or out[-1][1] != c[1]:
            out.append(c)
    return out


def dedupe(points: list) -> list:
    """Drop points that repeat the one before: the same tempo, or the same meter on one of
    its bar lines (a meter restated off the bar grid starts a new bar there: it stays)."""
    out: list = []
    for p in points:
        if out:
            prev = out[-1]
            if isinstance(p, TempoPoint):
                if p.tempo_bpm == prev.tempo_bpm:
                    continue
            elif ((p.numerator, p.denominator) == (prev.numerator, prev.denominator)
                  and (p.beat - prev.beat) % prev.bar_beats == 0):
                continue
        out.append(p)
    return out


def bar_to_beat(meters: tuple[MeterPoint, ...], bar: int) -> Fraction:
    """Beat at which 1-based ``bar`` starts under ``meters``; a meter change that is not on
    a bar line of the meter before it starts a new bar (as DAWs count)."""
    index, bars_before = bar - 1, 0
    for i, m in enumerate(meters):
        if i + 1 < len(meters):
            span = meters[i + 1].beat - m.beat
            count = math.ceil(span / m.bar_beats)
            if index < bars_before + count:
                return m.beat + (index - bars_before) * m.bar_beats
            bars_before += count
        else:
            return m.beat + (index - bars_before) * m.bar_beats
    raise ValueError("no meters")


def meters_from_bars(bars: list[tuple[int, int, int]]) -> tuple[MeterPoint, ...]:
    """Meter points in beats from ``(1-based bar, numerator, denominator)`` changes."""
    out: list[MeterPoint] = []
    beat, prev_bar = Fraction(0), 1
    for bar, num, den in bars:
        if out:
            beat += (bar - prev_bar) * out[-1].bar_beats
        out.append(MeterPoint(beat, num, den))
        prev_bar = bar
    return tuple(out)


def song_start(bpm0: Fraction, meter0: MeterPoint, at_bar, at_beat, at_s,
                   session: SessionFacts | None):
    """``(start beat, start seconds, session tempo, session meters)``."""
    given = [n for n, v in (("--at-bar", at_bar), ("--at-beat", at_beat), ("--at-s", at_s))
             if v is not None]
    both_times = given == ["--at-beat", "--at-s"] and session is None
    if len(given) > 1 and not both_times:
        raise BridgeError("give the song position once", field=" and ".join(given),
                          allowed="one of --at-bar, --at-beat, --at-s")
    if session is not None:
        tempo, meters = session.tempo, session.meters
    else:
        tempo = (TempoPoint(Fraction(0), bpm0),)
        meters = (MeterPoint(Fraction(0), meter0.numerator, meter0.denominator),)
    for name, v in (("--at-beat", at_beat), ("--at-s", at_s)):
        if v is not None and (not math.isfinite(float(v)) or float(v) < 0):
            raise BridgeError("the song position must be a number >= 0", field=name, value=v,
                              allowed="a number >= 0")
    if at_bar is not None:
        if isinstance(at_bar, bool) or int(at_bar) != at_bar or at_bar < 1 or at_bar > 100000:
            raise BridgeError("the song position must be a bar number", field="--at-bar",
                              value=at_bar, allowed="an integer 1..100000 (1 = the first bar)")
        beat = bar_to_beat(meters, int(at_bar))
        s = SessionFacts("session", "", tempo, meters).beat_to_seconds(beat)
    elif both_times:
        beat, s = as_fraction(at_beat), as_fraction(at_s)
        if (beat == 0) != (s == 0):
            raise BridgeError("the song's start beat and start seconds disagree",
                              field="--at-beat/--at-s", value=(float(at_beat), float(at_s)),
                              allowed="both 0, or both > 0")
        if beat > 0:
            tempo = (TempoPoint(Fraction(0), beat * 60 / s),)
            if not 1 <= tempo[0].tempo_bpm <= 1000:
                raise BridgeError("the song's start beat and start seconds imply an impossible "
                                  "tempo", field="--at-beat/--at-s", value=(float(at_beat), float(at_s)),
                                  allowed="a pair joined by a tempo of 1..1000 bpm")
    elif at_beat is not None:
        beat = as_fraction(at_beat)
        s = SessionFacts("session", "", tempo, meters).beat_to_seconds(beat)
    elif at_s is not None:
        s = as_fraction(at_s)
        beat = SessionFacts("session", "", tempo, meters).seconds_to_beat(s)
    else:
        beat, s = Fraction(0), Fraction(0)
    return beat, s, tuple(tempo), tuple(meters)


def section_position(manifest: dict, sr: int, manifest_file: Path
                     ) -> tuple[Fraction, Fraction, SessionFacts | None] | None:
    """``(beat, seconds, the full song's map or None)`` of a section render in its full song
    (its ``song_position`` block, written by ``ainur serve``), or None for a whole song."""
    pos = manifest.get(SONG_POSITION)
    if pos is None:
        return None
    try:
        song = None
        if "song_tempo_map" in pos and "song_time_signatures" in pos:
            song = SessionFacts(
                "song", str(pos.get("song_title", "")),
                tuple(TempoPoint(as_fraction(float(t["beat"])), Fraction(repr(float(t["tempo_bpm"]))))
                      for t in pos["song_tempo_map"]),
                tuple(MeterPoint(as_fraction(float(m["beat"])), int(m["numerator"]),
                                 int(m["denominator"])) for m in pos["song_time_signatures"]))
        return (as_fraction(float(pos["start_beat"])), Fraction(int(pos["start_sample"]), sr),
                song)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise BridgeError(f"manifest.json has a bad {SONG_POSITION} block",
                          file=str(manifest_file), field=SONG_POSITION, value=pos,
                          allowed="start_beat and start_sample of the section in its song") from None

"""A part's notes as integer spans (audio samples or MIDI ticks), checked and unambiguous.

Both the soundfont renderer (samples) and the MIDI writer (ticks) start from here, so the
audio and the MIDI files agree on every note:

* positions are exact: ``timeline.beat_to_sample(beat)`` for samples (rational arithmetic,
  halves rounded up) and ``floor(beat * ppq + 1/2)`` for ticks. Both are computed vectorised
  in float64 and every value whose fraction lies within ``1e-4`` of a rounding boundary is
  recomputed with :class:`fractions.Fraction`, so the result equals the exact one for any
  song length Ainur supports (float64 error there is below 1e-7 samples);
* a note lasts at least one unit;
* two notes of the same key never overlap: an earlier note ends where the next one of the
  same key starts, and notes of the same key starting on the same unit merge into one (the
  longer end, the louder velocity, the first note's lyric). MIDI readers pair overlapping
  note-ons and note-offs differently (first-in-first-out or last-in-first-out); resolving
  the overlap removes the ambiguity, and the synthesiser then plays what the MIDI says.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Callable, NamedTuple, Sequence

import numpy as np

from ainur_cli.compose.types import Part
from ainur_cli.errors import AinurError, EngineError
from ainur_cli.timeline import Timeline

BOUNDARY_MARGIN = 1e-4  # fractions this close to .0 or 1.0 are re-rounded exactly


class Span(NamedTuple):
    """One note in integer units: ``[on, off)`` with ``off > on``; ``index`` = position of the
    note in ``part.notes`` (for its lyric)."""

    on: int
    off: int
    key: int
    velocity: int
    index: int


def _round_half_up(x: np.ndarray, exact: Callable[[int], int]) -> np.ndarray:
    """``floor(x + 0.5)`` where ``x`` approximates an exact value; ``exact(i)`` recomputes
    element ``i`` exactly when the float is too close to a rounding boundary to trust."""
    shifted = x + 0.5
    out = np.floor(shifted)
    frac = shifted - out
    result = out.astype(np.int64)
    for i in np.flatnonzero((frac < BOUNDARY_MARGIN) | (frac > 1.0 - BOUNDARY_MARGIN)).tolist():
        result[i] = exact(i)
    return result


def beats_to_samples(timeline: Timeline, beats: Sequence[float | Fraction]) -> np.ndarray:
    """``[timeline.beat_to_sample(b) for b in beats]``, exact, about 50x faster.

    :param beats: positions in quarter-note beats (floats, ints or Fractions).
    :returns: int64 array of sample indices, same length.
    """
    beats = list(beats)
    if not beats:
        return np.zeros(0, dtype=np.int64)
    values = np.array([float(b) for b in beats], dtype=np.float64)
    seg_beat = np.array([float(t.beat) for t in timeline.tempo_changes])
    seg_s = np.array([float(timeline.beat_to_seconds(t.beat)) for t in timeline.tempo_changes])
    seg_spb = np.array([60.0 / float(t.tempo_bpm) for t in timeline.tempo_changes])
    i = np.clip(np.searchsorted(seg_beat, values, side="right") - 1, 0, len(seg_beat) - 1)
    seconds = seg_s[i] + (values - seg_beat[i]) * seg_spb[i]
    return _round_half_up(seconds * timeline.sample_rate, lambda k: timeline.beat_to_sample(beats[k]))


def beats_to_ticks(beats: Sequence[float | Fraction], ppq: int) -> np.ndarray:
    """``floor(beat * ppq + 1/2)`` for every beat, exact; int64 array."""
    beats = list(beats)
    if not beats:
        return np.zeros(0, dtype=np.int64)
    values = np.array([float(b) for b in beats], dtype=np.float64)
    return _round_half_up(values * ppq, lambda k: math.floor(Fraction(beats[k]) * ppq + Fraction(1, 2)))


def check_part(part: Part, error: type[AinurError] = EngineError) -> None:
    """Raise ``error`` naming the part and note when a note cannot be played or written.

    Checks: channel 0..15, program 0..127, pitch 0..127, velocity 1..127, start_beat >= 0,
    duration_beats > 0 (all finite).
    """
    if not 0 <= part.channel <= 15:
        raise error("MIDI channel out of range", field=f"parts.{part.name}.channel",
                    value=part.channel, allowed="0..15")
    if not 0 <= part.program <= 127:
        raise error("General MIDI program out of range", field=f"parts.{part.name}.program",
                    value=part.program, allowed="0..127")
    for i, n in enumerate(part.notes):
        where = f"parts.{part.name}.notes[{i}]"
        if not 0 <= n.pitch <= 127:
            raise error("MIDI key out of range", field=f"{where}.pitch", value=n.pitch, allowed="0..127")
        if not 1 <= n.velocity <= 127:
            raise error("MIDI velocity out of range", field=f"{where}.velocity", value=n.velocity,
                        allowed="1..127")
        if not (math.isfinite(n.start_beat) and n.start_beat >= 0):
            raise error("a note starts before the song", field=f"{where}.start_beat",
                        value=n.start_beat, allowed="a finite beat >= 0")
        if not (math.isfinite(n.duration_beats) and n.duration_beats > 0):
            raise error("a note has no length", field=f"{where}.duration_beats",
                        value=n.duration_beats, allowed="a finite number of beats > 0")


def note_spans(part: Part, to_units: Callable[[Sequence], np.ndarray]) -> list[Span]:
    """The part's notes as :class:`Span` s sorted by ``(on, key)``, overlaps resolved.

    :param to_units: maps a list of beats to an int array (e.g.
        ``lambda b: beats_to_samples(timeline, b)``); note ends are ``start + duration``
        evaluated in the notes' own number type.
    """
    notes = part.notes
    if not notes:
        return []
    on = to_units([n.start_beat for n in notes]).tolist()
    off = to_units([n.start_beat + n.duration_beats for n in notes]).tolist()
    by_key: dict[int, list[list[int]]] = {}
    for i, n in enumerate(notes):
        by_key.setdefault(n.pitch, []).append([on[i], max(off[i], on[i] + 1), n.velocity, i])
    spans: list[Span] = []
    for key, items in by_key.items():
        items.sort(key=lambda s: (s[0], s[3]))
        merged: list[list[int]] = []
        for item in items:
            if merged and merged[-1][0] == item[0]:
                last = merged[-1]
                last[1], last[2] = max(last[1], item[1]), max(last[2], item[2])
                continue
            if merged and merged[-1][1] > item[0]:
                merged[-1][1] = item[0]
            merged.append(item)
        spans.extend(Span(s[0], s[1], key, s[2], s[3]) for s in merged)
    spans.sort(key=lambda s: (s.on, s.key))
    return spans


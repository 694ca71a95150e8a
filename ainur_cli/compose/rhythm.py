"""The rhythm of a sung line: one onset per syllable on the beat grid.

A dynamic programme chooses increasing grid positions for the syllables so that

* stressed syllables land on strong positions (downbeat > secondary strong beat > other
  beats > off-beat eighths > sixteenths) and unstressed ones avoid them;
* note lengths stay near a target: the slot's room per syllable, but no longer than a sung
  syllable at speech-like pace (``syllable_beats``: :data:`SUNG_SYLLABLE_S` at the song's
  tempo), and between one grid step and a quarter note; syllables inside a word stay
  close; rests of more than two beats cost;
* the line starts near the slot's start and leaves its last syllable room to be held (at
  most :data:`LINE_END_HOLD_BEATS`, or the style's ``vocals.line_end_beats`` /
  ``vocals.section_end_beats`` for a section's last line; the rest of the slot is a rest
  before the next line);
* a little seeded noise breaks ties, so another seed gives another (equally valid) rhythm.

Costs are vectorised over grid positions with numpy: a 4-bar line in sixteenths takes about
a millisecond.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ainur_cli.compose.meter import EPS, Bars, grid_weights

MAX_GAP_BEATS = 3.0
# A line's syllables are sung about this long at most (before the line-end hold): a
# conversational pop delivery, 3 syllables a second. Spreading a short line over its whole
# slot (a syllable per beat at 104 bpm) sounded like a hymn and was far less intelligible:
# pocketsphinx read the example song's vocal at WER 1.15 that way and 0.93 at this pace with
# the shorter line-end hold (5 seeds; docs/voice.md, session 6; 0.90 once function words
# went on weak beats).
SUNG_SYLLABLE_S = 0.32
LINE_END_HOLD_BEATS = 2.5  # a line's last note is held at most this long (by default)


@dataclass(frozen=True)
class Grid:
    """Grid points of a slot: absolute ``positions`` (beats), metric ``weights`` 0..4."""

    positions: np.ndarray
    weights: np.ndarray
    step: float

    def key(self, origin: float) -> tuple:
        """A hashable description relative to ``origin`` (for memoising rhythms)."""
        return (self.step, tuple(np.round(self.positions - origin, 4)), tuple(self.weights))


def slot_grid(bars: Bars, start: float, end: float, step: float) -> Grid:
    """Grid points every ``step`` beats (restarting at each bar line) in ``[start, end)``."""
    positions, weights = [], []
    i = bars.at(start).index
    while i < len(bars) and bars[i].start < end - EPS:
        b = bars[i]
        offsets, w = grid_weights(b.numerator, b.denominator, step)
        at = b.start + offsets
        keep = (at >= start - EPS) & (at < end - EPS)
        positions.append(at[keep])
        weights.append(w[keep])
        i += 1
    if not positions:
        return Grid(np.zeros(0), np.zeros(0), step)
    return Grid(np.concatenate(positions), np.concatenate(weights), step)


def _stress_cost(stress: int, emphasis: float, weights: np.ndarray) -> np.ndarray:
    if stress == 1:
        return emphasis * 0.8 * (4.0 - weights)
    if stress == 2:
        return emphasis * 0.4 * np.maximum(0.0, 3.0 - weights)
    return emphasis * 0.5 * np.maximum(0.0, weights - 1.0)


def with_points(grid: Grid, beats: list[float]) -> Grid:
    """``grid`` with the positions ``beats`` added where it lacks them (weight 0: off the
    grid, e.g. a pinned triplet or a DAW's lyric tick), kept sorted."""
    pos, w = list(grid.positions), list(grid.weights)
    for b in beats:
        if not any(abs(p - b) < EPS for p in pos):
            k = int(np.searchsorted(np.asarray(pos), b)) if pos else 0
            pos.insert(k, b)
            w.insert(k, 0.0)
    return Grid(np.asarray(pos, dtype=np.float64), np.asarray(w, dtype=np.float64), grid.step)


def place_syllables(stresses: tuple[int, ...], emphasis: tuple[float, ...], word_final: tuple[bool, ...],
                    grid: Grid, span_end: float, rng: np.random.Generator,
                    forced: dict[int, int] | None = None,
                    syllable_beats: float | None = None) -> np.ndarray:
    """Grid indices (increasing) of the syllables' onsets, all before ``span_end``.

    :param stresses: per syllable 1 primary, 2 secondary, 0 none.
    :param emphasis: per syllable, how much its stress matters (lower for one-syllable words).
    :param word_final: per syllable, True when it ends a word (rests may follow it).
    :param forced: syllable index → the grid index it must start on (pinned lyrics); rests
        of any length may then come before a forced syllable.
    :param syllable_beats: the longest typical syllable (beats) at the line's pace, e.g.
        :data:`SUNG_SYLLABLE_S` at the tempo; None: the slot's room alone sets the target.
    :raises ValueError: when there are more syllables than grid points before ``span_end``,
        or the forced positions leave no placement.
    """
    n = len(stresses)
    pos, w = grid.positions, grid.weights
    usable = int(np.count_nonzero(pos < span_end - EPS))
    if n > usable:
        raise ValueError("more syllables than grid points")
    m = len(pos)
    room = span_end - pos[0]
    fill = room * 0.75 / n
    if syllable_beats is not None:
        fill = min(fill, syllable_beats)
    target = min(1.0, max(grid.step, fill)) * float(rng.uniform(0.85, 1.15))
    # A stressed syllable of a longer word wants a longer note, an unstressed one a shorter.
    want = [target * (1.35 if s == 1 and e >= 1 else 0.7 if s == 0 and e >= 1 else 1.0)
            for s, e in zip(stresses, emphasis)]
    place = np.empty((n, m))
    for i in range(n):
        place[i] = _stress_cost(stresses[i], emphasis[i], w)
    place += rng.uniform(0.0, 0.35, size=(n, m))
    place[:, usable:] = np.inf
    max_k = max(1, min(usable - 1, int(math.ceil(MAX_GAP_BEATS / grid.step))))
    for i, q in (forced or {}).items():
        keep = place[i, q]
        place[i] = np.inf
        place[i, q] = keep
        max_k = max(1, usable - 1)
    cost = np.full((n, m), np.inf)
    back = np.zeros((n, m), dtype=np.int64)
    cost[0] = place[0] + 0.3 * (pos - pos[0])
    gaps = [(k, pos[k:] - pos[:-k]) for k in range(1, min(max_k, m - 1) + 1)]
    idx = np.arange(m)
    for i in range(1, n):
        best = np.full(m, np.inf)
        arg = np.zeros(m, dtype=np.int64)
        prev = cost[i - 1]
        for k, gap in gaps:
            gap_cost = 0.9 * np.abs(np.log2(gap / want[i - 1]))
            gap_cost += np.where(gap > 2.0 + EPS, 0.8 + (gap - 2.0), 0.0)
            if not word_final[i - 1]:
                gap_cost += np.where(gap > max(target, 0.5) * 1.5 + EPS, 0.5, 0.0)
            cand = prev[:-k] + gap_cost
            better = cand < best[k:]
            best[k:] = np.where(better, cand, best[k:])
            arg[k:] = np.where(better, idx[:-k], arg[k:])
        cost[i] = best + place[i]
        back[i] = arg
    remaining = span_end - pos
    end_cost = 0.7 * np.maximum(0.0, 1.0 - remaining) + 0.08 * np.maximum(0.0, remaining - 4.0)
    final = cost[n - 1] + end_cost
    last = int(np.argmin(final))
    if not np.isfinite(final[last]):
        raise ValueError("no placement")
    out = np.empty(n, dtype=np.int64)
    out[-1] = last
    for i in range(n - 1, 0, -1):
        out[i - 1] = back[i, out[i]]
    return out


def line_end_holds(vocals: Mapping[str, Any]) -> tuple[float, float]:
    """(line end, section end): the longest a lyric line's last note is held, and the same
    for a section's last line, in beats, from a style's ``vocals:`` block
    (``line_end_beats``, default :data:`LINE_END_HOLD_BEATS`; ``section_end_beats``, default
    the line end). A missing or null field takes its default. The block is validated by
    :func:`ainur_cli.vocals.vocal_settings`."""
    line = vocals.get("line_end_beats")
    line = LINE_END_HOLD_BEATS if line is None else float(line)
    section = vocals.get("section_end_beats")
    return line, line if section is None else float(section)


def durations(onsets: list[float], span_end: float, step: float,
              hold_beats: float = LINE_END_HOLD_BEATS) -> list[float]:
    """Legato lengths: each note lasts until the next (at most 2 beats, then a rest); the
    last is held up to ``span_end`` (at most ``hold_beats``), even when that is less than a
    grid step (a slot that ends off the grid, e.g. in 15/16: a longer note would run into the
    next line's first one); one pinned past ``span_end`` lasts one ``step``."""
    out = []
    for a, b in zip(onsets, onsets[1:]):
        gap = b - a
        out.append(gap if gap <= 2.0 + EPS else 1.5)
    if onsets:
        room = span_end - onsets[-1]
        out.append(min(room, hold_beats) if room > EPS else step)
    return out

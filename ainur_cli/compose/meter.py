"""Bars as the composer sees them: where they start, their beat groups, metric weights, swing.

Positions are floats in quarter-note beats from song start (the composer's working unit; the
timeline's exact fractions are converted once per bar here).

Beat groups: ``x/4`` and ``x/2`` bars group by their denominator note (4/4 = 1+1+1+1 beats);
``x/8`` bars whose numerator is a multiple of 3 are compound (6/8 = two dotted quarters);
other ``x/8`` bars group eighths in twos with a final three (7/8 = 2+2+3 eighths).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from ainur_cli.timeline import Timeline

EPS = 1e-6


@lru_cache(maxsize=64)
def beat_groups(numerator: int, denominator: int) -> tuple[tuple[float, float], ...]:
    """``(offset, length)`` of each beat group of a bar, in quarter-note beats."""
    unit = 4.0 / denominator
    if denominator >= 8 and numerator % 3 == 0:
        sizes = [3] * (numerator // 3)
    elif denominator >= 8 and numerator > 1:
        sizes = [2] * (numerator // 2)
        if numerator % 2:
            sizes[-1] = 3
    else:
        sizes = [1] * numerator
    out, t = [], 0.0
    for s in sizes:
        out.append((t, s * unit))
        t += s * unit
    return tuple(out)


def is_compound(numerator: int, denominator: int) -> bool:
    """6/8, 9/8, 12/8 (and 3/8): beats of three eighths."""
    return denominator >= 8 and numerator % 3 == 0


@lru_cache(maxsize=256)
def grid_weights(numerator: int, denominator: int, step: float) -> tuple[np.ndarray, np.ndarray]:
    """``(offsets, weights)`` of a bar's grid points every ``step`` beats.

    Weights: 4 downbeat, 3 the bar's secondary strong beat (beat 3 of 4/4, the second dotted
    quarter of 6/8), 2 other beat-group starts, 1 half-group points (off-beat eighths; the
    inner eighths of compound beats), 0 anything finer.
    """
    groups = beat_groups(numerator, denominator)
    length = groups[-1][0] + groups[-1][1]
    n = len(groups)
    secondary = n // 2 if n % 2 == 0 else (n // 2 + 1 if n >= 5 else None)
    unit = 4.0 / denominator
    offsets = np.arange(0.0, length - EPS, step)
    weights = np.zeros(len(offsets), dtype=np.float64)
    for i, o in enumerate(offsets):
        g = max(k for k, (start, _) in enumerate(groups) if start <= o + EPS)
        start, glen = groups[g]
        p = o - start
        if abs(p) < EPS:
            weights[i] = 4 if g == 0 else (3 if g == secondary else 2)
        else:
            sub = unit if denominator >= 8 else glen / 2
            weights[i] = 1 if abs(p / sub - round(p / sub)) < EPS else 0
    offsets.setflags(write=False)
    weights.setflags(write=False)
    return offsets, weights


@dataclass(frozen=True)
class Bar:
    """One bar: 0-based ``index``, ``start`` and ``length`` in beats, meter, tempo at its start."""

    index: int
    start: float
    length: float
    numerator: int
    denominator: int
    tempo_bpm: float

    @property
    def end(self) -> float:
        return self.start + self.length

    @property
    def groups(self) -> tuple[tuple[float, float], ...]:
        return beat_groups(self.numerator, self.denominator)

    @property
    def compound(self) -> bool:
        return is_compound(self.numerator, self.denominator)

    @property
    def strong_offsets(self) -> tuple[float, ...]:
        """Offsets of the downbeat and the secondary strong beat (if the meter has one)."""
        offsets, weights = grid_weights(self.numerator, self.denominator, 0.25)
        return tuple(float(o) for o, w in zip(offsets, weights) if w >= 3)

    def seconds_to_beats(self, seconds: float) -> float:
        return seconds * self.tempo_bpm / 60.0


class Bars:
    """All bars of a song with fast lookup by beat."""

    def __init__(self, timeline: Timeline) -> None:
        bars = []
        for i in range(timeline.total_bars):
            m = timeline.meter_at_bar(i)
            start = timeline.bar_to_beat(i)
            bars.append(Bar(i, float(start), float(m.bar_beats), m.numerator, m.denominator,
                            float(timeline.tempo_at_beat(start))))
        self.bars: tuple[Bar, ...] = tuple(bars)
        self.starts = [b.start for b in bars]
        self.end = float(timeline.total_beats)
        self.tempo_beats = [float(t.beat) for t in timeline.tempo_changes]
        self.tempo_bpms = [float(t.tempo_bpm) for t in timeline.tempo_changes]

    def __getitem__(self, i: int) -> Bar:
        return self.bars[i]

    def __len__(self) -> int:
        return len(self.bars)

    def at(self, beat: float) -> Bar:
        """The bar containing ``beat``."""
        return self.bars[max(0, bisect.bisect_right(self.starts, beat + EPS) - 1)]

    def span(self, start_bar: int, count: int) -> Sequence[Bar]:
        return self.bars[start_bar:start_bar + count]

    def tempo_at(self, beat: float) -> float:
        """Tempo in bpm in force at ``beat``."""
        return self.tempo_bpms[max(0, bisect.bisect_right(self.tempo_beats, beat + EPS) - 1)]


def steps_in(length: float, step: float) -> list[float]:
    """Offsets ``0, step, 2*step, ...`` strictly inside a span of ``length`` beats."""
    return [k * step for k in range(int(math.ceil(length / step - EPS)))]


def swing_time(beat: float, bar: Bar, swing: float, unit_beats: float) -> float:
    """Delay the second note of each pair of ``unit_beats`` notes by ``swing`` x the unit.

    A piecewise-linear time warp inside each pair (anchored at the bar start), so on-beat
    positions stay, off-beats move later, and notes keep their order and never overlap more
    than before. ``swing`` 1/3 is a triplet feel. Compound meters are not swung.
    """
    if swing <= 0 or bar.compound:
        return beat
    pair = 2 * unit_beats
    local = beat - bar.start
    k = math.floor(local / pair + EPS)
    if (k + 1) * pair > bar.length + EPS:
        return beat  # an incomplete pair at the end of an odd bar
    x = local - k * pair
    if x <= unit_beats:
        y = x * (1 + swing)
    else:
        y = unit_beats * (1 + swing) + (x - unit_beats) * (1 - swing)
    return bar.start + k * pair + y

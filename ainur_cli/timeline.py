"""Exact song-time maths: bars ⇄ beats ⇄ seconds ⇄ samples under tempo and meter changes.

Units used everywhere in Ainur:

* a **beat** is a quarter note (as in MIDI and in Ableton's song time), counted from song
  start (beat 0);
* a **bar** index is 0-based here (bar 0 is the song's first bar; specs and DAWs say "bar 1");
* a tempo in **bpm** is quarter notes per minute;
* a bar of ``n/d`` lasts ``n * 4 / d`` beats;
* sample positions are ``round(seconds * sample_rate)`` with halves rounded up, computed with
  exact rational arithmetic so that section ranges never drift.

Tempo changes may happen at any beat (DAW-exported MIDI puts them anywhere); meter changes
happen at bar starts.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence, Union

Number = Union[int, float, Fraction]

MIN_TEMPO_BPM = 1.0
MAX_TEMPO_BPM = 400.0
ALLOWED_DENOMINATORS = (1, 2, 4, 8, 16, 32)


def _frac(x: Number) -> Fraction:
    return x if isinstance(x, Fraction) else Fraction(x)


@dataclass(frozen=True)
class TempoChange:
    """Tempo from ``beat`` on (quarter notes from song start) at ``tempo_bpm``."""

    beat: Fraction
    tempo_bpm: Fraction


@dataclass(frozen=True)
class MeterChange:
    """Time signature ``numerator/denominator`` from 0-based ``bar`` on."""

    bar: int
    numerator: int
    denominator: int

    @property
    def bar_beats(self) -> Fraction:
        """Length of one bar in quarter-note beats."""
        return Fraction(self.numerator * 4, self.denominator)


class Timeline:
    """A tempo map + meter map + song length, with exact conversions.

    :param tempo_changes: at least one, the first at beat 0; strictly increasing beats.
    :param meter_changes: at least one, the first at bar 0; strictly increasing bars.
    :param total_bars: song length in bars (> 0).
    :param sample_rate: samples per second of the render.
    :raises ValueError: on inconsistent maps (the spec layer validates user input first and
        raises SpecError; a ValueError here is a programming error).
    """

    def __init__(
        self,
        tempo_changes: Sequence[TempoChange],
        meter_changes: Sequence[MeterChange],
        total_bars: int,
        sample_rate: int,
    ) -> None:
        if not tempo_changes or tempo_changes[0].beat != 0:
            raise ValueError("the tempo map must start at beat 0")
        if not meter_changes or meter_changes[0].bar != 0:
            raise ValueError("the meter map must start at bar 0")
        for a, b in zip(tempo_changes, tempo_changes[1:]):
            if not b.beat > a.beat:
                raise ValueError("tempo changes must be at increasing beats")
        for a, b in zip(meter_changes, meter_changes[1:]):
            if not b.bar > a.bar:
                raise ValueError("meter changes must be at increasing bars")
        for t in tempo_changes:
            if not MIN_TEMPO_BPM <= t.tempo_bpm <= MAX_TEMPO_BPM:
                raise ValueError(f"tempo {t.tempo_bpm} out of range")
        for m in meter_changes:
            if m.numerator < 1 or m.denominator not in ALLOWED_DENOMINATORS:
                raise ValueError(f"bad meter {m.numerator}/{m.denominator}")
        if total_bars < 1:
            raise ValueError("a song has at least one bar")
        self.tempo_changes = tuple(
            TempoChange(_frac(t.beat), _frac(t.tempo_bpm)) for t in tempo_changes
        )
        self.meter_changes = tuple(meter_changes)
        self.total_bars = int(total_bars)
        self.sample_rate = int(sample_rate)
        # Cumulative starts for fast lookup.
        self._tempo_beats = [t.beat for t in self.tempo_changes]
        self._tempo_start_s: list[Fraction] = [Fraction(0)]
        for a, b in zip(self.tempo_changes, self.tempo_changes[1:]):
            self._tempo_start_s.append(self._tempo_start_s[-1] + (b.beat - a.beat) * 60 / a.tempo_bpm)
        self._meter_bars = [m.bar for m in self.meter_changes]
        self._meter_start_beat: list[Fraction] = [Fraction(0)]
        for a, b in zip(self.meter_changes, self.meter_changes[1:]):
            self._meter_start_beat.append(self._meter_start_beat[-1] + (b.bar - a.bar) * a.bar_beats)

    # -- constructors ---------------------------------------------------------------------
    @classmethod
    def constant(
        cls, tempo_bpm: Number, numerator: int, denominator: int, total_bars: int, sample_rate: int
    ) -> "Timeline":
        """One tempo, one meter."""
        return cls(
            [TempoChange(Fraction(0), _frac(tempo_bpm))],
            [MeterChange(0, numerator, denominator)],
            total_bars,
            sample_rate,
        )

    # -- meter ----------------------------------------------------------------------------
    def meter_at_bar(self, bar: int) -> MeterChange:
        """The time signature in force at 0-based ``bar``."""
        i = bisect.bisect_right(self._meter_bars, bar) - 1
        return self.meter_changes[max(i, 0)]

    def bar_beats(self, bar: int) -> Fraction:
        """Length of 0-based ``bar`` in quarter-note beats."""
        return self.meter_at_bar(bar).bar_beats

    def bar_to_beat(self, bar: Number) -> Fraction:
        """Beat at which 0-based ``bar`` starts; a fractional bar is a fraction of that bar."""
        bar = _frac(bar)
        whole = math.floor(bar)
        i = max(bisect.bisect_right(self._meter_bars, whole) - 1, 0)
        m = self.meter_changes[i]
        beat = self._meter_start_beat[i] + (whole - m.bar) * m.bar_beats
        return beat + (bar - whole) * m.bar_beats

    def beat_to_bar(self, beat: Number) -> tuple[int, Fraction]:
        """``(0-based bar, beats into that bar)`` for a beat position."""
        beat = _frac(beat)
        i = max(bisect.bisect_right(self._meter_start_beat, beat) - 1, 0)
        m = self.meter_changes[i]
        offset = beat - self._meter_start_beat[i]
        bars = math.floor(offset / m.bar_beats)
        return m.bar + bars, offset - bars * m.bar_beats

    # -- tempo ----------------------------------------------------------------------------
    def tempo_at_beat(self, beat: Number) -> Fraction:
        """Tempo in bpm in force at ``beat``."""
        i = max(bisect.bisect_right(self._tempo_beats, _frac(beat)) - 1, 0)
        return self.tempo_changes[i].tempo_bpm

    def beat_to_seconds(self, beat: Number) -> Fraction:
        """Exact seconds from song start to ``beat``."""
        beat = _frac(beat)
        i = max(bisect.bisect_right(self._tempo_beats, beat) - 1, 0)
        t = self.tempo_changes[i]
        return self._tempo_start_s[i] + (beat - t.beat) * 60 / t.tempo_bpm

    def seconds_to_beat(self, seconds: Number) -> Fraction:
        """Inverse of :meth:`beat_to_seconds`."""
        seconds = _frac(seconds)
        i = max(bisect.bisect_right(self._tempo_start_s, seconds) - 1, 0)
        t = self.tempo_changes[i]
        return t.beat + (seconds - self._tempo_start_s[i]) * t.tempo_bpm / 60

    def seconds_to_sample(self, seconds: Number) -> int:
        """``round(seconds * sample_rate)``, halves up, exact."""
        return math.floor(_frac(seconds) * self.sample_rate + Fraction(1, 2))

    def beat_to_sample(self, beat: Number) -> int:
        """Sample index of ``beat``."""
        return self.seconds_to_sample(self.beat_to_seconds(beat))

    def bar_to_sample(self, bar: Number) -> int:
        """Sample index of the start of 0-based ``bar``."""
        return self.beat_to_sample(self.bar_to_beat(bar))

    def sample_to_beat(self, sample: int) -> Fraction:
        """Beat position of a sample index."""
        return self.seconds_to_beat(Fraction(sample, self.sample_rate))

    # -- whole song -----------------------------------------------------------------------
    @property
    def total_beats(self) -> Fraction:
        return self.bar_to_beat(self.total_bars)

    @property
    def total_seconds(self) -> Fraction:
        return self.beat_to_seconds(self.total_beats)

    @property
    def total_samples(self) -> int:
        return self.beat_to_sample(self.total_beats)

    def with_sample_rate(self, sample_rate: int) -> "Timeline":
        """The same map at another sample rate."""
        return Timeline(self.tempo_changes, self.meter_changes, self.total_bars, sample_rate)

    def tempo_segments(self) -> list[tuple[Fraction, Fraction, Fraction]]:
        """``(start_beat, end_beat, tempo_bpm)`` for every tempo span inside the song."""
        end = self.total_beats
        out = []
        for i, t in enumerate(self.tempo_changes):
            if t.beat >= end:
                break
            stop = self.tempo_changes[i + 1].beat if i + 1 < len(self.tempo_changes) else end
            out.append((t.beat, min(stop, end), t.tempo_bpm))
        return out

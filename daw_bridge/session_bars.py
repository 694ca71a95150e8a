"""The bars of a DAW session: the bar grid under meter changes, snapping to bar lines, and
the tempo map and meters of a stretch of bars as a song spec holds them.

Positions are session beats (quarter notes from the session start) as exact fractions;
bar indices are 0-based here (messages say "bar N", 1-based, as DAWs do).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

from ainur_cli.errors import SpecError
from ainur_cli.timeline import ALLOWED_DENOMINATORS

from daw_bridge.facts import SessionFacts

MAX_SESSION_BARS = 100_000
#: Bars whose inner beats drift less than this (from tempo changes inside them) are not noted.
DRIFT_NOTE_S = Fraction(1, 1000)


@dataclass(frozen=True)
class Bar:
    """One bar of the session: 0-based ``index``, ``start_beat``, its meter."""

    index: int
    start_beat: Fraction
    numerator: int
    denominator: int

    @property
    def beats(self) -> Fraction:
        return Fraction(self.numerator * 4, self.denominator)

    @property
    def end_beat(self) -> Fraction:
        return self.start_beat + self.beats


def short_meter(length: Fraction, *prefer: int) -> tuple[int, int] | None:
    """A meter n/d whose bar lasts ``length`` beats, trying the denominators in ``prefer``
    (the meters around it) first, then every allowed one."""
    for den in dict.fromkeys((*prefer, *ALLOWED_DENOMINATORS)):
        num = length * den / 4
        if num.denominator == 1 and 1 <= num <= 32:
            return int(num), den
    return None


def bar_grid(facts: SessionFacts, end_beat: Fraction, notes: list[str]) -> list[Bar]:
    """Every bar from beat 0 until ``end_beat`` is covered (the last bar may end after it)."""
    tol = facts.grid_tolerance_beats
    bars: list[Bar] = []
    meters = list(facts.meters)
    mi = 0
    beat = Fraction(0)
    while beat < end_beat or not bars:
        while mi + 1 < len(meters) and meters[mi + 1].beat <= beat + tol:
            mi += 1
        m = meters[mi]
        length = m.bar_beats
        nxt = meters[mi + 1].beat if mi + 1 < len(meters) else None
        num, den = m.numerator, m.denominator
        if nxt is not None and beat < nxt < beat + length - tol:
            short = short_meter(nxt - beat, m.denominator, meters[mi + 1].denominator)
            change = f"{meters[mi + 1].numerator}/{meters[mi + 1].denominator}"
            if short is not None:
                num, den = short
                length = nxt - beat
                notes.append(f"the time signature change to {change} at beat {float(nxt):g} is "
                             f"not on a bar line: bar {len(bars) + 1} becomes a {num}/{den} bar")
            else:
                notes.append(f"the time signature change to {change} at beat {float(nxt):g} is "
                             f"not on a bar line and no meter fits the short bar; it starts at "
                             f"bar {len(bars) + 2}")
        bars.append(Bar(len(bars), beat, num, den))
        beat += length
        if len(bars) > MAX_SESSION_BARS:
            raise SpecError("the session is too long", file=facts.origin, field="length",
                            value=f"{float(end_beat):g} beats",
                            allowed=f"at most {MAX_SESSION_BARS} bars")
    return bars


def grow_bars(facts: SessionFacts, bars: list[Bar], count: int) -> None:
    """Extend ``bars`` in place until it has at least ``count`` bars."""
    if len(bars) < count:
        more = bar_grid(facts, bars[-1].end_beat + 32 * (count - len(bars)), [])
        bars.extend(more[len(bars):count])


def nearest_bar(bars: Sequence[Bar], beat: Fraction) -> int:
    """Index of the bar line nearest to ``beat`` (the earlier one on a tie); may be len(bars)."""
    best, best_d = 0, None
    for i in range(len(bars) + 1):
        line = bars[i].start_beat if i < len(bars) else bars[-1].end_beat
        d = abs(line - beat)
        if best_d is None or d < best_d:
            best, best_d = i, d
        if line > beat:
            break
    return best


def bar_beat_text(bars: Sequence[Bar], beat: Fraction) -> str:
    """``bar 5 beat 2.5`` as a DAW shows it (1-based; beats in the meter's note value)."""
    for b in bars:
        if b.start_beat <= beat < b.end_beat:
            in_bar = (beat - b.start_beat) * b.denominator / 4 + 1
            return f"bar {b.index + 1} beat {float(in_bar):g}"
    return f"beat {float(beat):g}"


def line_of(bars: Sequence[Bar], i: int) -> Fraction:
    return bars[i].start_beat if i < len(bars) else bars[-1].end_beat


def ceil_bar(bars: Sequence[Bar], beat: Fraction, tol: Fraction) -> int:
    """The first bar line at or after ``beat`` (within ``tol``)."""
    for b in bars:
        if b.start_beat >= beat - tol:
            return b.index
    return len(bars)


def section_spans(sections: list[dict], bars: Sequence[Bar]) -> list[tuple[Fraction, Fraction]]:
    spans, i = [], 0
    for s in sections:
        spans.append((bars[i].start_beat, bars[i + s["bars"] - 1].end_beat))
        i += s["bars"]
    return spans


def tempo_map_per_bar(facts: SessionFacts, bars: Sequence[Bar], notes: list[str]) -> list[dict]:
    """One tempo per bar (1-based bars of the song): the tempo that gives the bar its exact
    length in seconds; bars with changes inside are summed up in one note."""
    out: list[dict] = []
    drifting: list[tuple[int, Fraction]] = []
    for n, b in enumerate(bars):
        t0, t1 = facts.beat_to_seconds(b.start_beat), facts.beat_to_seconds(b.end_beat)
        bpm = b.beats * 60 / (t1 - t0)
        inner = facts.tempo_points_between(b.start_beat, b.end_beat)
        if inner:
            drift = max(abs(facts.beat_to_seconds(t.beat) - (t0 + (t.beat - b.start_beat) * 60 / bpm))
                        for t in inner)
            if drift >= DRIFT_NOTE_S:
                drifting.append((n + 1, drift))
        value = float(bpm)
        if not out or out[-1]["bpm"] != value:
            out.append({"bar": n + 1, "bpm": value})
    if drifting:
        worst = max(drifting, key=lambda x: x[1])
        shown = ", ".join(str(b) for b, _ in drifting[:8]) + (", ..." if len(drifting) > 8 else "")
        notes.append(f"{len(drifting)} bar(s) of the song have tempo changes inside them (song "
                     f"bar {shown}): each plays at the one tempo that keeps its bar lines exact; "
                     f"the largest drift inside a bar is {float(worst[1]) * 1000:.1f} ms "
                     f"(song bar {worst[0]})")
    return out


def meters_per_bar(bars: Sequence[Bar]) -> list[dict]:
    out: list[dict] = []
    for n, b in enumerate(bars):
        sig = f"{b.numerator}/{b.denominator}"
        if not out or out[-1]["signature"] != sig:
            out.append({"bar": n + 1, "signature": sig})
    return out

"""Drums: step-string grooves chosen by section energy, adapted to the bar's meter, with fills
into section changes, snare rolls in builds, crashes on section starts and a final hit.

Energy → groove: ``low`` below 0.4, ``mid`` below 0.7, ``high`` from 0.7 (so a verse at the
default 0.5 plays ``mid`` and a chorus at 0.85 ``high``). A groove written for the preset's
``drums.meter`` is played in a bar of another meter as follows, unless ``drums.meters`` has a
groove for that meter: compound bars (6/8, 9/8, 12/8) take one source beat per dotted-quarter
beat, its onset on the first eighth and its off-beat on the third (time keepers — hats,
shakers, ride — on every eighth); other bars play the source bar's events in time, wrapping
around or cut at the bar line (3/4 plays the first three beats of a 4/4 groove).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np

from ainur_cli.compose.meter import EPS, Bar, Bars, is_compound, steps_in
from ainur_cli.compose.types import Note
from ainur_cli.style import DRUM_VOICES, PartStyle, Style

VELOCITY = {"X": 118, "x": 96, "o": 48}
TIMEKEEPERS = frozenset(("hat", "pedal_hat", "open_hat", "shaker", "ride", "tambourine"))
FILL_VOICES = ("snare", "tom_high", "tom_mid", "tom_low")
KEEP_IN_FILL = frozenset(("kick", "hat", "pedal_hat", "shaker"))

Events = tuple[tuple[float, str], ...]


def groove_level(energy: float) -> str:
    """Energy 0..1 → ``low`` (< 0.4), ``mid`` (< 0.7) or ``high``."""
    return "low" if energy < 0.4 else ("mid" if energy < 0.7 else "high")


@lru_cache(maxsize=1024)
def _direct(steps: str, length: float) -> Events:
    step = length / len(steps)
    return tuple((i * step, c) for i, c in enumerate(steps) if c != ".")


@lru_cache(maxsize=1024)
def _adapted(steps: str, src_meter: tuple[int, int], numerator: int, denominator: int,
             timekeeper: bool) -> Events:
    src_len = src_meter[0] * 4 / src_meter[1]
    events = _direct(steps, src_len)
    length = numerator * 4 / denominator
    out: list[tuple[float, str]] = []
    if is_compound(numerator, denominator) and not is_compound(*src_meter):
        src_beats = max(1, int(round(src_len)))
        unit = 4 / denominator
        for g in range(numerator // 3):
            beat = g % src_beats
            base = g * 3 * unit
            for o, c in events:
                if not beat <= o < beat + 1 - EPS:
                    continue
                frac = o - beat
                if frac < EPS:
                    out.append((base, c))
                elif abs(frac - 0.5) < EPS:
                    out.append((base + 2 * unit, c))
                    if timekeeper:
                        out.append((base + unit, c))
    else:
        k = 0
        while k * src_len < length - EPS:
            out.extend((o + k * src_len, c) for o, c in events if o + k * src_len < length - EPS)
            k += 1
    return tuple(sorted(set(out)))


def bar_events(style: Style, level: str, bar: Bar, bar_in_section: int) -> dict[str, Events]:
    """``voice → ((offset in beats, step char), ...)`` of the groove for one bar."""
    drums = style.drums
    meter = (bar.numerator, bar.denominator)
    if meter in drums.meters:
        groove, direct = drums.meters[meter][level], True
    else:
        groove, direct = drums.grooves[level], meter == drums.meter or (
            abs(bar.length - drums.meter[0] * 4 / drums.meter[1]) < EPS
            and bar.compound == is_compound(*drums.meter))
    out = {}
    for voice, bars in groove.items():
        steps = bars[bar_in_section % len(bars)]
        out[voice] = _direct(steps, bar.length) if direct else _adapted(
            steps, drums.meter, bar.numerator, bar.denominator, voice in TIMEKEEPERS)
    return out


def kick_offsets(style: Style, energy: float, bar: Bar, bar_in_section: int) -> list[float]:
    """Offsets of the kick in a bar (for bass patterns that lock to the kick)."""
    events = bar_events(style, groove_level(energy), bar, bar_in_section).get("kick", ())
    offsets = [o for o, _ in events]
    return offsets or [0.0]


def _fill(bar: Bar, length: float, rng: np.random.Generator, energy: float) -> list[Note]:
    """A fill over the last ``length`` beats of ``bar``: snare into descending toms, louder
    towards the end; 16ths (8ths in compound meters or quiet sections)."""
    step = 0.5 if bar.compound or energy < 0.45 else 0.25
    n = max(1, int(round(length / step)))
    start = bar.end - n * step
    notes = []
    for i in range(n):
        if 0 < i < n - 2 and i % 2 == 1 and rng.random() > 0.5 + 0.5 * energy:
            continue
        voice = FILL_VOICES[min(len(FILL_VOICES) - 1, i * len(FILL_VOICES) // n)]
        vel = int(min(124, 72 + 48 * (i + 1) / n))
        notes.append(Note(start + i * step, step, DRUM_VOICES[voice], vel))
    return notes


def _roll(bars: Sequence[Bar], energy: float) -> list[Note]:
    """A snare roll over the last bars of a build: eighths, then sixteenths, crescendo."""
    notes = []
    total = len(bars)
    for k, bar in enumerate(bars):
        step = 0.5 if k < total - 1 else 0.25
        offsets = steps_in(bar.length, step)
        n = len(offsets)
        for i, offset in enumerate(offsets):
            progress = (k * n + i + 1) / (total * n)
            notes.append(Note(bar.start + offset, step, DRUM_VOICES["snare"],
                              int(50 + 70 * progress * (0.7 + 0.3 * energy))))
    return notes


def drum_notes(style: Style, part: PartStyle, bars: Bars, sections: Sequence,
               rng: np.random.Generator) -> list[Note]:
    """Every drum note of the song (GM percussion keys), before swing and humanising."""
    notes: list[Note] = []
    plays = [part.plays_in(s) for s in sections]
    last_bar = len(bars) - 1
    for idx, s in enumerate(sections):
        if not plays[idx]:
            continue
        level = groove_level(s.energy)
        scale = 0.8 + 0.25 * s.energy
        nxt = sections[idx + 1] if idx + 1 < len(sections) else None
        fill_len = 0.0
        roll_bars: Sequence[Bar] = ()
        if nxt is not None and s.kind == "build":
            roll_bars = bars.span(s.start_bar + max(0, s.bars - 2), min(2, s.bars))
        elif nxt is not None and style.drums.fills:
            last = bars[s.start_bar + s.bars - 1]
            lift = nxt.energy > s.energy + 0.05 or nxt.kind in ("chorus", "drop")
            fill_len = min(last.length, 2.0 if lift and s.energy >= 0.4 else 1.0)
            if last.compound:
                fill_len = min(last.length, 1.5)
        roll_from = roll_bars[0].start if roll_bars else None
        for i in range(s.bars):
            bar = bars[s.start_bar + i]
            if bar.index == last_bar:
                break
            fill_from = bar.end - fill_len if fill_len and i == s.bars - 1 else None
            for voice, events in bar_events(style, level, bar, i).items():
                key = DRUM_VOICES[voice]
                for offset, ch in events:
                    t = bar.start + offset
                    if fill_from is not None and t >= fill_from - EPS and voice not in KEEP_IN_FILL:
                        continue
                    if roll_from is not None and t >= roll_from - EPS and voice in ("snare", "clap", "rim"):
                        continue
                    notes.append(Note(t, 0.25, key, max(1, min(127, int(VELOCITY[ch] * scale)))))
            if fill_from is not None:
                notes.extend(_fill(bar, fill_len, rng, max(s.energy, nxt.energy)))
        if roll_bars:
            notes.extend(_roll(roll_bars, s.energy))
        start = float(s.start_beat)
        if style.drums.crash and (idx > 0 or s.energy >= 0.7) and (
                s.energy >= 0.5 or (idx > 0 and plays[idx - 1] and style.drums.fills)):
            notes.append(Note(start, 2.0, DRUM_VOICES["crash"], int(min(127, 104 * scale))))
            notes.append(Note(start, 0.25, DRUM_VOICES["kick"], int(min(127, 110 * scale))))
    final = bars[last_bar]
    if sections and plays[-1]:
        scale = 0.8 + 0.25 * sections[-1].energy
        notes = [n for n in notes if n.start_beat < final.start - EPS]
        if style.drums.crash:
            notes.append(Note(final.start, 2.0, DRUM_VOICES["crash"], int(min(127, 108 * scale))))
        notes.append(Note(final.start, 0.5, DRUM_VOICES["kick"], int(min(127, 112 * scale))))
    return _dedupe(notes)


def _dedupe(notes: list[Note]) -> list[Note]:
    """One hit per (onset, drum key): the loudest wins."""
    best: dict[tuple[float, int], Note] = {}
    for n in notes:
        k = (round(n.start_beat, 6), n.pitch)
        if k not in best or n.velocity > best[k].velocity:
            best[k] = n
    return list(best.values())

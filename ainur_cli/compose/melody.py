"""The melody composer: every lyric syllable gets a note on the beat grid that fits the chord.

Lines are phrased to equal slots of the section (whole bars when they divide evenly), with a
breath before the next line. Stressed syllables get longer notes; a line that does not fit at
the preferred rate is compressed down to 1/8 beat per syllable (with a warning); below that
the spec is rejected. Strong-beat notes are chord tones, others move stepwise in the key; a
phrase rises then falls and ends on a chord tone. The melody of a section depends only on
(seed, section type, lyrics, bars, chords), so a repeated chorus is sung the same way.
"""

from __future__ import annotations

import hashlib
import math
from fractions import Fraction
from typing import Sequence

import numpy as np

from ainur_cli.compose.harmony import chord_at
from ainur_cli.compose.lyrics import LyricLine, parse_lyrics
from ainur_cli.compose.types import ChordEvent, Note
from ainur_cli.errors import SpecError
from ainur_cli.key import Key
from ainur_cli.timeline import Timeline

GRID = 0.25          # beats
MIN_SYLLABLE = 0.125  # beats; faster than this is not singable
MELISMA_SPACE = 2.0   # beats per syllable above which the line's last vowel gets two notes


def _rng(seed: int, *parts: object) -> np.random.Generator:
    h = hashlib.sha256(repr((seed,) + parts).encode()).digest()
    return np.random.default_rng(int.from_bytes(h[:8], "little"))


def _scale_pitches(key: Key, low: int, high: int) -> list[int]:
    pcs = set(key.scale_pcs)
    return [p for p in range(low, high + 1) if p % 12 in pcs]


def _rhythm(n: int, span: float, stresses: Sequence[int]) -> tuple[list[float], bool]:
    """Onsets (beats from slot start) and durations for ``n`` syllables in ``span`` beats.
    Returns (durations, compressed)."""
    pref = min(1.0, max(0.5, math.floor(span / n / GRID) * GRID))
    if n * pref <= span + 1e-9:
        weights = [1.5 if s == 1 else 1.0 for s in stresses]
        total = sum(weights)
        budget = min(span, n * pref * 1.25)
        raw = [w / total * budget for w in weights]
        durs = [max(GRID, round(r / GRID) * GRID) for r in raw]
        while sum(durs) > span + 1e-9:  # trim the longest until it fits
            i = max(range(n), key=lambda k: durs[k])
            durs[i] -= GRID
        return durs, False
    d = span / n
    return [d] * n, True


def compose_line(line: LyricLine, start: float, span: float, chords: Sequence[ChordEvent],
                 timeline: Timeline, key: Key, register: tuple[int, int], rng: np.random.Generator,
                 line_index: int, final: bool) -> tuple[list[Note], bool]:
    """Notes for one lyric line starting at beat ``start`` within ``span`` beats."""
    syllables = line.syllables
    n = len(syllables)
    durs, compressed = _rhythm(n, span, [s.stress for s in syllables])
    low, high = register
    pitches = _scale_pitches(key, low, high)
    mid_index = len(pitches) // 2
    pos = int(rng.integers(max(1, mid_index - 2), mid_index + 2))
    notes: list[Note] = []
    t = start
    for i, (syl, d) in enumerate(zip(syllables, durs)):
        chord = chord_at(chords, t)
        _, in_bar = timeline.beat_to_bar(Fraction(t).limit_denominator(1 << 16))
        strong = float(in_bar) % 1.0 == 0.0 and (syl.stress == 1 or float(in_bar) == 0.0)
        arc = 1 if i < n * 0.55 else -1
        step = int(rng.choice([-1, 0, 1, 1, 2] if arc > 0 else [-2, -1, -1, 0, 1]))
        pos = int(np.clip(pos + step, 1, len(pitches) - 2))
        if strong or i == n - 1:
            # Nearest chord tone to the walk's position.
            tones = [k for k, p in enumerate(pitches) if p % 12 in chord.pitch_classes]
            if tones:
                pos = min(tones, key=lambda k: (abs(k - pos), k))
        if i == n - 1 and final:
            roots = [k for k, p in enumerate(pitches) if p % 12 == chord.root_pc]
            if roots:
                pos = min(roots, key=lambda k: abs(k - pos))
        pitch = pitches[pos]
        is_last = i == n - 1
        lyric = syl.text if syl.text else "-"
        if is_last and not compressed and d >= MELISMA_SPACE and span / n >= MELISMA_SPACE:
            first = math.floor(d / 2 / GRID) * GRID
            notes.append(Note(t, first, pitch, 92, lyric, syl.phones, line_index))
            nxt = pitches[max(0, pos - 1)]
            notes.append(Note(t + first, d - first, nxt, 86, "", (), line_index))
        else:
            notes.append(Note(t, d * (0.95 if d >= 0.5 else 1.0), pitch, 96 if syl.stress == 1 else 86,
                              lyric, syl.phones, line_index))
        t += d
    return notes, compressed


def _slots(section, timeline: Timeline, count: int) -> list[tuple[float, float]]:
    """``count`` equal line slots (start beat, length) over the section, bar-aligned if possible."""
    if section.bars % count == 0:
        per = section.bars // count
        return [(float(timeline.bar_to_beat(section.start_bar + i * per)),
                 float(timeline.bar_to_beat(section.start_bar + (i + 1) * per)
                       - timeline.bar_to_beat(section.start_bar + i * per))) for i in range(count)]
    total = float(section.end_beat - section.start_beat)
    length = math.floor(total / count / GRID) * GRID
    if length <= 0:
        length = total / count
    return [(float(section.start_beat) + i * length, length) for i in range(count)]


def melody_notes(sections, chords: Sequence[ChordEvent], timeline: Timeline, key: Key, seed: int,
                 register: tuple[int, int], warnings: list[str], spec_file: str | None = None) -> list[Note]:
    """The guide melody of every section with lyrics."""
    notes: list[Note] = []
    line_counter = 0
    for s in sections:
        if not s.lyrics:
            continue
        lines = parse_lyrics(s.lyrics)
        singable = [l for l in lines if l.syllables]
        for l in lines:
            if not l.syllables:
                raise SpecError("a lyric line has nothing singable (no letters or numbers)",
                                file=spec_file, field=f"sections[{s.index}].lyrics", value=l.text,
                                allowed="words, letters or numbers")
        if not singable:
            continue
        slots = _slots(s, timeline, len(singable))
        sec_chords = [c for c in chords if s.start_beat <= c.start_beat < s.end_beat]
        rng = _rng(seed, s.kind, s.lyrics, s.bars, tuple(c.symbol for c in sec_chords))
        for i, (line, (start, length)) in enumerate(zip(singable, slots)):
            breath = 1.0 if length >= 4 else (0.5 if length >= 2 else 0.0)
            span = length - breath
            n = len(line.syllables)
            if span / n < MIN_SYLLABLE:
                raise SpecError(
                    f"lyric line {i + 1} of section '{s.name}' has {n} syllables: too many to sing "
                    f"in its {length:g} beats", file=spec_file, field=f"sections[{s.index}].lyrics",
                    value=line.text, allowed=f"at most {int(span / MIN_SYLLABLE)} syllables per line "
                    f"here; add bars or split the section")
            line_notes, compressed = compose_line(
                line, start, span, sec_chords or chords, timeline, key, register, rng,
                line_counter, final=i == len(singable) - 1)
            if compressed:
                warnings.append(f"section '{s.name}', line {i + 1}: {n} syllables in {span:g} beats; "
                                f"sung fast ({span / n:.2f} beats per syllable)")
            notes.extend(line_notes)
            line_counter += 1
    return notes


def hook_notes(sections, chords: Sequence[ChordEvent], timeline: Timeline, key: Key, seed: int,
               register: tuple[int, int]) -> list[Note]:
    """An instrumental two-bar motif for lyric-less intro/instrumental/solo/drop sections."""
    notes: list[Note] = []
    rng = _rng(seed, "hook")
    pitches = _scale_pitches(key, *register)
    rhythm = [(0.0, 1.0), (1.0, 0.5), (1.5, 0.5), (2.0, 1.5), (4.0, 0.5), (4.5, 0.5), (5.0, 1.0), (6.0, 2.0)]
    steps = [int(rng.integers(-2, 3)) for _ in rhythm]
    for s in sections:
        if s.lyrics or s.kind not in ("intro", "instrumental", "solo", "drop", "post-chorus"):
            continue
        start, end = float(s.start_beat), float(s.end_beat)
        t = start
        while t + 8 <= end + 1e-9:
            pos = len(pitches) // 2
            for (off, d), st in zip(rhythm, steps):
                chord = chord_at(chords, t + off)
                pos = int(np.clip(pos + st, 0, len(pitches) - 1))
                tones = [k for k, p in enumerate(pitches) if p % 12 in chord.pitch_classes]
                if off % 2 == 0 and tones:
                    pos = min(tones, key=lambda k: abs(k - pos))
                notes.append(Note(t + off, d * 0.9, pitches[pos], 84))
            t += 8
    return notes

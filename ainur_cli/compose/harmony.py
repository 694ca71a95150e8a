"""Chords over the song: a preset's roman-numeral progressions laid on the sections' bars,
chord lookup by beat, and voice-led voicings for keyboards, pads and guitars.

Mode: a preset's progressions are written for the mode of its own ``key`` (major or minor
third). A song in the other mode plays them in its relative key (a major-mode preset in
A minor uses C as its home tonic), so a preset keeps its chord colours in every key; its
chords then are all in the song's natural scale.
"""

from __future__ import annotations

import bisect
from dataclasses import replace
from functools import lru_cache
from typing import Sequence

from ainur_cli.compose.meter import EPS, Bars
from ainur_cli.compose.roman import RomanChord, parse_chord
from ainur_cli.compose.types import ChordEvent
from ainur_cli.key import FLAT_NAMES, SHARP_NAMES, Key


def home_tonic(style_key: Key, key: Key) -> int:
    """Pitch class the numerals count from: the song's tonic, or its relative major/minor
    when the song's mode (major or minor third) differs from the preset's."""
    if style_key.is_minor == key.is_minor:
        return key.tonic_pc
    return (key.tonic_pc + (3 if key.is_minor else 9)) % 12


def _spell(pc: int, text: str, key: Key) -> str:
    """Root name: flats for a flattened numeral (bVII → Bb), sharps for a raised one."""
    if text[:1] in ("b", "♭"):
        return FLAT_NAMES[pc]
    if text[:1] in ("#", "♯"):
        return SHARP_NAMES[pc]
    return key.pc_name(pc)


def chord_event(chord: RomanChord, tonic_pc: int, key: Key, start: float, length: float) -> ChordEvent:
    root = chord.root_pc(tonic_pc)
    bass = chord.bass_pc(tonic_pc)
    over = f"/{key.pc_name(bass)}" if bass is not None else ""
    symbol = _spell(root, chord.text, key) + chord.suffix + over
    return ChordEvent(start, length, root, chord.pitch_classes(tonic_pc), symbol, bass, chord.text)


def section_chords(style, key: Key, bars: Bars, section, previous: ChordEvent | None) -> list[ChordEvent]:
    """Chords of one section: its kind's progression, cycled bar by bar from its first bar."""
    tonic = home_tonic(style.key, key)
    progression = style.progression(section.kind)
    out: list[ChordEvent] = []
    for i in range(section.bars):
        bar = bars[section.start_bar + i]
        t = bar.start
        for slot in progression[i % len(progression)]:
            length = bar.length * float(slot.fraction)
            if slot.chord is not None:
                out.append(chord_event(slot.chord, tonic, key, t, length))
            elif out:
                out[-1] = replace(out[-1], duration_beats=out[-1].duration_beats + length)
            else:
                held = previous or chord_event(parse_chord("i" if key.is_minor else "I"), key.tonic_pc,
                                               key, t, length)
                out.append(replace(held, start_beat=t, duration_beats=length))
            t += length
    return out


def song_chords(style, key: Key, bars: Bars, sections: Sequence) -> list[ChordEvent]:
    """Chords of every section, contiguous from beat 0 to the song's end."""
    chords: list[ChordEvent] = []
    for s in sections:
        chords.extend(section_chords(style, key, bars, s, chords[-1] if chords else None))
    return chords


class ChordTrack:
    """Sorted, contiguous chords with lookup by beat."""

    def __init__(self, chords: Sequence[ChordEvent]) -> None:
        self.chords = tuple(chords)
        self.starts = [c.start_beat for c in self.chords]

    def index_at(self, beat: float) -> int:
        return max(0, bisect.bisect_right(self.starts, beat + EPS) - 1)

    def at(self, beat: float) -> ChordEvent:
        """The chord sounding at ``beat``."""
        return self.chords[self.index_at(beat)]

    def within(self, start: float, end: float) -> list[ChordEvent]:
        """Chords sounding somewhere in ``[start, end)``."""
        i = self.index_at(start)
        out = []
        while i < len(self.chords) and self.chords[i].start_beat < end - EPS:
            out.append(self.chords[i])
            i += 1
        return out

    def next_change(self, beat: float) -> float | None:
        """Beat of the next chord change after ``beat`` (None after the last chord)."""
        i = self.index_at(beat) + 1
        return self.chords[i].start_beat if i < len(self.chords) else None


def chord_tones(chord: ChordEvent, size: int) -> tuple[int, ...]:
    """At most ``size`` pitch classes of a chord: the fifth is dropped first, then upper
    extensions; root, third and seventh stay."""
    pcs = list(chord.pitch_classes)
    if len(pcs) > size and len(pcs) >= 3 and (pcs[2] - pcs[0]) % 12 in (6, 7, 8):
        pcs.pop(2)
    return tuple(pcs[:size])


@lru_cache(maxsize=4096)
def voicing(pcs: tuple[int, ...], previous: tuple[int, ...] | None, center: int) -> tuple[int, ...]:
    """Close-position MIDI pitches of ``pcs`` around ``center`` that move least from the
    ``previous`` voicing (nearest inversion); without one, the voicing centred on ``center``."""
    best, best_cost = None, None
    n = len(pcs)
    for inv in range(n):
        order = pcs[inv:] + pcs[:inv]
        low = center - 9 + (order[0] - (center - 9)) % 12
        for base in (low, low - 12):
            notes = [base]
            for pc in order[1:]:
                nxt = notes[-1] + 1 + (pc - notes[-1] - 1) % 12
                notes.append(nxt)
            mean = sum(notes) / n
            cost = 0.35 * abs(mean - center)
            if previous:
                prev = sorted(previous)
                cur = sorted(notes)
                if len(prev) == len(cur):
                    cost += sum(abs(a - b) for a, b in zip(prev, cur))
                else:
                    cost += sum(min(abs(a - b) for b in prev) for a in cur)
            if notes[-1] > center + 14 or notes[0] < center - 14:
                cost += 50
            if best_cost is None or cost < best_cost:
                best, best_cost = tuple(notes), cost
    return best

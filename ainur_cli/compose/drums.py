"""Drum grooves from step strings, density by section energy, fills into section changes."""

from __future__ import annotations

import numpy as np

from ainur_cli.compose.types import Note
from ainur_cli.style import DRUM_VOICES, Style
from ainur_cli.timeline import Timeline

VELOCITY = {"X": 118, "x": 96, "o": 52}
CRASH = DRUM_VOICES["crash"]


def groove_level(energy: float) -> str:
    """Energy 0..1 → the preset's groove: low (< 0.45), mid (< 0.75), high."""
    return "low" if energy < 0.45 else ("mid" if energy < 0.75 else "high")


def _fill(start: float, length: float, rng: np.random.Generator, energy: float) -> list[Note]:
    """A 16th-note fill over [start, start+length): snare building into toms, crescendo."""
    notes = []
    steps = int(round(length * 4))
    toms = [DRUM_VOICES["snare"], DRUM_VOICES["tom_high"], DRUM_VOICES["tom_mid"], DRUM_VOICES["tom_low"]]
    density = 0.55 + 0.45 * energy
    for i in range(steps):
        if i % 2 and rng.random() > density:
            continue
        voice = toms[min(len(toms) - 1, i * len(toms) // max(steps, 1))]
        vel = int(70 + 45 * (i + 1) / steps)
        notes.append(Note(start + i * 0.25, 0.25, voice, min(vel, 127)))
    return notes


def drum_notes(style: Style, timeline: Timeline, sections, rng: np.random.Generator) -> list[Note]:
    """All drum notes of the song (GM percussion keys)."""
    notes: list[Note] = []
    for idx, s in enumerate(sections):
        groove = style.grooves[groove_level(s.energy)]
        scale = 0.78 + 0.3 * s.energy
        last = idx == len(sections) - 1
        for i in range(s.bars):
            bar = s.start_bar + i
            start = float(timeline.bar_to_beat(bar))
            length = float(timeline.bar_beats(bar))
            steps = int(round(length * 4))  # 16ths in this bar
            fill_from = None
            if style.fills and not last and i == s.bars - 1 and s.bars >= 2:
                fill_from = length / 2 if s.energy >= 0.45 else length - 1
            for voice, pattern in groove.items():
                key = DRUM_VOICES[voice]
                for step in range(steps):
                    ch = pattern[step % len(pattern)]
                    if ch == ".":
                        continue
                    pos = step * 0.25
                    if fill_from is not None and pos >= fill_from and voice not in ("kick", "hat", "pedal_hat", "shaker"):
                        continue
                    vel = int(min(127, VELOCITY[ch] * scale))
                    notes.append(Note(start + pos, 0.25, key, max(1, vel)))
            if fill_from is not None:
                notes.extend(_fill(start + fill_from, length - fill_from, rng, s.energy))
        if s.energy >= 0.5 and (idx > 0 or s.energy >= 0.7):
            notes.append(Note(float(timeline.bar_to_beat(s.start_bar)), 1.0, CRASH, int(100 * scale)))
    return notes

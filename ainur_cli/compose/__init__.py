"""Composition: chords, bass, drums, keys/pads and a lyric melody — deterministic by seed.

``compose_song`` is the only entry point; it sees the key, seed, style, timeline and placed
sections and returns a :class:`~ainur_cli.compose.types.Composition` in beats.
"""

from __future__ import annotations

import bisect
from dataclasses import replace
from typing import Sequence

import numpy as np

from ainur_cli.compose.accompaniment import arp_notes, bass_notes, chord_notes, pad_notes
from ainur_cli.compose.drums import drum_notes
from ainur_cli.compose.harmony import song_chords
from ainur_cli.compose.melody import hook_notes, melody_notes
from ainur_cli.compose.types import Composition, Note, Part
from ainur_cli.key import Key
from ainur_cli.style import PartStyle, Style
from ainur_cli.timeline import Timeline

__all__ = ["compose_song", "Composition", "Note", "Part"]


def _energy_lookup(sections):
    starts = [float(s.start_beat) for s in sections]

    def energy(beat: float) -> float:
        return sections[max(0, bisect.bisect_right(starts, beat + 1e-9) - 1)].energy

    return energy


def _swing(notes: list[Note], style: Style, timeline: Timeline) -> list[Note]:
    """Delay off-beat 8ths (or 16ths) by ``swing`` x the step (1/3 = triplet feel)."""
    if style.swing <= 0:
        return notes
    step = 0.5 if style.swing_unit == 8 else 0.25
    out = []
    for n in notes:
        pos = n.start_beat / step
        if abs(pos - round(pos)) < 1e-6 and int(round(pos)) % 2 == 1:
            shift = style.swing * step
            n = replace(n, start_beat=n.start_beat + shift, duration_beats=max(0.05, n.duration_beats - shift))
        out.append(n)
    return out


def _humanize(notes: list[Note], style: Style, timeline: Timeline, rng: np.random.Generator) -> list[Note]:
    if not style.humanize_ms and not style.humanize_velocity:
        return notes
    out = []
    for n in notes:
        beats_per_s = float(timeline.tempo_at_beat(n.start_beat)) / 60.0
        jitter = float(rng.uniform(-1, 1)) * style.humanize_ms * 1e-3 * beats_per_s
        vel = n.velocity + int(rng.integers(-style.humanize_velocity, style.humanize_velocity + 1))
        start = max(0.0, n.start_beat + jitter) if n.start_beat > 0 else 0.0
        out.append(replace(n, start_beat=start, velocity=int(np.clip(vel, 1, 127))))
    return out


def _keep_energetic(notes: list[Note], part: PartStyle, sections) -> list[Note]:
    if part.min_energy <= 0:
        return notes
    quiet = [(float(s.start_beat), float(s.end_beat)) for s in sections if s.energy < part.min_energy]
    return [n for n in notes if not any(a <= n.start_beat < b for a, b in quiet)]


def compose_song(*, key: Key, seed: int, style: Style, timeline: Timeline, sections: Sequence,
                 spec_file: str | None = None) -> Composition:
    """Compose every part of the style over the placed ``sections``."""
    chords = song_chords(style, key, timeline, sections)
    energy = _energy_lookup(sections)
    warnings: list[str] = []
    parts: list[Part] = []
    channel = 0
    end_beat = float(timeline.total_beats)
    for index, (name, ps) in enumerate(style.parts.items()):
        rng = np.random.default_rng([seed, index, 7919])
        if ps.role == "drums":
            notes = drum_notes(style, timeline, sections, rng)
        elif ps.role == "bass":
            notes = bass_notes(ps, chords, key, energy, rng)
        elif ps.role == "chords":
            notes = chord_notes(ps, chords, energy, rng)
        elif ps.role == "pad":
            notes = pad_notes(ps, chords, energy, rng)
        elif ps.role == "arp":
            notes = arp_notes(ps, chords, energy, rng)
        else:
            low = 12 * (ps.octave + 1) - 3
            register = (low, low + 19)
            notes = melody_notes(sections, chords, timeline, key, seed, register, warnings, spec_file)
            if style.hook:
                notes += hook_notes(sections, chords, timeline, key, seed, register)
        notes = _keep_energetic(notes, ps, sections)
        if ps.role not in ("pad", "melody"):
            notes = _swing(notes, style, timeline)
            notes = _humanize(notes, style, timeline, rng)
        notes = [n for n in notes if n.start_beat < end_beat]
        notes = [replace(n, duration_beats=min(n.duration_beats, end_beat - n.start_beat)) for n in notes]
        notes.sort(key=lambda n: (n.start_beat, n.pitch))
        if ps.is_drums:
            ch = 9
        else:
            ch = channel
            channel += 1 if channel != 8 else 2
        parts.append(Part(name, ps.program, ps.is_drums, ch, tuple(notes)))
    return Composition(tuple(parts), tuple(chords), {"warnings": warnings})

"""Sustained pads and arpeggiators.

Pads (``role: pad``): ``sustain`` holds each chord (voice-led) for as long as it lasts;
``swell`` does the same and adds the top voice an octave up halfway through long chords.
Arpeggiators (``role: arp``): ``up``, ``down``, ``updown`` or ``random`` through the chord's
voicing and its octave, in sixteenths (``rate: 8``: eighths), accent on each beat.
"""

from __future__ import annotations

import numpy as np

from ainur_cli.compose.context import Context, velocity
from ainur_cli.compose.harmony import chord_tones, voicing
from ainur_cli.compose.keys import register_center
from ainur_cli.compose.meter import EPS, steps_in
from ainur_cli.compose.types import Note
from ainur_cli.style import PartStyle


def _spans(part: PartStyle, ctx: Context):
    """``(section, start, end)`` of the stretches a part plays (whole sections, minus the
    song's final bar and, for the hook part, its hook sections)."""
    last = ctx.final_bar.start
    for s in ctx.sections:
        if not part.plays_in(s) or (part.hook and s.index in ctx.hook_sections):
            continue
        start, end = float(s.start_beat), min(float(s.end_beat), last)
        if end > start + EPS:
            yield s, start, end


def pad_notes(part: PartStyle, ctx: Context, rng: np.random.Generator) -> list[Note]:
    """Held chords over every section the pad plays."""
    center = register_center(part)
    prev = None
    notes: list[Note] = []
    for s, start, end in _spans(part, ctx):
        vel = velocity(part.velocity, s.energy)
        for c in ctx.chords.within(start, end):
            a, b = max(start, c.start_beat), min(end, c.start_beat + c.duration_beats)
            v = voicing(chord_tones(c, 4), prev, center)
            prev = v
            notes += [Note(a, b - a, p, vel) for p in v]
            if part.pattern == "swell" and b - a >= 4 - EPS:
                half = a + (b - a) / 2
                notes.append(Note(half, b - half, v[-1] + 12, max(1, int(vel * 0.8))))
    return notes


def arp_notes(part: PartStyle, ctx: Context, rng: np.random.Generator) -> list[Note]:
    """Arpeggiated chords in sixteenths (or eighths) over every bar the part plays."""
    center = register_center(part)
    step = 0.5 if part.rate == 8 else 0.25
    notes: list[Note] = []
    for s, bar, _ in ctx.playing(part):
        for k, offset in enumerate(steps_in(bar.length, step)):
            t = bar.start + offset
            chord = ctx.chords.at(t)
            v = voicing(chord_tones(chord, 3), None, center)
            ladder = list(v) + [p + 12 for p in v]
            if part.pattern == "down":
                ladder = ladder[::-1]
            elif part.pattern == "updown":
                ladder = ladder + ladder[-2:0:-1]
            if part.pattern == "random":
                pitch = ladder[int(rng.integers(len(ladder)))]
            else:
                pitch = ladder[k % len(ladder)]
            accent = 1.0 if abs(offset % 1) < EPS else 0.82
            vel = velocity(part.velocity, s.energy, accent)
            notes.append(Note(t, min(step * 0.9, bar.end - t), pitch, vel))
    return notes

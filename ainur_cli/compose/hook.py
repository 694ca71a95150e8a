"""The instrumental hook: a short motif the hook part plays in lyric-less sections.

The motif is the opening ``hook.bars`` bars of the first chorus's melody when the song has a
sung chorus (so the intro announces the chorus), otherwise a motif made from the seed. It is
repeated every ``hook.bars`` bars of each hook section (lyric-less sections whose kind is in
``hook.sections``), moved by octaves into the part's register, and fitted to the chords
there: a note on a beat that is not a chord tone moves to the nearest chord tone, any other
note outside the key and chord to the nearest scale tone.
"""

from __future__ import annotations

from dataclasses import replace

from ainur_cli.compose.context import Context, velocity
from ainur_cli.compose.keys import register_center
from ainur_cli.compose.melody import Melody, singer_range
from ainur_cli.compose.meter import EPS
from ainur_cli.compose.pitch import choose_pitches, nearest_allowed
from ainur_cli.compose.rhythm import slot_grid
from ainur_cli.compose.seeds import rng_for
from ainur_cli.compose.types import Note
from ainur_cli.style import PartStyle

KEEP_PROBABILITY = {4: 1.0, 3: 1.0, 2: 0.7, 1: 0.45, 0: 0.0}


def hook_sections(ctx_style, sections) -> frozenset:
    """Indexes of the sections where the hook plays."""
    hook = ctx_style.hook
    if hook is None:
        return frozenset()
    return frozenset(s.index for s in sections if not s.lyrics and s.kind in hook.sections)


def _range(part: PartStyle) -> tuple[int, int]:
    if part.role == "melody":
        return singer_range(part.octave)
    c = register_center(part)
    return c - 10, c + 12


def _generated(ctx: Context, part: PartStyle, first, length: float, low: int, high: int):
    """A motif from the seed over ``length`` beats from the first hook section's start."""
    rng = rng_for(ctx.seed, "hook", part.name)
    start = float(first.start_beat)
    grid = slot_grid(ctx.bars, start, min(start + length, float(first.end_beat)), 0.5)
    picks = [(float(t), int(w)) for t, w in zip(grid.positions, grid.weights)
             if t < start + length - 1.0 - EPS and rng.random() < KEEP_PROBABILITY[int(w)]]
    if not picks:
        picks = [(start, 4)]
    onsets = [t for t, _ in picks]
    chords = [ctx.chords.at(t) for t in onsets]
    pitches = choose_pitches(
        strong=[w >= 2 for _, w in picks], chords=[(c.pitch_classes, c.root_pc) for c in chords],
        scale=frozenset(ctx.key.scale_pcs), low=low, high=high, center=(low + high) / 2,
        final=True, tonic_pc=ctx.key.tonic_pc, rng=rng)
    ends = onsets[1:] + [start + length - 0.5]
    return [(t - start, min(1.5, e - t), p) for t, e, p in zip(onsets, ends, pitches)]


def hook_notes(part: PartStyle, ctx: Context, melody: Melody) -> list[Note]:
    """The hook part's notes in every hook section."""
    hook = ctx.style.hook
    sections = [s for s in ctx.sections if s.index in ctx.hook_sections]
    if hook is None or not sections:
        return []
    low, high = _range(part)
    first = sections[0]
    length = ctx.bars[first.start_bar].length * hook.bars
    motif = [(o, d, p) for o, d, p in melody.chorus_motif if o < length - EPS]
    if not motif:
        motif = _generated(ctx, part, first, length, low, high)
    mean = sum(p for _, _, p in motif) / len(motif)
    shift = 12 * round(((low + high) / 2 - mean) / 12)
    scale = frozenset(ctx.key.scale_pcs)
    last = ctx.final_bar.start
    notes: list[Note] = []
    for s in sections:
        end = min(float(s.end_beat), last)
        for r in range(0, s.bars, hook.bars):
            start = ctx.bars[s.start_bar + r].start
            for offset, length_beats, pitch in motif:
                t = start + offset
                if t >= end - EPS:
                    break
                chord = ctx.chords.at(t)
                bar = ctx.bars.at(t)
                on_beat = any(abs(t - bar.start - g) < EPS for g, _ in bar.groups)
                p = pitch + shift
                if on_beat and p % 12 not in chord.pitch_classes:
                    p = nearest_allowed(p, chord.pitch_classes, scale, low, high, prefer_chord=True)
                elif p % 12 not in scale and p % 12 not in chord.pitch_classes or not low <= p <= high:
                    p = nearest_allowed(p, chord.pitch_classes, scale, low, high, prefer_chord=False)
                d = min(length_beats, end - t)
                notes.append(Note(t, d, p, velocity(part.velocity, s.energy, 0.95)))
    notes.sort(key=lambda n: n.start_beat)
    for k in range(len(notes) - 1):  # one voice: a note ends where the next begins
        gap = notes[k + 1].start_beat - notes[k].start_beat
        if notes[k].duration_beats > gap:
            notes[k] = replace(notes[k], duration_beats=gap)
    return [n for n in notes if n.duration_beats > EPS]


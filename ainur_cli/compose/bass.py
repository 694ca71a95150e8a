"""Bass lines that follow the chords (the inversion's bass note when a chord has one).

Patterns (``parts.bass.pattern``):

* ``root`` — the chord's bass note on the bar's strong beats and at every chord change;
* ``root_fifth`` — root on the strong beats, fifth in between (country, folk, ballads);
* ``walking`` — a note per beat: root, chord tones, then a chromatic step into the next root;
* ``eighths`` — the root on every eighth (``rate: 16``: sixteenth), accents on the beats (rock);
* ``octave`` — eighths (``rate: 16`` sixteenths) alternating root and octave (disco, synthwave);
* ``offbeat`` — short roots on the off-beat eighths (house);
* ``syncopated`` — a 16th-note funk/hip-hop figure of root, octave and fifth;
* ``kick`` — short root notes on the drum groove's kicks (house, pop);
* ``sub`` — long 808-style root notes from kick to kick (trap, hip-hop).

Below energy 0.3 every pattern except ``sub`` plays ``root`` (quiet intros stay simple).
"""

from __future__ import annotations

import numpy as np

from ainur_cli.compose.context import Context, pitch_in_octave, velocity
from ainur_cli.compose.drums import kick_offsets
from ainur_cli.compose.meter import EPS, Bar, steps_in
from ainur_cli.compose.types import ChordEvent, Note
from ainur_cli.style import PartStyle

# Syncopated figure per beat cell: (offset in the beat, tone, length, accent); tone R root,
# O octave, F fifth.
_FUNK_CELLS = (
    ((0.0, "R", 0.5, 1.0), (0.75, "R", 0.25, 0.8)),
    ((0.5, "O", 0.5, 0.85),),
    ((0.0, "R", 0.25, 0.9), (0.5, "F", 0.5, 0.85)),
    ((0.25, "R", 0.25, 0.75), (0.5, "O", 0.25, 0.8), (0.75, "R", 0.25, 0.8)),
)


def _root(chord: ChordEvent, part: PartStyle) -> int:
    return pitch_in_octave(chord.bass, part.octave, -5)


def _tone(chord: ChordEvent, tone: str, part: PartStyle) -> int:
    root = _root(chord, part)
    if tone == "O":
        return root + 12
    if tone == "F":
        fifth = next((pc for pc in chord.pitch_classes if (pc - chord.root_pc) % 12 in (6, 7, 8)), None)
        return root + ((fifth - chord.bass) % 12 if fifth is not None else 7)
    return root


def _onsets(pattern: str, bar: Bar, ctx: Context, part: PartStyle, energy: float, i: int):
    """``[(offset, tone, length or None, accent)]`` for one bar (None = until the next)."""
    groups = bar.groups
    if pattern in ("root", "root_fifth"):
        strong = list(bar.strong_offsets)
        if pattern == "root_fifth" and len(strong) == 1 and len(groups) > 1:
            strong.append(groups[-1][0])
        out = [(o, "R" if k % 2 == 0 or pattern == "root" else "F", None, 1.0 if k == 0 else 0.9)
               for k, o in enumerate(strong)]
        if energy >= 0.6 and bar.length >= 2:
            out.append((bar.length - 0.5, "A", 0.5, 0.8))
        return out
    if pattern == "walking":
        return [(o, "W", g * 0.9, 1.0 if k == 0 else 0.9) for k, (o, g) in enumerate(groups)]
    if pattern in ("octave", "eighths"):
        step = 0.25 if part.rate == 16 else 0.5
        return [(o, "O" if k % 2 and pattern == "octave" else "R", step * 0.8,
                 1.0 if abs(o % 1) < EPS else 0.8) for k, o in enumerate(steps_in(bar.length, step))]
    if pattern == "offbeat":
        spots = [g + length * 2 / 3 if bar.compound else g + length / 2 for g, length in groups]
        return [(o, "R", 0.4, 0.95) for o in spots if o < bar.length - EPS]
    if pattern == "syncopated":
        out = []
        for k, (o, g) in enumerate(groups):
            for off, tone, length, acc in _FUNK_CELLS[k % len(_FUNK_CELLS)]:
                at = round(off * g * 4) / 4
                if at < g - EPS:
                    out.append((o + at, tone, length * g, acc))
        return out
    kicks = kick_offsets(ctx.style, energy, bar, i)
    if pattern == "kick":
        return [(o, "R", 0.45 if k % 2 else 0.7, 1.0 if k == 0 else 0.9) for k, o in enumerate(kicks)]
    return [(o, "R", None, 1.0 if k == 0 else 0.85) for k, o in enumerate(kicks)]  # sub


def bass_notes(part: PartStyle, ctx: Context, rng: np.random.Generator) -> list[Note]:
    """The bass part over every bar it plays, before swing and humanising."""
    notes: list[Note] = []
    for s, bar, i in ctx.playing(part):
        pattern = part.pattern if s.energy >= 0.3 or part.pattern == "sub" else "root"
        events = [e for e in _onsets(pattern, bar, ctx, part, s.energy, i) if e[0] < bar.length - EPS]
        if pattern in ("root", "root_fifth", "sub"):
            changes = [c.start_beat - bar.start for c in ctx.chords.within(bar.start, bar.end)
                       if c.start_beat > bar.start + EPS]
            have = {round(o, 4) for o, *_ in events}
            events += [(o, "R", None, 0.95) for o in changes if round(o, 4) not in have]
            events = [e for e in events
                      if not (e[1] == "A" and any(abs(e[0] - c) < 0.5 + EPS for c in changes))]
        events.sort(key=lambda e: e[0])
        for k, (offset, tone, length, accent) in enumerate(events):
            t = bar.start + offset
            nxt = events[k + 1][0] + bar.start if k + 1 < len(events) else bar.end
            if length is None:
                length = max(0.25, (nxt - t) * 0.95)
            chord = ctx.chords.at(t)
            if tone == "A":  # approach the next bar's root from a semitone below
                target = ctx.chords.at(bar.end + EPS) if bar.end < ctx.bars.end - EPS else chord
                pitch = _root(target, part) - 1
            elif tone == "W":
                pitch = _walk(chord, ctx, part, t, offset, bar, k)
            else:
                pitch = _tone(chord, tone, part)
            notes.append(Note(t, min(length, bar.end - t), pitch, velocity(part.velocity, s.energy, accent)))
    return notes


def _walk(chord: ChordEvent, ctx: Context, part: PartStyle, t: float, offset: float, bar: Bar, k: int) -> int:
    """Walking bass: root on a chord's first beat, chord tones after, a chromatic approach
    on the beat before a change."""
    root = _root(chord, part)
    change = ctx.chords.next_change(t)
    group_len = bar.groups[k][1]
    if change is not None and change - t <= group_len + EPS and chord.start_beat < t - EPS:
        nxt = _root(ctx.chords.at(change + EPS), part)
        return nxt - 1 if nxt > root else nxt + 1
    if abs(chord.start_beat - t) < EPS:
        return root
    beat_in_chord = int(round((t - chord.start_beat) / group_len))
    tones = [pc for pc in chord.pitch_classes[1:3]] or [chord.root_pc]
    pc = tones[(beat_in_chord - 1) % len(tones)]
    return root + (pc - chord.bass) % 12

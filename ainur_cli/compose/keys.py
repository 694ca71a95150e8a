"""Chord instruments (keys, guitar, organ...): voice-led voicings played in a pattern.

Patterns (``role: chords``):

* ``block`` — the chord on the bar's strong beats and at every chord change;
* ``pulse`` — repeated chords on every eighth (``rate: 16``: sixteenth), accents on beats;
* ``stabs`` — short chords on the off-beats (house, ska);
* ``offbeat`` — short chords on the backbeats (reggae skank; oom-pah-pah in 3/4);
* ``broken`` — the bass note on strong beats, the upper voices on the other beats (ballad piano);
* ``arpeggio`` — the voicing broken into eighths (or sixteenths), up and down;
* ``strum`` — guitar strums: down and up strokes, strings 12 ms apart, upstrokes lighter;
* ``power`` — power chords (root, fifth, octave) in palm-muted eighths, open when loud;
* ``comp`` — syncopated shell voicings (third, seventh, colour) chosen per bar from the seed.

Voicings move to the nearest inversion of the next chord (voice leading) around the part's
register: its ``octave`` (4 = middle C) with the centre on that octave's E.
"""

from __future__ import annotations

import numpy as np

from ainur_cli.compose.context import Context, pitch_in_octave, velocity
from ainur_cli.compose.harmony import chord_tones, voicing
from ainur_cli.compose.meter import EPS, Bar, steps_in
from ainur_cli.compose.types import Note
from ainur_cli.style import PartStyle

STRING_GAP_S = 0.012


def register_center(part: PartStyle) -> int:
    return 12 * (part.octave + 1) + 4


def _grid(bar: Bar, step: float) -> list[float]:
    return steps_in(bar.length, step)


def _events(part: PartStyle, bar: Bar, energy: float, changes: list[float], rng: np.random.Generator):
    """``[(offset, length or None, accent, what)]`` for one bar; None = until the next."""
    groups, pattern = bar.groups, part.pattern
    step = 0.25 if part.rate == 16 else 0.5
    if pattern == "block":
        offsets = sorted(set(bar.strong_offsets) | set(changes))
        return [(o, None, 1.0 if o == 0 else 0.88, "chord") for o in offsets]
    if pattern == "pulse":
        if energy < 0.4:
            step *= 2
        return [(o, step * 0.8, 1.0 if any(abs(o - g) < EPS for g, _ in groups) else 0.78, "chord")
                for o in _grid(bar, step)]
    if pattern in ("stabs", "offbeat"):
        if bar.compound:
            unit = 4 / bar.denominator
            spots = [g + d * unit for g, _ in groups for d in ((1, 2) if pattern == "stabs" else (2,))]
        elif pattern == "stabs":
            spots = [g + length / 2 for g, length in groups]
        else:
            spots = [g for k, (g, _) in enumerate(groups) if k % 2 == 1 or (len(groups) == 3 and k)]
        return [(o, 0.3, 0.92, "chord") for o in spots]
    if pattern == "broken":
        lows = sorted(set(bar.strong_offsets) | set(changes))
        ups = [g for g, _ in groups if all(abs(g - o) > EPS for o in lows)]
        if energy >= 0.6:
            ups += [g + length / 2 for g, length in groups]
        return ([(o, None, 1.0, "bass") for o in lows] + [(o, None, 0.8, "upper") for o in sorted(ups)])
    if pattern == "arpeggio":
        return [(o, step * 0.95, 0.95 if k % 4 == 0 else 0.8, ("arp", k))
                for k, o in enumerate(_grid(bar, step))]
    if pattern == "strum":
        return [(o, None, acc, ("strum", d)) for o, d, acc in _strokes(bar, energy)]
    if pattern == "power":
        open_ = energy >= 0.75
        return [(o, 0.45 if not open_ else 0.48, 1.0 if abs(o % 1) < EPS else 0.85, "power")
                for o in _grid(bar, 0.5)]
    # comp: two or three syncopated hits per bar, from the seed
    spots = [o for o in _grid(bar, 0.5) if o > 0]
    k = min(len(spots), 2 + int(rng.random() < energy))
    weights = np.array([2.0 if abs(o % 1 - 0.5) < EPS else 1.0 for o in spots])
    chosen = sorted(rng.choice(spots, size=k, replace=False, p=weights / weights.sum())) if spots else []
    if changes:
        chosen = sorted(set(chosen) | set(changes))
    return [(float(o), 0.45, 0.9, "shell") for o in chosen]


def _strokes(bar: Bar, energy: float) -> list[tuple[float, int, float]]:
    """``(offset, direction +1 down / -1 up, accent)`` of one bar's strumming."""
    if energy < 0.4:
        return [(o, 1, 1.0 if o == 0 else 0.85) for o in bar.strong_offsets]
    if bar.compound:
        out = []
        for g, length in bar.groups:
            out += [(g, 1, 1.0 if g == 0 else 0.9), (g + length * 2 / 3, -1, 0.72)]
        return out
    if bar.numerator == 4 and bar.denominator == 4:
        return [(0.0, 1, 1.0), (1.0, 1, 0.9), (1.5, -1, 0.72), (2.5, -1, 0.72), (3.0, 1, 0.9), (3.5, -1, 0.7)]
    out = []
    for k, (g, length) in enumerate(bar.groups):
        out.append((g, 1, 1.0 if k == 0 else 0.88))
        if k:
            out.append((g + length / 2, -1, 0.72))
    return out


def chord_notes(part: PartStyle, ctx: Context, rng: np.random.Generator) -> list[Note]:
    """A chord instrument over every bar it plays, before swing and humanising."""
    center = register_center(part)
    prev: tuple[int, ...] | None = None
    notes: list[Note] = []
    for s, bar, i in ctx.playing(part):
        changes = [c.start_beat - bar.start for c in ctx.chords.within(bar.start, bar.end)
                   if c.start_beat > bar.start + EPS]
        events = sorted((e for e in _events(part, bar, s.energy, changes, rng) if e[0] < bar.length - EPS),
                        key=lambda e: e[0])
        for k, (offset, length, accent, what) in enumerate(events):
            t = bar.start + offset
            if length is None:
                nxt = next((e[0] for e in events[k + 1:] if e[0] > offset + EPS), bar.length)
                length = max(0.25, (nxt - offset) * 0.95)
            length = min(length, bar.end - t)
            chord = ctx.chords.at(t)
            vel = velocity(part.velocity, s.energy, accent)
            if what == "power":
                root = pitch_in_octave(chord.root_pc, part.octave - 1, 4)
                notes += [Note(t, length, p, vel) for p in (root, root + 7, root + 12)]
                continue
            size = 3 if what == "shell" else 4
            tones = chord_tones(chord, size + (1 if what == "shell" and len(chord.pitch_classes) > 3 else 0))
            if what == "shell" and len(tones) >= 3:
                tones = tones[1:]
            v = voicing(tones, prev, center)
            prev = v
            if what in ("chord", "shell"):
                notes += [Note(t, length, p, vel) for p in v]
            elif what == "bass":
                notes.append(Note(t, length, pitch_in_octave(chord.bass, part.octave - 1, -3), vel))
            elif what == "upper":
                notes += [Note(t, length, p, vel) for p in v[1:]]
            elif what[0] == "arp":
                ladder = list(v) + [v[1] + 12 if len(v) > 1 else v[0] + 12]
                cycle = ladder + ladder[-2:0:-1]
                notes.append(Note(t, length, cycle[what[1] % len(cycle)], vel))
            else:  # strum
                notes += _strum(t, length, what[1], v, chord, part, bar, vel)
    return notes


def _strum(t: float, length: float, direction: int, v: tuple[int, ...], chord, part: PartStyle,
           bar: Bar, vel: int) -> list[Note]:
    low = pitch_in_octave(chord.bass, part.octave - 2, 4)
    strings = sorted(set(v) | {low, low + 7 if low + 7 < min(v) else low})
    if direction < 0:
        strings = strings[::-1][:4]
    gap = bar.seconds_to_beats(STRING_GAP_S)
    return [Note(t + k * gap, max(0.1, length - k * gap), p, vel if k < 3 else max(1, vel - 6))
            for k, p in enumerate(strings)]

"""Bass, chord instruments (keys, guitar), pads and arpeggios, following the chords."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ainur_cli.compose.harmony import nearest_voicing
from ainur_cli.compose.types import ChordEvent, Note
from ainur_cli.key import Key
from ainur_cli.style import PartStyle


def _vel(part: PartStyle, energy: float, accent: float = 1.0) -> int:
    return int(max(1, min(127, part.velocity * (0.75 + 0.35 * energy) * accent)))


def _in_register(pc: int, octave: int) -> int:
    """The pitch of pitch class ``pc`` in MIDI octave ``octave`` (C4 = 60)."""
    return 12 * (octave + 1) + pc


def bass_notes(part: PartStyle, chords: Sequence[ChordEvent], key: Key, energies, rng) -> list[Note]:
    notes = []
    for i, c in enumerate(chords):
        e = energies(c.start_beat)
        root = _in_register(c.root_pc, part.octave)
        fifth = root + 7
        nxt = chords[i + 1] if i + 1 < len(chords) else c
        d = c.duration_beats
        pat = part.pattern if e >= 0.35 else "root"
        if pat == "sub":
            notes.append(Note(c.start_beat, d * 0.95, root - 12 if root > 36 else root, _vel(part, e)))
        elif pat == "root":
            step = 2.0 if d >= 2 else d
            t = 0.0
            while t < d - 1e-9:
                notes.append(Note(c.start_beat + t, min(step, d - t) * 0.95, root, _vel(part, e, 1.0 if t == 0 else 0.9)))
                t += step
        elif pat == "root_fifth":
            half = d / 2
            notes.append(Note(c.start_beat, half * 0.9, root, _vel(part, e)))
            notes.append(Note(c.start_beat + half, half * 0.9, fifth if d >= 2 else root, _vel(part, e, 0.9)))
        elif pat == "octave_pulse":
            t = 0.0
            while t < d - 1e-9:
                pitch = root + (12 if int(round(t * 2)) % 2 else 0)
                notes.append(Note(c.start_beat + t, 0.4, pitch, _vel(part, e, 1.0 if t % 1 == 0 else 0.85)))
                t += 0.5
        elif pat == "syncopated":
            for pos, pitch, acc in ((0.0, root, 1.0), (0.75, root, 0.8), (1.5, root + 12, 0.85),
                                    (2.5, fifth, 0.9), (3.25, root, 0.8)):
                if pos < d - 1e-9:
                    notes.append(Note(c.start_beat + pos, min(0.5, d - pos) * 0.9, pitch, _vel(part, e, acc)))
        elif pat == "walking":
            target = _in_register(nxt.root_pc, part.octave)
            beats = max(1, int(round(d)))
            line = [root]
            for b in range(1, beats):
                if b == beats - 1:
                    line.append(target - 1 if target > line[-1] else target + 1)  # chromatic approach
                else:
                    line.append(_in_register(c.pitch_classes[b % len(c.pitch_classes)], part.octave))
            for b, pitch in enumerate(line):
                notes.append(Note(c.start_beat + b, 0.9, pitch, _vel(part, e, 1.0 if b == 0 else 0.88)))
    return notes


def chord_notes(part: PartStyle, chords: Sequence[ChordEvent], energies, rng) -> list[Note]:
    notes = []
    center = _in_register(0, part.octave) + 4
    prev = None
    for c in chords:
        e = energies(c.start_beat)
        voicing = nearest_voicing(c.pitch_classes, prev, center)
        prev = voicing
        d = c.duration_beats
        pat = part.pattern
        if pat == "block":
            step = 2.0 if d >= 2 else d
            t = 0.0
            while t < d - 1e-9:
                for p in voicing:
                    notes.append(Note(c.start_beat + t, min(step, d - t) * 0.92, p, _vel(part, e, 1.0 if t == 0 else 0.85)))
                t += step
        elif pat in ("stabs", "offbeat"):
            t = 0.5
            while t < d - 1e-9:
                for p in voicing:
                    notes.append(Note(c.start_beat + t, 0.3, p, _vel(part, e, 0.95)))
                t += 1.0
        elif pat == "arpeggio":
            order = voicing + [voicing[1] + 12] if len(voicing) > 1 else voicing
            t, k = 0.0, 0
            while t < d - 1e-9:
                notes.append(Note(c.start_beat + t, 0.45, order[k % len(order)], _vel(part, e, 0.9)))
                t += 0.5
                k += 1
        elif pat == "broken":
            bass = voicing[0] - 12
            notes.append(Note(c.start_beat, min(d, 2.0) * 0.95, bass, _vel(part, e)))
            t = 1.0
            while t < d - 1e-9:
                for p in voicing[1:]:
                    notes.append(Note(c.start_beat + t, min(1.0, d - t) * 0.9, p, _vel(part, e, 0.8)))
                t += 1.0
        elif pat == "strum":
            # Down-up strumming on 8ths: D . D U . U D U ; strings 12 ms apart (≈0.02 beats).
            strokes = [(0.0, 1, 1.0), (1.0, 1, 0.9), (1.5, -1, 0.75), (2.5, -1, 0.75), (3.0, 1, 0.9), (3.5, -1, 0.7)]
            guitar = sorted(voicing + [voicing[0] - 12])
            for pos, direction, acc in strokes:
                if pos >= d - 1e-9:
                    continue
                nxt = [p for p, _, _ in strokes if p > pos]
                length = (min(nxt[0], d) if nxt else d) - pos
                strings = guitar if direction > 0 else guitar[::-1]
                for k, p in enumerate(strings):
                    notes.append(Note(c.start_beat + pos + 0.02 * k, max(0.1, length * 0.95 - 0.02 * k),
                                      p, _vel(part, e, acc)))
    return notes


def pad_notes(part: PartStyle, chords: Sequence[ChordEvent], energies, rng) -> list[Note]:
    notes = []
    center = _in_register(0, part.octave) + 4
    prev = None
    for c in chords:
        e = energies(c.start_beat)
        voicing = nearest_voicing(c.pitch_classes, prev, center, size=4)
        prev = voicing
        for p in voicing:
            notes.append(Note(c.start_beat, c.duration_beats, p, _vel(part, e, 0.8)))
    return notes


def arp_notes(part: PartStyle, chords: Sequence[ChordEvent], energies, rng) -> list[Note]:
    notes = []
    center = _in_register(0, part.octave) + 4
    for c in chords:
        e = energies(c.start_beat)
        tones = nearest_voicing(c.pitch_classes, None, center, size=3)
        tones = tones + [t + 12 for t in tones]
        if part.pattern == "updown":
            tones = tones + tones[-2:0:-1]
        t, k = 0.0, 0
        while t < c.duration_beats - 1e-9:
            pitch = tones[int(rng.integers(len(tones)))] if part.pattern == "random" else tones[k % len(tones)]
            notes.append(Note(c.start_beat + t, 0.22, pitch, _vel(part, e, 1.0 if k % 4 == 0 else 0.8)))
            t += 0.25
            k += 1
    return notes

"""The sung F0 contour (voice/pitch.py): glides into new notes."""

from __future__ import annotations

import dataclasses

import numpy as np

from ainur_cli.voice import SungNote
from ainur_cli.voice.pitch import (GLIDE_AFTER_S, GLIDE_BASE_S, GLIDE_NOTE_FRACTION,
                                   GLIDE_PER_SEMITONE_S, f0_contour)
from ainur_cli.voice.score import sung_syllables
from ainur_cli.voice.voices import get_voice

STEADY = dataclasses.replace(get_voice("tenor"), vibrato_depth_cents=0.0, drift_cents=0.0)


def _contour(first_s: float, step_semitones: int, second_s: float = 0.5):
    notes = [SungNote(0.5, first_s, 50, "la", "la", (), 0, True, False),
             SungNote(0.5 + first_s, second_s, 50 + step_semitones, "la", "la", (), 0, True, True)]
    t = np.arange(0.0, 0.5 + first_s + second_s, 0.0005)
    f0 = f0_contour(t, sung_syllables(notes), STEADY, np.random.default_rng(0))
    cents = 1200 * np.log2(f0 / (440.0 * 2 ** ((50 - 69) / 12)))
    return t, cents / (100.0 * step_semitones), notes[1].start_s


def _rise(t, frac, lo, hi):
    return t[np.argmax(frac >= hi)] - t[np.argmax(frac >= lo)]


def _glide_s(semitones: int) -> float:
    return min(GLIDE_BASE_S + GLIDE_PER_SEMITONE_S * semitones, STEADY.portamento_s)


def test_wider_steps_glide_longer_and_every_glide_ends_just_after_the_beat():
    """Half-second notes: the glide grows with the step up to the voice's portamento and
    ends 20 ms after the new note's start."""
    rises = {}
    for step in (1, 2, 4, 7):
        t, frac, start = _contour(0.5, step)
        end = start + GLIDE_AFTER_S
        assert abs(t[np.argmax(frac >= 0.5)] - (end - 0.5 * _glide_s(step))) < 0.001, step
        assert np.allclose(frac[t < start - 0.05], 0.0)
        assert np.allclose(frac[t >= end], 1.0)
        rises[step] = _rise(t, frac, 0.05, 0.95)
    assert rises[1] < rises[2] < rises[4] < rises[7]
    # smoothstep rises 5->95 % in 73 % of the glide: a semitone ~31 ms, a fifth the voice's cap
    assert abs(rises[1] - 0.73 * (GLIDE_BASE_S + GLIDE_PER_SEMITONE_S)) < 0.002
    assert abs(rises[7] - 0.73 * STEADY.portamento_s) < 0.002


def test_short_notes_glide_faster_and_land_sooner():
    """Eighths at 240 bpm (0.125 s): a major third glides in 15 % of the note (19 ms, not 49)
    and lands 8 ms after the beat, not 20; a short note before a long one caps it too."""
    for first_s, second_s in ((0.125, 0.125), (0.06, 0.5), (0.5, 0.125)):
        t, frac, start = _contour(first_s, 4, second_s)
        glide = GLIDE_NOTE_FRACTION * min(first_s, second_s)
        end = start + GLIDE_AFTER_S * glide / _glide_s(4)
        assert glide < _glide_s(4)
        assert np.allclose(frac[t < end - glide - 0.0005], 0.0), (first_s, second_s)
        assert np.allclose(frac[t >= end], 1.0), (first_s, second_s)
        assert abs(_rise(t, frac, 0.05, 0.95) - 0.73 * glide) < 0.001
    # eighths at 120 bpm (0.25 s) keep the full glide, a fifth's 65 ms included
    for step in (2, 7):
        t, frac, start = _contour(0.25, step, 0.25)
        assert abs(_rise(t, frac, 0.05, 0.95) - 0.73 * _glide_s(step)) < 0.001

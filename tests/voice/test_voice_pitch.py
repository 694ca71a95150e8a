"""The sung F0 contour (voice/pitch.py): glides into new notes."""

from __future__ import annotations

import dataclasses

import numpy as np

from ainur_cli.voice import SungNote
from ainur_cli.voice.pitch import GLIDE_AFTER_S, GLIDE_BASE_S, GLIDE_PER_SEMITONE_S, f0_contour
from ainur_cli.voice.score import sung_syllables
from ainur_cli.voice.voices import get_voice

STEADY = dataclasses.replace(get_voice("tenor"), vibrato_depth_cents=0.0, drift_cents=0.0)


def _contour(first_s: float, step_semitones: int):
    notes = [SungNote(0.5, first_s, 50, "la", "la", (), 0, True, False),
             SungNote(0.5 + first_s, 0.5, 50 + step_semitones, "la", "la", (), 0, True, True)]
    t = np.arange(0.0, 0.5 + first_s + 0.5, 0.0005)
    f0 = f0_contour(t, sung_syllables(notes), STEADY, np.random.default_rng(0))
    cents = 1200 * np.log2(f0 / (440.0 * 2 ** ((50 - 69) / 12)))
    return t, cents / (100.0 * step_semitones), notes[1].start_s


def _rise(t, frac, lo, hi):
    return t[np.argmax(frac >= hi)] - t[np.argmax(frac >= lo)]


def _glide_s(semitones: int) -> float:
    return min(GLIDE_BASE_S + GLIDE_PER_SEMITONE_S * semitones, STEADY.portamento_s)


def test_wider_steps_glide_longer_and_every_glide_ends_just_after_the_beat():
    rises = {}
    for step in (1, 2, 4, 7):
        t, frac, start = _contour(0.5, step)
        middle = start + GLIDE_AFTER_S - 0.5 * _glide_s(step)
        assert abs(t[np.argmax(frac >= 0.5)] - middle) < 0.002, step
        assert np.allclose(frac[t < start - 0.05], 0.0)
        assert np.allclose(frac[t >= start + GLIDE_AFTER_S], 1.0)
        rises[step] = _rise(t, frac, 0.05, 0.95)
    assert rises[1] < rises[2] < rises[4] < rises[7]
    # smoothstep rises 5->95 % in 73 % of the glide: a semitone ~31 ms, a fifth the voice's cap
    assert abs(rises[1] - 0.73 * (GLIDE_BASE_S + GLIDE_PER_SEMITONE_S)) < 0.002
    assert abs(rises[7] - 0.73 * STEADY.portamento_s) < 0.002


def test_a_short_note_glides_out_within_its_second_half():
    t, frac, start = _contour(0.06, 7)  # a fifth would glide 65 ms; the note lasts 60
    assert np.allclose(frac[t < start + GLIDE_AFTER_S - 0.0305], 0.0)  # a 30 ms glide
    assert frac[t < start + GLIDE_AFTER_S - 0.01].max() > 0.1

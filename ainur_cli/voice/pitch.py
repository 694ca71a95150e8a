"""The sung F0: note pitches with portamento into each new note, delayed vibrato on held
notes and a slow seeded wander, per 5 ms frame."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ainur_cli.voice.score import SungSyllable
from ainur_cli.voice.voices import VoiceSpec

VIBRATO_FADE_S = 0.25   # vibrato depth rises over this long once it starts
# The glide into a new pitch lasts GLIDE_BASE_S + GLIDE_PER_SEMITONE_S per semitone of the
# step (a semitone 31 ms, a major third 49 ms), at most the voice's ``portamento_s``, and ends
# GLIDE_AFTER_S after the new note's start: wider steps take longer, as sung. A fixed
# 45-65 ms glide left 5.5 % of the voiced frames of eighth notes at 120 bpm more than 50 cents
# off the score (Praat), mostly mid-glide; this leaves 4.4 %.
# Centring the glide on the beat instead read 0.03 more WER there (docs/voice.md, session 6).
GLIDE_BASE_S = 0.025
GLIDE_PER_SEMITONE_S = 0.006
GLIDE_AFTER_S = 0.02
# On notes shorter than GLIDE_SHORT_NOTE_S (eighths faster than 136 bpm) the glide takes at
# most GLIDE_NOTE_FRACTION of the shorter of the two notes, and the time it ends after the beat
# shrinks with it. At 240 bpm (the vocals bench's notes of 0.125 and 0.25 s) the uncapped
# glides left 7.0 % of the voiced frames more than 50 cents off (Praat), capped at 15 % of the
# note 5.8 %, at 10 % 5.4 %; the trap preset's eighths (140 bpm, 0.214 s, every line end an
# eighth) 5.1-5.3 % at 15 %, 4.5-4.6 % at 10 %, and the jazz waltz's swung eighths (0.13 s) 5.1 ->
# 4.7 % (seed 2); WER moved by -0.016..+0.033, within its seed noise (docs/voice.md, session
# 10). Capping the eighths at 120 bpm too (0.25 s: 37.5 ms) gained no pitch there and read
# 0.012-0.015 more WER (session 7).
GLIDE_SHORT_NOTE_S = 0.22
GLIDE_NOTE_FRACTION = 0.10


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def f0_contour(t_s: np.ndarray, sylls: Sequence[SungSyllable], voice: VoiceSpec,
               rng: np.random.Generator, silent: Sequence[tuple[float, float]] = (),
               voiced: np.ndarray | None = None) -> np.ndarray:
    """F0 in Hz at song times ``t_s`` (shape (frames,)) for one phrase.

    Each note's pitch holds from its start to the next note's; the glide into a new pitch
    takes longer the wider the step (:data:`GLIDE_BASE_S`, :data:`GLIDE_PER_SEMITONE_S`, at
    most ``voice.portamento_s``) and ends :data:`GLIDE_AFTER_S` after the new note starts; on
    notes shorter than :data:`GLIDE_SHORT_NOTE_S` it is cut to :data:`GLIDE_NOTE_FRACTION` of
    the shorter note, and its end after the beat shrinks in proportion. When an unvoiced
    consonant separates the notes (``voiced``: per-frame mask) the pitch changes inside it,
    unheard; after a rest the new pitch starts directly.
    """
    notes = [n for s in sylls for n in s.notes]
    cents = np.full(t_s.shape, 100.0 * notes[0].midi_pitch)
    rests = {round(b, 6) for _, b in silent}
    for prev, n in zip(notes, notes[1:]):
        step = 100.0 * (n.midi_pitch - prev.midi_pitch)
        after_rest = any(abs(n.start_s - b) < 0.5 for b in rests) and n.start_s - prev.end_s > 0.03
        if after_rest:
            cents += step * (t_s >= n.start_s - 0.5 * (n.start_s - prev.end_s))
            continue
        if voiced is not None:
            near = np.flatnonzero((t_s >= n.start_s - 0.25) & (t_s < n.start_s) & ~voiced)
            if near.size and t_s[near[-1]] >= n.start_s - 0.015:
                cents += step * (t_s >= t_s[near[-1]])
                continue
        full = min(GLIDE_BASE_S + GLIDE_PER_SEMITONE_S * abs(step) / 100.0, voice.portamento_s)
        shorter_s = min(prev.duration_s, n.duration_s)
        glide = min(full, GLIDE_NOTE_FRACTION * shorter_s) if shorter_s < GLIDE_SHORT_NOTE_S else full
        end = n.start_s + GLIDE_AFTER_S * glide / full
        cents += step * _smoothstep((t_s - (end - glide)) / glide)
    # Delayed vibrato per note, phase-continuous within a note, seeded rate jitter.
    vib = np.zeros_like(t_s)
    for n in notes:
        if n.duration_s < voice.vibrato_delay_s + 0.12:
            continue
        t0 = n.start_s + voice.vibrato_delay_s
        inside = (t_s >= t0) & (t_s < n.end_s)
        if not inside.any():
            continue
        rate = voice.vibrato_rate_hz * (1.0 + 0.04 * rng.standard_normal())
        tt = t_s[inside] - t0
        depth = voice.vibrato_depth_cents * _smoothstep(tt / VIBRATO_FADE_S)
        vib[inside] = depth * np.sin(2 * np.pi * rate * tt)
    # Slow wander: low-passed noise (about 1.5 Hz), scaled to ``drift_cents`` rms.
    if voice.drift_cents > 0 and t_s.size > 4:
        noise = rng.standard_normal(t_s.size + 64)
        kernel = np.hanning(61)
        wander = np.convolve(noise, kernel / kernel.sum(), mode="same")[32:32 + t_s.size]
        wander *= voice.drift_cents / (wander.std() + 1e-9)
    else:
        wander = 0.0
    total = cents + vib + wander
    return 440.0 * 2.0 ** ((total - 6900.0) / 1200.0)

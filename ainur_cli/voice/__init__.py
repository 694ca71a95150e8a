"""The singing voice: sung notes with lyrics → a dry vocal.

Public surface: :func:`sing`, :func:`available_voices`, :class:`SungNote`.
espeak-ng (through the ``espeakng-loader`` wheel) speaks each phrase monotone, WORLD-style
analysis turns the speech into envelope/aperiodicity frames, and the frames are re-timed so
that each vowel lands on its note, re-pitched to the score and resynthesised.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from contextlib import contextmanager
from fractions import Fraction
from typing import Sequence

import numpy as np

from ainur_cli.errors import VoiceError
from ainur_cli.voice.air import add_air
from ainur_cli.voice.espeak import ESPEAK_RATE
from ainur_cli.voice.render import RenderOptions, analyse_group as _analyse, breath_noise, render_phrase
from ainur_cli.voice.score import (MAX_MIDI, MIN_MIDI, SungNote, check_notes, notes_for_line, phrases,
                                   sung_syllables)
from ainur_cli.voice.voices import VoiceSpec, available_voices, get_voice, octave_shift

__all__ = ["SungNote", "VoiceError", "available_voices", "notes_for_line", "shared_phrases", "sing",
           "sung_octave_shift"]

log = logging.getLogger(__name__)

BREATH_MIN_GAP_S = 0.45   # rests at least this long get an audible breath before the phrase
DOUBLE_LEVEL = 0.55       # each double-tracked take, relative to the lead
DOUBLE_JITTER_S = 0.012   # timing spread of the doubles (standard deviation)
MIN_JOBS_PER_WORKER = 4   # fewer unique phrases than this per worker: render in-process


def _phrase_key(group, spec: VoiceSpec, seed: int, take: int) -> tuple:
    """Identity of a phrase up to its position in the song: a repeated chorus line is sung
    (and rendered) once."""
    t0 = group[0].start_s
    return (spec, seed, take, tuple(
        (s.phones, tuple((round(n.start_s - t0, 4), round(n.duration_s, 4), n.midi_pitch,
                          n.is_word_start) for n in s.notes)) for s in group))


def phrase_rng(key: tuple) -> np.random.Generator:
    """The randomness of one phrase (vibrato rates, pitch wander, formant motion phases, a
    double's timing): drawn from the phrase key with the voice *named*, not described, so
    that changing a voice's settings (an experiment, a retuned preset) keeps every phrase's
    draws and the comparison is of the settings alone."""
    spec, *rest = key
    digest = hashlib.sha256(repr((spec.name, *rest)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _render_job(job) -> tuple[float, np.ndarray]:
    group, spec, key, options, jitter_s = job
    from dataclasses import replace

    rng = phrase_rng(key)
    if jitter_s > 0:
        shift = float(np.clip(rng.normal(0.0, jitter_s), -2.5 * jitter_s, 2.5 * jitter_s))
        group = [replace(s, notes=tuple(replace(n, start_s=max(0.0, n.start_s + shift))
                                        for n in s.notes)) for s in group]
    t0, y = render_phrase(group, spec, rng, options)
    return t0 - group[0].start_s, y.astype(np.float32)


#: While a :func:`shared_phrases` block runs: rendered phrases by (phrase key, options), so
#: that several ``sing`` calls of one song (a duet's voice alone and with another) render a
#: phrase they share once.
_SHARED: dict | None = None


@contextmanager
def shared_phrases():
    """Within the block, ``sing`` calls reuse each other's rendered phrases (the same voice,
    seed, take, notes relative to the phrase start and options give the same samples, so
    the output does not change); the phrases are dropped when the block ends."""
    global _SHARED
    outer, _SHARED = _SHARED, ({} if _SHARED is None else _SHARED)
    try:
        yield
    finally:
        _SHARED = outer


def _run_jobs(jobs: list, workers: int) -> list:
    if workers <= 1 or len(jobs) < 2 * MIN_JOBS_PER_WORKER:
        return [_render_job(j) for j in jobs]
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return pool.map(_render_job, jobs, chunksize=max(1, len(jobs) // (4 * workers)))


def _takes(groups, spec: VoiceSpec, seed: int, takes: int, n_out: int,
           options: RenderOptions, workers: int, breaths: bool = True) -> list[np.ndarray]:
    """Every take (0 = lead, 1.. = doubles) of every phrase, mono float64 at 22 050 Hz."""
    unique: dict[tuple, int] = {}
    jobs, index, keys = [], [], []
    for take in range(takes):
        for group in groups:
            key = _phrase_key(group, spec, seed, take)
            if key not in unique:
                unique[key] = len(keys)
                keys.append(key)
                if _SHARED is None or (key, options) not in _SHARED:
                    jobs.append((group, spec, key, options, DOUBLE_JITTER_S if take else 0.0))
            index.append(unique[key])
    # Every phrase to render is spoken and analysed here, in song order, before any worker
    # starts: the forked workers share the analyses (each utterance is spoken from a freshly
    # loaded espeak-ng, see voice/espeak.py, so the order does not change the sound).
    for group, *_ in jobs:
        _analyse(group, spec)
    rendered = iter(_run_jobs(jobs, workers))
    results = []
    for key in keys:
        if _SHARED is not None and (key, options) in _SHARED:
            results.append(_SHARED[key, options])
            continue
        results.append(next(rendered))
        if _SHARED is not None:
            _SHARED[key, options] = results[-1]
    outs = []
    for take in range(takes):
        out = np.zeros(n_out)
        prev_end = -1e9
        for k, group in enumerate(groups):
            rel, y = results[index[take * len(groups) + k]]
            i0 = int(round((group[0].start_s + rel) * ESPEAK_RATE))
            gap = group[0].start_s - prev_end
            prev_end = group[-1].end_s
            if gap >= BREATH_MIN_GAP_S and take == 0 and breaths:
                rng = np.random.default_rng([seed, k])
                b = breath_noise(min(0.38, 0.5 * gap), rng, level=0.012 * (1.0 + spec.breath))
                b0 = i0 - int(0.03 * ESPEAK_RATE) - b.size
                if b0 >= 0:
                    out[b0:b0 + b.size] += b
            if i0 < 0:
                y, i0 = y[-i0:], 0
            y = y[:max(0, n_out - i0)]
            out[i0:i0 + y.size] += y
        outs.append(out)
    return outs


def sung_octave_shift(notes: Sequence[SungNote], voice: str = "default") -> int:
    """Semitones (a multiple of 12) that :func:`sing` adds to every note's pitch so that the
    melody sits in ``voice``'s register (0 when it already does): what is sung, and what sung
    pitch must be measured against, is ``midi_pitch + sung_octave_shift(notes, voice)``."""
    return octave_shift([n.midi_pitch for n in notes if not n.is_melisma] or
                        [n.midi_pitch for n in notes], get_voice(voice), MIN_MIDI, MAX_MIDI)


def _checked_shift(notes: Sequence[SungNote], shift) -> int:
    """A given octave shift: an integer multiple of 12 that keeps every note in MIDI 28..96."""
    ok = isinstance(shift, (int, np.integer)) and not isinstance(shift, bool) and shift % 12 == 0
    if not ok:
        raise VoiceError("octave shift must be a whole number of octaves", field="octave_shift",
                         value=shift, allowed="a multiple of 12 semitones")
    for n in notes:
        if not MIN_MIDI <= n.midi_pitch + shift <= MAX_MIDI:
            raise VoiceError(f"lyric line {n.line_index + 1} ({n.word}): the shifted note is out of range",
                             field="octave_shift", value=n.midi_pitch + int(shift),
                             allowed=f"MIDI {MIN_MIDI}..{MAX_MIDI} after the shift")
    return int(shift)


def sing(notes: Sequence[SungNote], *, sample_rate: int, total_samples: int,
         voice: str = "default", seed: int = 0, double: bool = False,
         options: RenderOptions = RenderOptions(), workers: int | None = None,
         octave_shift: int | None = None, breaths: bool = True) -> np.ndarray:
    """Sing ``notes`` (song times) into a dry stereo vocal.

    :param notes: the sung notes in time order (see :class:`SungNote`).
    :param sample_rate: output rate in Hz.
    :param total_samples: output length in samples (the song's length).
    :param voice: a name from :func:`available_voices`. The voice sings the melody in the
        octave of its register (:func:`sung_octave_shift`), as a singer reads a guide melody.
    :param seed: randomness (vibrato rate, pitch wander, doubles) comes only from this.
    :param double: add two double-tracked takes, panned left and right.
    :param options: resynthesis knobs (defaults = what the benchmark chose).
    :param workers: processes for phrase rendering (None: up to 2 on Linux, where the
        forked workers share the loaded espeak-ng; 1: in this process). Repeated phrases
        (same notes relative to their start) are rendered once either way.
    :param octave_shift: semitones (a multiple of 12) added to every note instead of
        :func:`sung_octave_shift` of ``notes``: a harmony line passes the lead's shift so
        that it is sung with the lead, not placed in its own octave.
    :param breaths: an audible breath before phrases after a rest (False for backing voices).
    :returns: shape (2, total_samples) float32, silent where there are no notes (breaths aside).
    :raises VoiceError: unsingable notes (named by lyric line and note), unknown voice.
    """
    if int(sample_rate) <= 0 or int(total_samples) < 0:
        raise VoiceError("bad output format", field="sample_rate/total_samples",
                         value=(sample_rate, total_samples), allowed="sample_rate > 0, total_samples >= 0")
    spec = get_voice(voice)
    notes = list(notes)
    out = np.zeros((2, int(total_samples)), dtype=np.float32)
    if not notes:
        return out
    check_notes(notes)
    song_s = total_samples / sample_rate
    late = [n for n in notes if n.start_s >= song_s]
    if late:
        raise VoiceError(f"lyric line {late[0].line_index + 1}: notes start after the song ends",
                         field="start_s", value=late[0].start_s, allowed=f"< {song_s:.3f} s")
    if octave_shift is None:
        shift = sung_octave_shift(notes, voice)
    else:
        shift = _checked_shift(notes, octave_shift)
    if shift:
        from dataclasses import replace

        log.info("voice %s sings the melody %+d semitones (its register)", spec.name, shift)
        notes = [replace(n, midi_pitch=n.midi_pitch + shift) for n in notes]
    groups = phrases(sung_syllables(notes))
    n22 = int(np.ceil(song_s * ESPEAK_RATE)) + 1
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if sys.platform.startswith("linux") else 1
    takes = _takes(groups, spec, seed, 3 if double else 1, n22, options, workers, breaths)
    if double:
        chans = np.stack([takes[0] + DOUBLE_LEVEL * takes[1], takes[0] + DOUBLE_LEVEL * takes[2]])
        chans /= 1.0 + DOUBLE_LEVEL
    else:
        chans = takes[0][np.newaxis]   # one take on both sides: resampled once, then copied
    ratio = Fraction(int(sample_rate), ESPEAK_RATE)
    if ratio != 1:
        from ainur_cli.dsp.resample import resample_sounding

        # Between phrases the voice is exactly silent: only the phrases are resampled.
        chans = resample_sounding(chans, ratio.numerator, ratio.denominator)
        add_air(chans, int(sample_rate), options.air_db)
    if not double:
        chans = np.broadcast_to(chans, (2, chans.shape[1]))
    m = min(out.shape[1], chans.shape[1])
    out[:, :m] = chans[:, :m]
    log.debug("sang %d notes in %d phrases (voice %s)", len(notes), len(groups), spec.name)
    return out

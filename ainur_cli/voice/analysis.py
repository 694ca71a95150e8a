"""Speech to parameters: espeak-ng speaks a phrase, WORLD-style analysis gives its spectral
envelope, aperiodicity and voicing per 5 ms frame, and the phoneme events are aligned with
the phones we asked for so that every phone has a source interval.

What espeak speaks is either the phrase's phoneme string (the dictionary's phones, every
one-syllable word stressed) or, for a voice that reads text, the phrase's words read as a
sentence: espeak's own vowels, reductions ("the" as D@2) and lengths, which the recogniser
reads far better once sung (docs/voice.md, session 8). A reading whose vowels do not pair
one to one with the notes' syllables falls back to the phoneme string.

The speech is monotone (espeak pitch range 0), so its F0 is known to within a few percent;
instead of a pitch tracker and D4C, voicing and band aperiodicity come from the normalised
autocorrelation at that period in three bands, which is ~10x cheaper and as good on
synthetic speech (see docs/voice.md for the measurements).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ainur_cli.dsp.filter_design import butter_sos, zero_phase_sos
from ainur_cli.voice.espeak import ESPEAK_RATE, speak_phonemes, speak_text
from ainur_cli.voice.phonemes import base, is_vowel

log = logging.getLogger(__name__)

FRAME_S = 0.005
FFT_SIZE = 512
_BANDS_HZ = ((80.0, 1200.0), (1200.0, 3800.0), (3800.0, 9000.0))
_BAND_CENTRES_HZ = (0.0, 2400.0, 6000.0, ESPEAK_RATE / 2)


@dataclass(frozen=True)
class SpeechFrames:
    """A spoken phrase as frames (hop :data:`FRAME_S`).

    :param sp: spectral envelope, shape (frames, FFT_SIZE//2+1), linear power.
    :param ap: aperiodicity, same shape, 0 (periodic) .. 1 (noise).
    :param voiced: shape (frames,), bool.
    :param phone_s: shape (phones, 2): each requested phone's (start, end) in seconds.
    :param f0_hz: the (monotone) F0 of the speech.
    :param from_text: True when espeak read the phrase's words as text (else its phonemes).
    """

    sp: np.ndarray
    ap: np.ndarray
    voiced: np.ndarray
    phone_s: np.ndarray
    f0_hz: float
    from_text: bool = False


def _align(wanted: list[str], got: list[str]) -> list[int]:
    """For each wanted phone, the index of the espeak event it became (or -1): edit-distance
    alignment where equal names cost 0, vowel↔vowel or consonant↔consonant 0.6."""
    n, m = len(wanted), len(got)
    cost = np.zeros((n + 1, m + 1))
    cost[:, 0] = np.arange(n + 1)
    cost[0, :] = np.arange(m + 1)
    back = np.zeros((n + 1, m + 1), dtype=np.int8)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            a, b = wanted[i - 1], got[j - 1]
            sub = 0.0 if a == b else (0.3 if a[0] == b[0] else
                                      0.6 if is_vowel(a) == is_vowel(b) else 1.5)
            options = (cost[i - 1, j - 1] + sub, cost[i - 1, j] + 1.0, cost[i, j - 1] + 1.0)
            k = int(np.argmin(options))
            cost[i, j] = options[k]
            back[i, j] = k
    out = [-1] * n
    i, j = n, m
    while i > 0 and j > 0:
        k = back[i, j]
        if k == 0:
            out[i - 1] = j - 1
            i, j = i - 1, j - 1
        elif k == 1:
            i -= 1
        else:
            j -= 1
    return out


def _event_alignment(wanted: list[str], events) -> tuple[list[int], list[int]]:
    """(indices of espeak's speech events (pauses dropped), and for each wanted phone the
    position among them it became or -1): :func:`_align` on the events' names."""
    names = [base(e.name) for e in events]
    speech = [k for k, nm in enumerate(names) if nm and not nm.startswith("_")]
    return speech, _align(wanted, [names[k] for k in speech])


def _vowels_pair(wanted: list[str], events, alignment: tuple[list[int], list[int]]) -> bool:
    """True when espeak said as many vowels as ``wanted`` has and each wanted vowel aligned
    with one of them (``alignment``: :func:`_event_alignment`): its phone times then give
    every sung syllable its own vowel."""
    speech, idx = alignment
    said = [k for k in speech if is_vowel(base(events[k].name))]
    wanted_vowels = [i for i, ph in enumerate(wanted) if is_vowel(ph)]
    return len(said) == len(wanted_vowels) and all(
        idx[i] >= 0 and is_vowel(base(events[speech[idx[i]]].name)) for i in wanted_vowels)


def _phone_times(wanted: list[str], events, alignment: tuple[list[int], list[int]],
                 total: int) -> np.ndarray:
    """(phones, 2) seconds for each wanted phone from espeak's phoneme events, aligned by
    :func:`_event_alignment` (``alignment``)."""
    starts = [e.start for e in events]
    speech, idx = alignment
    bounds = np.zeros((len(wanted), 2))
    for i, j in enumerate(idx):
        if j < 0:
            bounds[i] = np.nan
            continue
        k = speech[j]
        end = starts[k + 1] if k + 1 < len(starts) else total
        bounds[i] = (starts[k], end)
    # Phones espeak dropped get a zero-length slot where they would have been.
    for i in range(len(wanted)):
        if np.isnan(bounds[i, 0]):
            prev_end = bounds[i - 1, 1] if i > 0 and not np.isnan(bounds[i - 1, 1]) else 0.0
            bounds[i] = (prev_end, prev_end)
    # Extra events (espeak inserted a phone) are absorbed by the preceding phone.
    for i in range(len(wanted) - 1):
        if bounds[i + 1, 0] > bounds[i, 1]:
            bounds[i, 1] = bounds[i + 1, 0]
    return bounds / ESPEAK_RATE


def _trim_vowels(phone_s: np.ndarray, wanted: list[str], voiced: np.ndarray) -> np.ndarray:
    """espeak counts a stop's closure (silence) in the vowel before it and aspiration in the
    vowel after it; move those unvoiced edges of every vowel to the neighbouring consonant so
    that stretching a vowel never stretches silence or noise."""
    out = phone_s.copy()
    for i, ph in enumerate(wanted):
        if not is_vowel(ph):
            continue
        a, b = int(np.ceil(out[i, 0] / FRAME_S)), int(out[i, 1] / FRAME_S)
        v = np.flatnonzero(voiced[a:b + 1])
        if v.size < 2:
            continue
        new_a, new_b = (a + v[0]) * FRAME_S, (a + v[-1] + 1) * FRAME_S
        if i > 0 and new_a > out[i, 0]:
            out[i, 0] = out[i - 1, 1] = new_a
        if i + 1 < len(wanted) and new_b < out[i, 1]:
            out[i, 1] = out[i + 1, 0] = new_b
    return out


def _frames(x: np.ndarray, n_frames: int, width: int) -> np.ndarray:
    """(n_frames, width) windows centred on each frame time (zero-padded)."""
    hop = FRAME_S * ESPEAK_RATE
    pad = np.pad(x, (width, width + int(hop) + 2))
    starts = (np.round(np.arange(n_frames) * hop)).astype(np.int64) + width - width // 2
    return np.lib.stride_tricks.sliding_window_view(pad, width)[starts]


def _periodicity(x: np.ndarray, n_frames: int, period: float) -> np.ndarray:
    """Normalised autocorrelation at the best lag near ``period`` samples, per band and frame:
    shape (bands, frames), 0..1."""
    lags = np.arange(int(period * 0.94), int(np.ceil(period * 1.06)) + 1)
    width = int(2.5 * period)
    out = np.zeros((len(_BANDS_HZ), n_frames))
    for b, (lo, hi) in enumerate(_BANDS_HZ):
        sos = butter_sos(4, (lo, hi), "bandpass", ESPEAK_RATE)
        y = zero_phase_sos(sos, x)
        big = _frames(y, n_frames, width + lags[-1])
        a = big[:, :width]
        ea = np.einsum("ij,ij->i", a, a)
        best = np.zeros(n_frames)
        for lag in lags:
            c = big[:, lag:lag + width]
            r = np.einsum("ij,ij->i", a, c) / np.sqrt(ea * np.einsum("ij,ij->i", c, c) + 1e-12)
            best = np.maximum(best, r)
        out[b] = np.clip(best, 0.0, 1.0)
    return out


def _monotone_f0(x: np.ndarray) -> float:
    """The F0 of monotone speech from the autocorrelation of the whole phrase (FFT).

    The whole phrase, not one loud stretch: starting at the loudest sample could land on a
    stop burst and read 350 Hz for 134 Hz speech, leaving the phrase unvoiced (measured)."""
    seg = x - x.mean()
    n = 1 << int(np.ceil(np.log2(2 * seg.size + 1)))
    spec = np.fft.rfft(seg, n)
    ac = np.fft.irfft(spec.real ** 2 + spec.imag ** 2, n)[:seg.size]
    lo, hi = int(ESPEAK_RATE / 400), int(ESPEAK_RATE / 60)
    lag = lo + int(np.argmax(ac[lo:hi]))
    return ESPEAK_RATE / lag


@lru_cache(maxsize=512)
def analyse_phrase(phoneme_text: str, wanted: tuple[str, ...], espeak_voice: str,
                   espeak_pitch: int, rate_wpm: int, words: str = "") -> SpeechFrames:
    """Speak a phrase with espeak-ng, monotone, and analyse it (cached per unique phrase).

    :param phoneme_text: the phrase as espeak phoneme input (:func:`ainur_cli.voice.render.phoneme_text`),
        whose phones are ``wanted``.
    :param words: when given, espeak reads this text instead (its own reading of the
        sentence: function words reduced, its vowels and lengths; ``[[...]]`` inside it is
        phoneme input, :func:`ainur_cli.voice.render.phrase_reading`), unless its vowels do
        not pair one to one with the wanted ones: then the phoneme text is spoken.
        ``phone_s`` always follows ``wanted``.
    """
    import pyworld

    phones = list(wanted)
    from_text = False
    if words:
        x, events = speak_text(words, voice=espeak_voice, pitch=espeak_pitch, rate_wpm=rate_wpm,
                               pitch_range=0, inline_phonemes=True)
        alignment = _event_alignment(phones, events)
        from_text = _vowels_pair(phones, events, alignment)
        if not from_text:
            log.debug("espeak reads %r with other vowels than the notes; phonemes spoken", words)
    if not from_text:
        x, events = speak_phonemes(phoneme_text, voice=espeak_voice, pitch=espeak_pitch,
                                   rate_wpm=rate_wpm)
        alignment = _event_alignment(phones, events)
    n_frames = int(len(x) / (FRAME_S * ESPEAK_RATE)) + 1
    f0 = _monotone_f0(x)
    period = ESPEAK_RATE / f0
    times = np.arange(n_frames) * FRAME_S
    f0s = np.full(n_frames, f0)
    sp = pyworld.cheaptrick(x, f0s, times, ESPEAK_RATE, fft_size=FFT_SIZE)
    r = _periodicity(x, n_frames, period)
    energy = np.einsum("ij,ij->i", *(2 * [_frames(x, n_frames, int(2 * period))]))
    loud = energy > 1e-4 * energy.max()
    voiced = (r[0] > 0.6) & loud
    # Band aperiodicity: 1 - r, at least a breath floor, interpolated over frequency.
    ap_bands = np.clip(1.0 - r, 0.001, 1.0)
    ap_bands = np.vstack([ap_bands[:1], ap_bands[1:], ap_bands[-1:]])
    freqs = np.linspace(0, ESPEAK_RATE / 2, FFT_SIZE // 2 + 1)
    weights = np.stack([np.interp(freqs, _BAND_CENTRES_HZ, e) for e in np.eye(len(_BAND_CENTRES_HZ))])
    ap = ap_bands.T @ weights
    ap[~voiced] = 1.0
    phone_s = _trim_vowels(_phone_times(phones, events, alignment, len(x)), phones, voiced)
    log.debug("analysed %r: %.2f s, f0 %.1f Hz, %d phones", phoneme_text, len(x) / ESPEAK_RATE,
              f0, len(wanted))
    return SpeechFrames(sp, ap, voiced, phone_s, f0, from_text)

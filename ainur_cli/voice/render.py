"""Phrases → audio: warp the analysed speech onto the score and resynthesise with WORLD.

For every output frame (5 ms) the time map says which source instant to read; the envelope
is interpolated there (log domain), warped in frequency for the voice, and given the score's
F0. Held vowels get slow formant motion (and, as an option, a fast formant jitter) so they do
not freeze.
All work happens at 22 050 Hz; :func:`ainur_cli.voice.sing` resamples once at the end.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from ainur_cli.voice.analysis import FFT_SIZE, FRAME_S, SpeechFrames, analyse_phrase
from ainur_cli.voice.espeak import ESPEAK_RATE, word_phonemes
from ainur_cli.voice.phonemes import is_vowel
from ainur_cli.voice.pitch import f0_contour
from ainur_cli.voice.score import SungSyllable
from ainur_cli.voice.timing import PhraseMap, WarpOptions, phrase_map
from ainur_cli.voice.voices import VoiceSpec

log = logging.getLogger(__name__)

OUTPUT_GAIN = 0.9          # linear, brings espeak's level to about -16 dBFS RMS on vowels
FADE_IN_S, FADE_OUT_S = 0.01, 0.04
_FREQS = np.linspace(0.0, ESPEAK_RATE / 2, FFT_SIZE // 2 + 1)


@dataclass(frozen=True)
class RenderOptions:
    """Knobs of the resynthesis (the defaults are what the benchmark chose).

    :param warp: vowel time-warp options.
    :param formant_motion: peak relative formant wander on held vowels (0.02 = ±2 %).
    :param consonant_boost_db: level added to consonant frames (clearer onsets).
    :param hold_rate: 0: a held vowel reads its spoken steady part once, slowly; > 0: it reads
        it back and forth at this fraction of spoken speed (the vowel keeps speech-like motion).
    :param formant_jitter: rms of a fast random formant-frequency wander on held vowels
        (relative, 0.06 = 6 %), smoothed to about ``formant_jitter_hz``; 0 = off. Measured
        (docs/voice.md): at 0.06 pocketsphinx's phone loop labels 30 % of held-note frames
        noise instead of 66 %, but the WER does not move beyond seed noise and clicks rise
        (0.09 -> 0.35 /s), so it is off by default.
    :param formant_jitter_hz: bandwidth of that wander.
    :param f1_tuning: vowel modification on high notes (:func:`tune_first_formant`): 1 raises
        a vowel's first formant to just above F0 where F0 reaches it, as singers do; 0 = off
        (the default). Measured (docs/voice.md, session 14): on the soprano it tunes 29 % of
        the vowel frames of the benchmark melody and lifts its closed vowels by 0.6 dB, but
        pocketsphinx reads 0.883 against 0.847 (every seed worse), so it is off.
    :param formant_contrast: on held vowels (weighted as the formant motion), deepen the
        envelope's peaks and valleys by this much (:func:`raise_formant_contrast`; 1 = every
        bin twice as far from the envelope smoothed over ``formant_contrast_hz``); 0 = off
        (the default). Measured (docs/voice.md, session 16): at 1 the tenor reads the 120 bpm
        benchmark at 0.73-0.76 instead of 0.81-0.82 and 160 bpm at 0.62 instead of 0.69, but
        the product's own example song worse (0.77-0.78 against 0.72), with Praat reading
        its pitch under the 95 % bar on two of five seeds and more clicks; the soprano reads
        worse (0.92 against 0.86). So it is off.
    :param formant_contrast_hz: the width (Gaussian standard deviation along frequency) of
        the smoothing the peaks are raised against.
    :param formant_contrast_level: the share (in dB) of the power the raised peaks add that a
        held vowel keeps: 0.5 sings it 3-5 dB louder (the recogniser needed both; with its
        power kept the benchmark read 0.78).
    :param air_db: level of the band above 11 kHz that :func:`ainur_cli.voice.air.add_air`
        makes from the vocal's own 5.5-11 kHz band at the output rate (dB, gain of the
        rectified band; ``None`` = off: the vocal stops at 11.025 kHz). It lives here, not in
        :class:`VoiceSpec`, so that changing it does not re-draw the phrases' randomness.
    """

    warp: WarpOptions = WarpOptions()
    formant_motion: float = 0.02
    consonant_boost_db: float = 3.0
    hold_rate: float = 0.0
    formant_jitter: float = 0.0
    formant_jitter_hz: float = 10.0
    f1_tuning: float = 0.0
    air_db: float | None = -6.0
    formant_contrast: float = 0.0
    formant_contrast_hz: float = 400.0
    formant_contrast_level: float = 0.5


def phoneme_text(sylls: Sequence[SungSyllable]) -> tuple[str, tuple[str, ...]]:
    """The espeak phoneme input for a phrase, and the phones it asks for, in order."""
    parts: list[str] = []
    wanted: list[str] = []
    prev_open = False
    for k, s in enumerate(sylls):
        p = s.phones
        new_word = k > 0 and (s.notes[0].is_word_start or (prev_open and not p.onset))
        if new_word:
            parts.append(" ")
        mark = "'" if p.stress == 1 else "," if p.stress == 2 else ""
        parts.append("".join(p.onset) + mark + p.nucleus + "".join(p.coda))
        wanted.extend(p.phones)
        prev_open = not p.coda
    return "".join(parts), tuple(wanted)


def _interp_frames(a: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Rows of ``a`` at fractional row positions ``pos`` (linear)."""
    pos = np.clip(pos, 0, a.shape[0] - 1)
    i0 = np.floor(pos).astype(np.int64)
    i1 = np.minimum(i0 + 1, a.shape[0] - 1)
    w = (pos - i0)[:, None]
    return a[i0] * (1 - w) + a[i1] * w


def _warp_freq(log_sp: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Envelope warped in frequency per frame: new(f) = old(f / scale). ``scale``: (frames,)."""
    return _at_bins(log_sp, _FREQS[None, :] / scale[:, None] / _FREQS[1])


def _at_bins(log_sp: np.ndarray, src: np.ndarray) -> np.ndarray:
    """Each frame's envelope read at fractional bins ``src`` (same shape; linear, clipped)."""
    src = np.clip(src, 0, log_sp.shape[1] - 1)
    i0 = np.floor(src).astype(np.int64)
    i1 = np.minimum(i0 + 1, log_sp.shape[1] - 1)
    w = src - i0
    return (np.take_along_axis(log_sp, i0, 1) * (1 - w) + np.take_along_axis(log_sp, i1, 1) * w)


# Vowel modification (F1 tuning): where the sung F0 climbs to a vowel's first formant, the
# fundamental falls below F1 and the vowel loses its low resonance (thin, quiet "ee"/"oo" on
# high notes). Singers open the jaw there, raising F1 to just above F0 (Sundberg; the
# "aggiustamento" of closed vowels); the envelope below F1_ANCHOR_HZ is warped so that F1 sits
# at F1_TUNE_RATIO x F0, the formants above the anchor stay.
F1_SEARCH_HZ = (150.0, 1100.0)
F1_TUNE_RATIO = 1.08
F1_ANCHOR_HZ = 1700.0
F1_MAX_HZ = 1100.0


def _first_formant_hz(log_sp: np.ndarray) -> np.ndarray:
    """Per frame, the frequency of the envelope's first peak in :data:`F1_SEARCH_HZ`
    (parabolic interpolation between bins); NaN where there is none. ``log_sp``: (frames,
    bins) natural-log power."""
    lo, hi = (int(np.searchsorted(_FREQS, f)) for f in F1_SEARCH_HZ)
    band = log_sp[:, lo - 1:hi + 1]
    rising = band[:, 1:-1] > band[:, :-2]
    falling = band[:, 1:-1] >= band[:, 2:]
    peak = rising & falling
    has = peak.any(axis=1)
    k = np.argmax(peak, axis=1) + 1                       # index into band of the first peak
    rows = np.arange(band.shape[0])
    a, b, c = band[rows, k - 1], band[rows, k], band[rows, np.minimum(k + 1, band.shape[1] - 1)]
    den = a - 2 * b + c
    off = np.where(np.abs(den) > 1e-12, 0.5 * (a - c) / np.where(den == 0, 1.0, den), 0.0)
    f1 = (lo - 1 + k + np.clip(off, -0.5, 0.5)) * _FREQS[1]
    return np.where(has, f1, np.nan)


def tune_first_formant(log_sp: np.ndarray, f0_hz: np.ndarray, vowel: np.ndarray,
                       amount: float = 1.0) -> np.ndarray:
    """Vowel modification: on ``vowel`` frames whose F0 (Hz, (frames,)) reaches the envelope's
    first formant, warp the envelope below :data:`F1_ANCHOR_HZ` so that F1 moves up to
    :data:`F1_TUNE_RATIO` x F0 (at most :data:`F1_MAX_HZ`), smoothly in time (45 ms); other
    frames and everything above the anchor are unchanged. ``amount`` scales the move (0 = off).
    Returns a new (frames, bins) array."""
    if amount <= 0 or not vowel.any():
        return log_sp
    f1 = _first_formant_hz(log_sp)
    want = np.minimum(F1_TUNE_RATIO * f0_hz, F1_MAX_HZ)
    raise_hz = np.where(vowel & np.isfinite(f1) & (want > f1), want - np.nan_to_num(f1), 0.0)
    kernel = np.hanning(11)[1:-1]
    raise_hz = amount * np.convolve(raise_hz, kernel / kernel.sum(), mode="same")
    rows = np.flatnonzero(raise_hz > 5.0)
    if rows.size == 0:
        return log_sp
    f1_old = np.nan_to_num(f1[rows], nan=F1_SEARCH_HZ[0])
    f1_new = np.minimum(f1_old + raise_hz[rows], F1_ANCHOR_HZ - 200.0)
    f = _FREQS[None, :]
    # piecewise linear: 0 → 0, F1_new → F1_old, anchor → anchor, identity above
    low = f * (f1_old / f1_new)[:, None]
    mid = f1_old[:, None] + (f - f1_new[:, None]) * (
        (F1_ANCHOR_HZ - f1_old) / (F1_ANCHOR_HZ - f1_new))[:, None]
    src = np.where(f <= f1_new[:, None], low, np.where(f < F1_ANCHOR_HZ, mid, f)) / _FREQS[1]
    out = log_sp.copy()
    out[rows] = _at_bins(log_sp[rows], src)
    return out


def _pingpong(t_s: np.ndarray, src_s: np.ndarray, knots: np.ndarray, rate: float) -> np.ndarray:
    """Source times where every slowly read stretch (a held vowel's steady part) is instead
    read back and forth at ``rate`` x spoken speed, starting and ending where it did."""
    out = src_s.copy()
    for (ta, sa), (tb, sb) in zip(knots[:-1], knots[1:]):
        span_t, span_s = tb - ta, sb - sa
        if span_s <= 0.0 or span_t < 3.0 * span_s / max(rate, 1e-6) or span_t < 0.1:
            continue
        legs = max(1, int(round(span_t * rate / span_s)))
        legs += 1 - legs % 2  # odd: the reading ends at the far end, as before
        inside = (t_s >= ta) & (t_s < tb)
        x = (t_s[inside] - ta) / span_t * legs
        frac = x - np.floor(x)
        back = (np.floor(x).astype(np.int64) % 2) == 1
        out[inside] = sa + span_s * np.where(back, 1.0 - frac, frac)
    return out


@lru_cache(maxsize=4)
def _smoothing_matrix(width_hz: float) -> np.ndarray:
    """(bins, bins) float64: row k averages the envelope bins around bin k with Gaussian
    weights of standard deviation ``width_hz`` (rows renormalised at the band edges)."""
    d = (_FREQS[:, None] - _FREQS[None, :]) / width_hz
    w = np.exp(-0.5 * d * d)
    return w / w.sum(axis=1, keepdims=True)


def raise_formant_contrast(log_sp: np.ndarray, amount: np.ndarray, width_hz: float,
                           level: float = 0.0) -> np.ndarray:
    """Deepen the envelope's peaks and valleys: each frame's log power spectrum moves away
    from its own Gaussian-smoothed copy (``width_hz`` standard deviation along frequency) by
    ``amount`` times the difference, like the formant postfilters of parametric speech
    synthesis. Raised peaks add power; ``level`` is the share of that rise (in dB) the frame
    keeps (0: its power unchanged; 1: all of it).

    :param log_sp: (frames, bins) natural log of the power envelope; not modified.
    :param amount: (frames,) 0 = unchanged, 1 = every bin twice as far from the smoothed
        envelope (in log power).
    :returns: (frames, bins) the new log power envelope.
    """
    rows = amount > 0
    if not rows.any():
        return log_sp
    out = log_sp.copy()
    sub = log_sp[rows]
    smooth = sub @ _smoothing_matrix(float(width_hz)).T
    raised = sub + amount[rows, None] * (sub - smooth)
    rise = _log_total(raised) - _log_total(sub)
    out[rows] = raised - ((1.0 - level) * rise)[:, None]
    return out


def _log_total(log_p: np.ndarray) -> np.ndarray:
    """log of each row's summed power, from log powers (max-shifted: no overflow)."""
    top = log_p.max(axis=1)
    return top + np.log(np.exp(log_p - top[:, None]).sum(axis=1))


def _held_weight(t_s: np.ndarray, pmap: PhraseMap) -> np.ndarray:
    """0..1 per frame: how deep inside a held vowel the frame is (for formant motion)."""
    w = np.zeros_like(t_s)
    for a, b in pmap.vowels:
        if b - a < 0.25:
            continue
        x = np.clip(np.minimum(t_s - a, b - t_s) / 0.12, 0.0, 1.0)
        w = np.maximum(w, x * ((t_s >= a) & (t_s < b)))
    return w


def _smooth_noise(rng: np.random.Generator, n: int, bandwidth_hz: float) -> np.ndarray:
    """Gaussian noise per 5 ms frame, smoothed (Hann kernel) to about ``bandwidth_hz``;
    shape (n,), unit rms."""
    width = max(3, int(round(1.0 / (bandwidth_hz * FRAME_S))) | 1)
    kernel = np.hanning(width + 2)[1:-1]
    out = np.convolve(rng.standard_normal(n + width - 1), kernel, mode="valid")
    return out / (out.std() + 1e-12)


def phrase_reading(sylls: Sequence[SungSyllable]) -> str:
    """The phrase as espeak should read it: its words as text, except a word that espeak on
    its own says with another number of vowels than the notes give it ("every": E v r i
    against three syllables), which goes in as its phoneme string (``[[...]]``). "" when
    the phrase starts inside a word."""
    if not sylls or not sylls[0].notes[0].is_word_start:
        return ""
    words: list[tuple[str, list[SungSyllable]]] = []
    for s in sylls:
        if s.notes[0].is_word_start:
            words.append((s.notes[0].word, [s]))
        else:
            words[-1][1].append(s)
    parts = []
    for word, syllables in words:
        wanted = sum(is_vowel(p) for s in syllables for p in s.phones.phones)
        plain = "[" not in word and "]" not in word   # brackets would open phoneme input
        said = sum(is_vowel(p) for p in word_phonemes(word)) if plain else -1
        parts.append(word if said == wanted else f"[[{phoneme_text(syllables)[0]}]]")
    return " ".join(parts)


def analyse_group(sylls: Sequence[SungSyllable], voice: VoiceSpec) -> SpeechFrames:
    """The (cached) espeak speech analysis of a phrase: espeak reading it (:func:`phrase_reading`)
    where the voice reads text (:attr:`VoiceSpec.read_text`), else its phoneme string."""
    text, wanted = phoneme_text(sylls)
    words = phrase_reading(sylls) if voice.read_text else ""
    return analyse_phrase(text, wanted, voice.espeak_voice, voice.espeak_pitch, voice.rate_wpm, words)


def render_phrase(sylls: Sequence[SungSyllable], voice: VoiceSpec, rng: np.random.Generator,
                  options: RenderOptions = RenderOptions()) -> tuple[float, np.ndarray]:
    """One phrase → (start time in song seconds, mono float64 audio at 22 050 Hz)."""
    import pyworld

    frames = analyse_group(sylls, voice)
    pmap = phrase_map(sylls, frames.phone_s, options.warp)
    t0 = pmap.start_s - 0.01
    n = int(np.ceil((pmap.end_s + 0.03 - t0) / FRAME_S)) + 1
    t_s = t0 + np.arange(n) * FRAME_S
    src_s, mute = pmap.source_at(t_s)
    mute |= (t_s < pmap.start_s) | (t_s > pmap.end_s)
    if options.hold_rate > 0:
        src_s = _pingpong(t_s, src_s, pmap.knots, options.hold_rate)
    pos = src_s / FRAME_S
    log_sp = _interp_frames(np.log(frames.sp + 1e-16), pos)
    ap = _interp_frames(frames.ap, pos)
    voiced = frames.voiced[np.clip(np.round(pos).astype(np.int64), 0, frames.voiced.size - 1)]
    f0 = f0_contour(t_s, sylls, voice, rng, pmap.silent, voiced & ~mute)
    # Held vowels: slow formant wander (two slow sines, seeded phases) plus the voice's warp.
    held = _held_weight(t_s, pmap)
    ph = rng.uniform(0, 2 * np.pi, 2)
    motion = options.formant_motion * held * (0.6 * np.sin(2 * np.pi * 0.7 * t_s + ph[0])
                                             + 0.4 * np.sin(2 * np.pi * 1.9 * t_s + ph[1]))
    if options.formant_jitter > 0:
        jitter = _smooth_noise(rng, n, options.formant_jitter_hz)
        motion = motion + options.formant_jitter * held * jitter
    scale = voice.formant_scale * (1.0 + motion)
    log_sp = _warp_freq(log_sp, scale)
    in_vowel = np.zeros(n, dtype=bool)
    for a, b in pmap.vowels:
        in_vowel |= (t_s >= a) & (t_s < b)
    log_sp = tune_first_formant(log_sp, f0, in_vowel & voiced & ~mute, options.f1_tuning)
    if options.formant_contrast > 0:
        log_sp = raise_formant_contrast(log_sp, options.formant_contrast * held,
                                        options.formant_contrast_hz,
                                        options.formant_contrast_level)
    log_sp += (voice.tilt_db_per_khz * _FREQS / 1000.0 * np.log(10) / 10)[None, :]
    # Consonant clarity: lift frames outside vowels.
    log_sp[~in_vowel] += options.consonant_boost_db * np.log(10) / 10
    # Breath: aspiration noise above ~2 kHz on voiced frames.
    breath = voice.breath * np.clip((_FREQS - 1500.0) / 4000.0, 0.0, 1.0)
    ap = np.where(voiced[:, None], np.maximum(ap, breath[None, :]), ap)
    f0 = np.where(voiced & ~mute, f0, 0.0)
    log_sp[mute] = np.log(1e-16)
    ap[mute] = 1.0
    y = pyworld.synthesize(f0, np.exp(log_sp), np.clip(ap, 0.0, 1.0), ESPEAK_RATE,
                           FRAME_S * 1000.0)
    env = np.ones_like(y)
    start = int(round((pmap.start_s - t0) * ESPEAK_RATE))
    fi = int(FADE_IN_S * ESPEAK_RATE)
    env[:start] = 0.0
    env[start:start + fi] = np.linspace(0, 1, len(env[start:start + fi]))
    end = int(round((pmap.end_s - t0) * ESPEAK_RATE))
    fo = int(FADE_OUT_S * ESPEAK_RATE)
    env[max(0, end - fo):end] *= np.linspace(1, 0, len(env[max(0, end - fo):end]))
    env[end:] = 0.0
    return t0, y * env * OUTPUT_GAIN * 10 ** (voice.gain_db / 20)


def breath_noise(duration_s: float, rng: np.random.Generator, level: float = 0.02) -> np.ndarray:
    """An inhalation: band-limited noise with a soft swell, mono at 22 050 Hz."""
    from ainur_cli.dsp.biquads import sos_filter_rows
    from ainur_cli.dsp.filter_design import butter_sos

    n = max(1, int(duration_s * ESPEAK_RATE))
    noise = rng.standard_normal(n)
    sos = butter_sos(2, (700.0, 6000.0), "bandpass", ESPEAK_RATE)
    y = sos_filter_rows(sos, noise[None, :], np.zeros((1, len(sos), 2)))[0]  # in place
    env = np.sin(np.linspace(0, np.pi, n)) ** 1.5
    return level * y * env / (np.abs(y).max() + 1e-9)

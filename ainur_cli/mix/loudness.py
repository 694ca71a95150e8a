"""Loudness (ITU-R BS.1770-4) and true peak, fast enough to measure every file of a song.

All functions take audio as ``(channels, samples)`` float arrays at ``sample_rate`` Hz.

* :func:`integrated_lufs` — K-weighting (the standard's two biquads, derived for any sample
  rate exactly as pyloudnorm does), 400 ms blocks with 75 % overlap, absolute gate −70 LUFS,
  relative gate −10 LU. Vectorised: ~0.15 s for 3 minutes of stereo at 48 kHz (pyloudnorm's
  reference implementation takes ~0.8 s; the tests compare both, and ffmpeg's ebur128).
* :func:`true_peak_dbtp` — 4x oversampling with a Kaiser-windowed sinc interpolator, evaluated
  only on blocks whose sample peak could beat the running maximum (a rigorous bound from the
  filter's per-phase L1 norm), so a whole song costs milliseconds, not seconds.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import scipy.signal as ss

SILENCE_LUFS = -math.inf


@lru_cache(maxsize=8)
def k_weighting_sos(sample_rate: int) -> np.ndarray:
    """Second-order sections of the BS.1770 K-weighting filter at ``sample_rate``."""
    # High shelf (stage 1), from the analog prototype used by BS.1770 / pyloudnorm.
    G, Q, fc = 3.99984385397, 0.7071752369554193, 1681.9744509555319
    A = 10 ** (G / 40.0)
    w0 = 2.0 * math.pi * (fc / sample_rate)
    alpha = math.sin(w0) / (2.0 * Q)
    b0 = A * ((A + 1) + (A - 1) * math.cos(w0) + 2 * math.sqrt(A) * alpha)
    b1 = -2 * A * ((A - 1) + (A + 1) * math.cos(w0))
    b2 = A * ((A + 1) + (A - 1) * math.cos(w0) - 2 * math.sqrt(A) * alpha)
    a0 = (A + 1) - (A - 1) * math.cos(w0) + 2 * math.sqrt(A) * alpha
    a1 = 2 * ((A - 1) - (A + 1) * math.cos(w0))
    a2 = (A + 1) - (A - 1) * math.cos(w0) - 2 * math.sqrt(A) * alpha
    shelf = [b0 / a0, b1 / a0, b2 / a0, 1.0, a1 / a0, a2 / a0]
    # High pass (stage 2, RLB).
    Q, fc = 0.5003270373253953, 38.13547087613982
    w0 = 2.0 * math.pi * (fc / sample_rate)
    alpha = math.sin(w0) / (2.0 * Q)
    a0 = 1 + alpha
    hp = [(1 + math.cos(w0)) / 2 / a0, -(1 + math.cos(w0)) / a0, (1 + math.cos(w0)) / 2 / a0,
          1.0, -2 * math.cos(w0) / a0, (1 - alpha) / a0]
    return np.array([shelf, hp])


def k_weighted_power(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Per-sample K-weighted power summed over channels (L/R weight 1): shape (samples,)."""
    sos = k_weighting_sos(sample_rate)
    x = np.asarray(audio, dtype=np.float64)
    power = np.zeros(x.shape[-1])
    for channel in x:  # one channel at a time: 8x faster than sosfilt over a 2-D array
        y = ss.sosfilt(sos, channel)
        power += y * y
    return power


def gated_loudness_from_power(power: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness (LUFS) from :func:`k_weighted_power`'s output."""
    hop = int(round(0.1 * sample_rate))
    n_hops = power.shape[0] // hop
    if n_hops < 4:
        return SILENCE_LUFS
    hops = power[: n_hops * hop].reshape(n_hops, hop).sum(axis=1)
    blocks = (hops[:-3] + hops[1:-2] + hops[2:-1] + hops[3:]) / (4 * hop)
    with np.errstate(divide="ignore"):
        lj = -0.691 + 10 * np.log10(blocks)
    z = blocks[lj > -70.0]
    if z.size == 0:
        return SILENCE_LUFS
    rel = -0.691 + 10 * np.log10(np.mean(z)) - 10.0
    z = blocks[(lj > -70.0) & (lj > rel)]
    if z.size == 0:
        return SILENCE_LUFS
    return float(-0.691 + 10 * np.log10(np.mean(z)))


def integrated_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness in LUFS of ``audio`` (channels, samples); −inf when silent."""
    return gated_loudness_from_power(k_weighted_power(audio, sample_rate), sample_rate)


def short_term_lufs(audio: np.ndarray, sample_rate: int, hop_s: float = 0.1) -> np.ndarray:
    """Short-term loudness (3 s window) every ``hop_s`` seconds, in LUFS (−inf when silent)."""
    power = k_weighted_power(audio, sample_rate)
    hop = max(1, int(round(hop_s * sample_rate)))
    win = int(3 * sample_rate)
    c = np.concatenate([[0.0], np.cumsum(power)])
    starts = np.arange(0, max(power.shape[0] - win, 0) + 1, hop)
    ms = (c[np.minimum(starts + win, power.shape[0])] - c[starts]) / win
    with np.errstate(divide="ignore"):
        return -0.691 + 10 * np.log10(ms)


@lru_cache(maxsize=4)
def _interpolator(oversample: int) -> tuple[np.ndarray, float, int]:
    """(FIR taps with gain ``oversample``, max per-phase L1 norm, half length in taps)."""
    half = 6 * oversample  # 12 taps per phase, as the BS.1770-4 reference interpolator
    h = ss.firwin(2 * half + 1, 1.0 / oversample, window=("kaiser", 6.0)) * oversample
    bound = max(float(np.sum(np.abs(h[p::oversample]))) for p in range(oversample))
    return h, bound, half


def true_peak_linear(audio: np.ndarray, sample_rate: int, oversample: int = 4) -> float:
    """Maximum absolute value of the ``oversample``-times interpolated signal (linear)."""
    x = np.asarray(audio, dtype=np.float32)
    if x.size == 0:
        return 0.0
    n = x.shape[-1]
    h, bound, half = _interpolator(oversample)
    h = h.astype(np.float32)
    block = 4096
    pad = half // oversample + 2
    n_blocks = -(-n // block)
    absx = np.abs(x).max(axis=0)
    padded = np.zeros(n_blocks * block)
    padded[:n] = absx
    peaks = padded.reshape(n_blocks, block).max(axis=1)
    # A block's interpolated values depend on samples up to `pad` outside it.
    reach = np.maximum(peaks, np.maximum(np.r_[0, peaks[:-1]], np.r_[peaks[1:], 0]))
    best = float(absx.max())
    xp = np.zeros((x.shape[0], n_blocks * block + 2 * pad), dtype=np.float32)
    xp[:, pad: pad + n] = x
    # Candidate blocks (those whose bound can beat the sample peak), processed as contiguous
    # runs with `pad` samples of context on both sides.
    candidate = reach * bound > best
    b = 0
    while b < n_blocks:
        if not candidate[b]:
            b += 1
            continue
        e = b
        while e + 1 < n_blocks and candidate[e + 1] and e + 1 - b < 256:
            e += 1
        seg = xp[:, b * block: (e + 1) * block + 2 * pad]
        up = ss.upfirdn(h, seg, up=oversample, axis=-1)
        start = pad * oversample + half
        best = max(best, float(np.abs(up[:, start: start + (e + 1 - b) * block * oversample]).max()))
        b = e + 1
    return best


def true_peak_dbtp(audio: np.ndarray, sample_rate: int, oversample: int = 4) -> float:
    """True peak in dBTP (−inf for silence)."""
    peak = true_peak_linear(audio, sample_rate, oversample)
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def sample_peak_dbfs(audio: np.ndarray) -> float:
    """Sample peak in dBFS (−inf for silence)."""
    peak = float(np.max(np.abs(audio))) if np.size(audio) else 0.0
    return 20 * math.log10(peak) if peak > 0 else -math.inf

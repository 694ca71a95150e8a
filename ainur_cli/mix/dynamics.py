"""Vectorised gain computers for the master: a glue compressor and a look-ahead limiter.

Both work on a *control rate*: the signal is cut into blocks of ``block`` samples (about
0.7 ms) and every quantity below is one value per block, in dB. Nothing loops over samples in
Python, and the recursive parts have closed forms:

* exponential release of a gain reduction ``d`` (dB, ≥ 0) with instant attack,
  ``e[b] = max(d[b], a·e[b−1])``, equals ``max_k d[k]·a^(b−k)``; in logs that is a running
  maximum (``np.maximum.accumulate``) of ``log d[k] − k·log a`` plus ``b·log a``;
* the limiter's look-ahead: ``h[j] = min r[j … j+L−1]`` followed by the moving average
  ``s[b] = mean h[b−L+1 … b]``. Every ``h`` in that average is a minimum over a window that
  contains block ``b``, so ``s[b] ≤ r[b]``: the smoothed gain never exceeds the gain the block
  requires, and it ramps down over the look-ahead instead of stepping.

Background: D. Giannoulis, M. Massberg, J. D. Reiss, "Digital Dynamic Range Compressor
Design — A Tutorial and Analysis", JAES 60(6), 2012 (gain computer with soft knee, smooth
decoupled peak detector).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ainur_cli.dsp.biquads import sos_filter_rows


def block_size_for(sample_rate: int) -> int:
    """Control-rate block in samples: a power of two of about 0.7 ms (32 at 44.1/48 kHz)."""
    return int(2 ** max(3, min(8, round(math.log2(sample_rate / 1500.0)))))


def mean_square_blocks(x: np.ndarray, block: int) -> np.ndarray:
    """Mean over channels and samples of x² per block of ``x`` (channels, n), shape
    (ceil(n/block),) float64 (a short last block is divided by ``block`` too)."""
    c, n = x.shape
    full = n // block
    out = np.zeros(-(-n // block))
    if full:
        v = x[:, : full * block].reshape(c, full, block)
        out[:full] = np.einsum("cbk,cbk->b", v, v, dtype=np.float64) / (c * block)
    if n > full * block:
        tail = x[:, full * block:].astype(np.float64)
        out[full] = float(np.sum(tail * tail)) / (c * block)
    return out


def coefficient(time_ms: float, block: int, sample_rate: int) -> float:
    """Per-block decay factor of a one-pole with time constant ``time_ms``."""
    blocks = max(time_ms * 1e-3 * sample_rate / block, 1e-9)
    return math.exp(-1.0 / blocks)


def release(reduction_db: np.ndarray, coeff: float) -> np.ndarray:
    """Instant attack, exponential release: ``e[b] = max(d[b], coeff·e[b−1])``, d ≥ 0 dB."""
    d = np.asarray(reduction_db, dtype=np.float64)
    if d.size == 0 or coeff <= 0.0:
        return d.copy()
    log_a = math.log(coeff)
    k = np.arange(d.size, dtype=np.float64)
    with np.errstate(divide="ignore"):
        w = np.log(np.maximum(d, 0.0)) - k * log_a
    w = np.maximum.accumulate(w) + k * log_a
    return np.exp(w)  # exp(−inf) = 0 where nothing was ever reduced


def smooth(x: np.ndarray, coeff: float) -> np.ndarray:
    """One-pole low-pass ``y[b] = coeff·y[b−1] + (1 − coeff)·x[b]``, starting at ``x[0]``."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0 or coeff <= 0.0:
        return x.copy()
    # A first-order section through the biquad kernel (b1 = b2 = a2 = 0: the same sums as
    # a one-pole lfilter), started from the state a constant x[0] would have left.
    sos = np.array([[1.0 - coeff, 0.0, 0.0, 1.0, -coeff, 0.0]])
    y = np.array(x, dtype=np.float64, copy=True).reshape(1, -1)
    sos_filter_rows(sos, y, np.array([[[coeff * x[0], 0.0]]]))
    return y[0]


def forward_min(x: np.ndarray, width: int) -> np.ndarray:
    """``h[j] = min x[j … j+width−1]`` (the window is cut at the end)."""
    h = np.array(x, dtype=np.float64, copy=True)
    for k in range(1, min(width, h.size)):
        np.minimum(h[:-k], x[k:], out=h[:-k])
    return h


def trailing_mean(x: np.ndarray, width: int) -> np.ndarray:
    """``s[b] = mean x[max(0, b−width+1) … b]``."""
    x = np.asarray(x, dtype=np.float64)
    if width <= 1 or x.size == 0:
        return x.copy()
    c = np.concatenate(([0.0], np.cumsum(x)))
    b = np.arange(x.size)
    lo = np.maximum(0, b - width + 1)
    return (c[b + 1] - c[lo]) / (b + 1 - lo)


def soft_knee_reduction(level_db: np.ndarray, threshold_db: float, ratio: float,
                        knee_db: float) -> np.ndarray:
    """Static compressor curve: gain reduction in dB (≥ 0) for an input level in dB."""
    over = np.asarray(level_db, dtype=np.float64) - threshold_db
    slope = 1.0 - 1.0 / ratio
    if knee_db <= 0:
        return np.maximum(over, 0.0) * slope
    out = np.where(over > knee_db / 2, over * slope, 0.0)
    inside = np.abs(over) <= knee_db / 2
    out[inside] = slope * (over[inside] + knee_db / 2) ** 2 / (2 * knee_db)
    return out


def glue_reduction_db(block_power: np.ndarray, *, offset_db: float, threshold_db: float,
                      ratio: float, knee_db: float, attack_ms: float, release_ms: float,
                      block: int, sample_rate: int, rms_ms: float = 10.0) -> np.ndarray:
    """Gain reduction (dB, ≥ 0, one per block) of a stereo-linked RMS glue compressor.

    :param block_power: mean square of the mix per block (averaged over channels).
    :param offset_db: added to the detector level (the mix's pre-scaling to the target).
    """
    if ratio <= 1.0 or block_power.size == 0:
        return np.zeros(block_power.size)
    width = max(1, int(round(rms_ms * 1e-3 * sample_rate / block)))
    rms = trailing_mean(block_power, width)
    with np.errstate(divide="ignore"):
        level = 10.0 * np.log10(np.maximum(rms, 1e-20)) + offset_db
    target = soft_knee_reduction(level, threshold_db, ratio, knee_db)
    held = release(target, coefficient(release_ms, block, sample_rate))
    return smooth(held, coefficient(attack_ms, block, sample_rate))


def compressor_gain_db(peak_db: np.ndarray, *, threshold_db: float, ratio: float,
                       attack_ms: float, release_ms: float, block: int,
                       sample_rate: int) -> np.ndarray:
    """Gain (dB, ≤ 0, one per block) of a feed-forward peak compressor with a hard knee.

    The level detector follows each block's peak instantly and falls at the rate of an
    exponential release of the linear envelope (a straight line in dB:
    ``8.69 dB`` per release time constant) — a closed form:
    ``env[b] = max_k (peak[k] − r·(b − k))``; a one-pole attack then smooths that envelope
    (linear domain), and the gain computer turns it into the reduction. Time constants follow
    JUCE's convention (``time_ms / 2π``), as the strips' former ``pedalboard.Compressor`` did.

    :param peak_db: per block, the largest |sample| in dBFS (−inf for silence).
    """
    if ratio <= 1.0 or peak_db.size == 0:
        return np.zeros(peak_db.size)
    d = np.nan_to_num(np.asarray(peak_db, dtype=np.float64), neginf=-400.0)
    fall_db = 20.0 / math.log(10.0) * block / max(release_ms / (2.0 * math.pi) * 1e-3 * sample_rate, 1e-9)
    k = np.arange(d.size, dtype=np.float64) * fall_db
    held = np.maximum.accumulate(d + k) - k
    # Attack: a one-pole on the linear envelope (rises take ~attack; falls are the release).
    env = smooth(10.0 ** (held / 20.0), coefficient(attack_ms / (2.0 * math.pi), block, sample_rate))
    with np.errstate(divide="ignore"):
        env_db = 20.0 * np.log10(np.maximum(env, 1e-20))
    return -np.maximum(env_db - threshold_db, 0.0) * (1.0 - 1.0 / ratio)


def block_ramp(gain_lin: np.ndarray, block: int, start: int, stop: int) -> np.ndarray:
    """Per-sample gain for samples ``start … stop − 1`` (``start`` a multiple of ``block``):
    ramps linearly from each block's value at its first sample to the next block's, float32.

    :param gain_lin: (blocks,) linear gains; the last one is held.
    """
    b0, b1 = start // block, -(-stop // block)
    g = np.asarray(gain_lin[b0: b1 + 1], dtype=np.float32)
    if g.size < b1 - b0 + 1:
        g = np.append(g, g[-1:])
    ramp = np.arange(block, dtype=np.float32) / np.float32(block)
    out = g[:-1, None] + (g[1:] - g[:-1])[:, None] * ramp[None, :]
    return out.reshape(-1)[: stop - start]


def limiter_gain_db(required_db: np.ndarray, *, lookahead_blocks: int, release_coeff: float) -> np.ndarray:
    """Look-ahead limiter gain (dB, ≤ 0, one per block) that never exceeds ``required_db``.

    :param required_db: the most gain each block may have (≤ 0 where it must be reduced).
    """
    r = np.minimum(np.asarray(required_db, dtype=np.float64), 0.0)
    held = forward_min(r, lookahead_blocks)
    released = release(-held, release_coeff)
    # ≤ r in exact arithmetic; the minimum removes the cumsum's rounding (~1e-12 dB)
    return np.minimum(-trailing_mean(released, lookahead_blocks), r)


def neighbour_min(x: np.ndarray) -> np.ndarray:
    """``min(x[b−1], x[b], x[b+1])`` (edges use what exists)."""
    out = np.array(x, dtype=np.float64, copy=True)
    if out.size > 1:
        np.minimum(out[1:], x[:-1], out=out[1:])
        np.minimum(out[:-1], x[1:], out=out[:-1])
    return out


def curve_at(positions: np.ndarray, gain_lin: np.ndarray, block: int) -> np.ndarray:
    """Per-sample gain at integer sample ``positions`` (any shape) → float32, the linear
    interpolation of ``gain_lin`` between block centres (constant before the first centre and
    after the last).

    Each sample's value is a convex combination of its own block's value and a neighbour's,
    so it never exceeds the larger of the two.
    """
    points = (np.asarray(positions, dtype=np.float64) - (block - 1) / 2.0) / block
    return np.interp(points, _index(gain_lin.size), gain_lin).astype(np.float32)


@lru_cache(maxsize=4)
def _index(size: int) -> np.ndarray:
    return np.arange(size, dtype=np.float64)


def curve_span(gain_lin: np.ndarray, block: int, start: int, stop: int) -> np.ndarray:
    """:func:`curve_at` for the contiguous samples ``start … stop − 1``, (stop − start,)
    float32, computed block by block without a per-sample search (identical values, ~1.5x faster).

    Sample ``j`` of block ``b`` sits at ``f = (j − (block − 1)/2)/block`` from the block's
    centre; its gain is ``g[b] + f·(g[b] − g[b−1])`` before the centre and
    ``g[b] + f·(g[b+1] − g[b])`` after it (neighbours clamped at the ends).
    """
    if stop <= start:
        return np.zeros(0, dtype=np.float32)
    g_all = np.asarray(gain_lin, dtype=np.float64)
    b0, b1 = start // block, -(-stop // block)
    last = g_all.size - 1
    idx = np.arange(b0, b1)
    g = g_all[np.minimum(idx, last)]
    before = g - g_all[np.clip(idx - 1, 0, last)]
    after = g_all[np.minimum(idx + 1, last)] - g
    f_before, f_after = _offsets(block)
    out = g[:, None] + before[:, None] * f_before + after[:, None] * f_after
    return out.reshape(-1)[start - b0 * block: stop - b0 * block].astype(np.float32)


@lru_cache(maxsize=4)
def _offsets(block: int) -> tuple[np.ndarray, np.ndarray]:
    f = (np.arange(block, dtype=np.float64) - (block - 1) / 2.0) / block
    return np.minimum(f, 0.0), np.maximum(f, 0.0)


def expand(gain_lin: np.ndarray, block: int, n_samples: int) -> np.ndarray:
    """Per-sample gain (n_samples,) float32 (see :func:`curve_span`)."""
    return curve_span(gain_lin, block, 0, n_samples)

"""True peak: 4x (or more) oversampled peak meters and the per-block envelope the limiter uses.

Audio is ``(channels, samples)`` float32. The interpolator is a Kaiser-windowed sinc
(32 taps per phase, cutoff at Nyquist, β = 10): flat to ~0.9 x Nyquist and far longer than
the 12-tap filter of BS.1770-4 Annex 2, which under-reads cymbal-like content near Nyquist.
At 4x it agrees with ffmpeg's ebur128 (which resamples to 192 kHz) to a few hundredths of a
dB on audio; ask for ``oversample=8`` for a finer grid.

Only the blocks that can hold the peak are interpolated, and which those are is *proved*,
not guessed. Phase ``p`` of the interpolator (weights ``c_k`` on ``x[n + i_lo + k]``) minus
linear interpolation between ``x[n]`` and ``x[n+1]`` is a kernel ``d`` that (almost)
annihilates straight lines, so it factors as ``d = e ∗ (1, −2, 1) + r`` with ``r`` nonzero
only on the last two taps (~1e-4, from the windowing). Hence, for every in-between value,

    |y_p(n)| ≤ max(|x[n]|, |x[n+1]|) + R · max|x| + E · max|Δ²x|

over the interpolator's window, with ``Δ²x[m] = x[m−1] − 2x[m] + x[m+1]``, ``E = max_p Σ|e|``
(0.42 for this filter at 4x and 8x) and ``R = max_p Σ|r|`` (:func:`curvature_bound`). On
audio, second differences are small wherever the level is high (they grow with frequency
squared): the bound sits a few hundredths (bass, pads) to tenths (voice, drums) of a dB above
the sample peak and rules out all but 3–15 of the 135,000 64-sample blocks of a 3-minute
stem, where the interpolator's L1 norm (+7.3 dB) kept up to 58,000 and the earlier 3 dB
guess up to 11,000. A worst case such as a sine at fs/4 (|Δ²| twice the sample peak) gets a
loose bound and is simply interpolated. :func:`block_peaks` takes ``max|x|`` and
``max|Δ²x|`` per block in one pass over the samples.

Contiguous runs of selected blocks are interpolated with one FIR per phase
(``np.correlate``); scattered blocks gather each sample's interpolation window into a row of a
small matrix product:

* :func:`true_peak_dbtp` is exact: a block is skipped only when the bound above cannot beat
  the best value found;
* :func:`curve_true_peak` measures ``audio·g`` for a piecewise-linear gain g without building
  it (the master's final check).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Callable

import numpy as np

from ainur_cli.mix.dynamics import curve_at
from ainur_cli.dsp.filter_design import kaiser_lowpass

TAPS_PER_PHASE = 32    # interpolator length per phase
TP_CUTOFF = 1.0        # interpolator cutoff, fraction of the input Nyquist
TP_KAISER_BETA = 10.0
# Samples per work unit (rows of the gathered matrix). Kept small on purpose: from ~8k rows
# OpenBLAS goes multi-threaded for this skinny product and gets ~30x slower on a busy
# 2-core machine.
_ROWS = 2048
_RUN_SAMPLES = 1 << 16  # samples per contiguous run (np.correlate has no such problem)
SCREEN_BLOCK = 64       # samples per block of the true-peak screen


@lru_cache(maxsize=4)
def interpolator(oversample: int) -> tuple[np.ndarray, int, float]:
    """Polyphase interpolator: (matrix (taps, oversample − 1) mapping x[n + i_lo … n + i_lo +
    taps − 1] to the values at n + p/oversample, i_lo, the largest per-phase L1 norm)."""
    half = TAPS_PER_PHASE // 2 * oversample
    h = kaiser_lowpass(2 * half + 1, TP_CUTOFF / oversample, TP_KAISER_BETA)
    h *= oversample / np.sum(h)  # unity gain at DC for every phase on average
    i_lo = -(half // oversample) + 1
    taps = TAPS_PER_PHASE
    coefs = np.zeros((taps, oversample - 1))
    for p in range(1, oversample):
        for k in range(taps):
            j = half + p - oversample * (i_lo + k)
            if 0 <= j <= 2 * half:
                coefs[k, p - 1] = h[j]
    l1 = float(np.max(np.sum(np.abs(coefs), axis=0)))
    return coefs.astype(np.float32), i_lo, l1


# Float32 rounding in the meter (a 32-term dot product) and in Δ² is far below this share of
# the level; the bound adds it so that it also holds for the computed values.
_ROUNDING = 2.0 ** -14


@lru_cache(maxsize=4)
def curvature_bound(oversample: int) -> tuple[float, float]:
    """(E, R) of the in-between bound for the ``oversample`` interpolator (see the module
    docstring): ``|y_p(n)| ≤ max(|x[n]|, |x[n+1]|) + R·max|x| + E·max|Δ²x|`` over the window
    ``x[n + i_lo … n + i_lo + taps − 1]``, for every phase p. Computed from the float32
    coefficients the meter uses, in float64."""
    coefs, i_lo, _ = interpolator(oversample)
    taps = coefs.shape[0]
    worst_e, worst_r = 0.0, 0.0
    for p in range(1, oversample):
        d = coefs[:, p - 1].astype(np.float64)
        d[-i_lo] -= 1.0 - p / oversample          # minus linear interpolation x[n] … x[n+1]
        d[-i_lo + 1] -= p / oversample
        e = np.zeros(taps - 2)                     # d = e ∗ (1, −2, 1) + r (r: last two taps)
        for k in range(taps - 2):
            e[k] = d[k] + (2.0 * e[k - 1] if k >= 1 else 0.0) - (e[k - 2] if k >= 2 else 0.0)
        r = d - np.convolve(e, [1.0, -2.0, 1.0])
        if np.any(np.abs(r[: taps - 2]) > 1e-9):   # pragma: no cover - a construction error
            raise AssertionError("curvature_bound: the factorisation does not reproduce d")
        worst_e = max(worst_e, float(np.sum(np.abs(e))))
        worst_r = max(worst_r, float(np.sum(np.abs(r))))
    return worst_e, worst_r


def block_peaks(audio: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Per block, over channels: the largest |sample| and the largest |second difference|
    ``|x[m−1] − 2x[m] + x[m+1]|`` (centres m in the block), in one pass over the samples
    (~0.5 MB at a time). Samples outside the audio are zero; the centres −1 and n, whose
    values are |x[0]| and |x[n−1]|, count for the first and last block.

    :param audio: (channels, samples) float32.
    :returns: (peaks, curvature), two (ceil(samples/block),) float64 arrays.
    """
    x = _as_2d(audio)
    n = x.shape[1]
    peaks = np.zeros(-(-n // block), dtype=np.float64)
    curv = np.zeros_like(peaks)
    step = max(block, (1 << 16) // block * block)
    buf = np.empty((2, x.shape[0], min(step, n)), dtype=np.float32)
    for s in range(0, n, step):
        e = min(s + step, n)
        m = e - s
        seg, a, d1 = x[:, s:e], buf[0, :, :m], buf[1, :, : m - 1]
        np.abs(seg, out=a)
        _into_blocks(a, block, s // block, peaks)
        # Second differences centred on s … e − 1 (x[s − 1] and x[e] as context).
        if m >= 3:
            np.subtract(seg[:, 1:], seg[:, :-1], out=d1)
            np.subtract(d1[:, 1:], d1[:, :-1], out=a[:, 1:-1])
        for j in {0, m - 1}:
            left = x[:, s + j - 1] if s + j >= 1 else 0.0
            right = x[:, s + j + 1] if s + j + 1 < n else 0.0
            a[:, j] = left - 2.0 * x[:, s + j] + right
        np.abs(a, out=a)
        _into_blocks(a, block, s // block, curv)
    if n:
        curv[0] = max(curv[0], float(np.max(np.abs(x[:, 0]))))
        curv[-1] = max(curv[-1], float(np.max(np.abs(x[:, n - 1]))))
    return peaks, curv


def _into_blocks(a: np.ndarray, block: int, b0: int, out: np.ndarray) -> None:
    """``out[b0 + i] = max a[:, i·block … (i+1)·block]`` for every block of ``a`` (c, m);
    overwrites ``a[0]``."""
    top = a[0]
    for ch in range(1, a.shape[0]):
        np.maximum(top, a[ch], out=top)
    full = top.size // block
    if full:
        out[b0: b0 + full] = top[: full * block].reshape(full, block).max(axis=1)
    if top.size > full * block:
        out[b0 + full] = float(top[full * block:].max())


def peak_bound(peaks: np.ndarray, curv: np.ndarray, block: int, oversample: int) -> np.ndarray:
    """Per block, an upper bound of its ``oversample``-times interpolated peak (samples
    included) from :func:`block_peaks` of the same ``block`` size: (1 + R)·(sample peak of
    blocks b−1 … b+1) + E·(largest |Δ²| there), plus float32 rounding (see the module
    docstring). Blocks b−1 … b+1 must hold every sample the interpolator reads for block b.

    :raises ValueError: ``block`` shorter than the interpolator's reach (16 samples).
    """
    coefs, i_lo, _ = interpolator(oversample)
    reach = max(-i_lo, i_lo + coefs.shape[0] - 1)
    if block < reach:
        raise ValueError(f"peak_bound needs blocks of at least {reach} samples; got {block}")
    e, r = curvature_bound(oversample)
    return ((1.0 + r + _ROUNDING) * neighbour_max(peaks)
            + e * (1.0 + _ROUNDING) * neighbour_max(curv))


def highest(values: np.ndarray, count: int) -> np.ndarray:
    """Sorted indices of the ``count`` largest ``values`` (all of them if fewer); O(n)."""
    if values.size <= count:
        return np.arange(values.size)
    return np.sort(np.argpartition(values, values.size - count)[values.size - count:])


def neighbour_max(x: np.ndarray) -> np.ndarray:
    """``max(x[b−1], x[b], x[b+1])`` per block (ends clamped)."""
    out = x.copy()
    if out.size > 1:
        np.maximum(out[1:], x[:-1], out=out[1:])
        np.maximum(out[:-1], x[1:], out=out[:-1])
    return out


def exact_block_peaks(audio: np.ndarray, blocks: np.ndarray, block: int, *,
                      oversample: int = 4, gain: Callable[[np.ndarray], np.ndarray] | None = None
                      ) -> np.ndarray:
    """Max over channels of |samples| and |in-between values| in each of ``blocks``.

    Runs of selected blocks are filtered with one FIR per phase (``np.correlate``); for
    isolated blocks every sample's interpolation window becomes a row of a matrix and one
    small matrix product gives its ``oversample − 1`` in-between values. Samples
    outside the audio count as zero.

    :param audio: (channels, samples) float32.
    :param blocks: sorted, distinct block indices (block ``b`` = samples ``b·block …``).
    :param gain: optional ``gain(positions) → float32`` per-sample gain applied first.
    :returns: (len(blocks),) float64 linear peaks.
    """
    x = _as_2d(audio)
    blocks = np.asarray(blocks, dtype=np.int64)
    out = np.zeros(blocks.size, dtype=np.float64)
    if blocks.size == 0:
        return out
    per = max(1, _RUN_SAMPLES // block)
    # Segments: selected blocks no more than 2 apart, spanning at most `per` blocks.
    run_start = np.r_[True, np.diff(blocks) > 2]
    first_of_run = np.maximum.accumulate(np.where(run_start, np.arange(blocks.size), 0))
    piece = (blocks - blocks[first_of_run]) // per
    start = run_start | np.r_[True, np.diff(piece) != 0]
    bounds = np.r_[np.flatnonzero(start), blocks.size]
    isolated = []
    for i0, i1 in zip(bounds[:-1], bounds[1:]):
        first, last = int(blocks[i0]), int(blocks[i1 - 1])
        if last - first < 4:
            isolated.extend(range(i0, i1))
            continue
        peaks = _run_peaks(x, first * block, (last + 1) * block, block, oversample, gain)
        out[i0:i1] = peaks[blocks[i0:i1] - first]
    if isolated:
        idx = np.asarray(isolated, dtype=np.int64)
        out[idx] = _gathered_peaks(x, blocks[idx], block, oversample, gain)
    return out


def _run_peaks(x, s, e, block, oversample, gain) -> np.ndarray:
    """Per-block peaks of samples ``s … e`` (a whole number of blocks; the end may pass n)."""
    n = x.shape[1]
    matrix, i_lo, _ = interpolator(oversample)
    taps = matrix.shape[0]
    lo, hi = s + i_lo, e + i_lo + taps - 1
    seg = np.zeros((x.shape[0], hi - lo), dtype=np.float32)
    a, b = max(lo, 0), min(hi, n)
    if b > a:
        seg[:, a - lo: b - lo] = x[:, a:b]
    if gain is not None:
        seg *= gain(np.clip(np.arange(lo, hi), 0, n - 1))
    rows = e - s
    best = np.abs(seg[:, -i_lo: -i_lo + rows]).max(axis=0)
    # One FIR per phase (np.correlate: a vectorised dot product per output, no window copy).
    phases = np.ascontiguousarray(matrix.T)
    for ch in range(seg.shape[0]):
        for p in range(phases.shape[0]):
            np.maximum(best, np.abs(np.correlate(seg[ch], phases[p], "valid")[:rows]), out=best)
    return best.reshape(-1, block).max(axis=1).astype(np.float64)


def _gathered_peaks(x, blocks, block, oversample, gain) -> np.ndarray:
    """Per-block peaks of scattered blocks, their windows gathered by index."""
    n = x.shape[1]
    matrix, i_lo, _ = interpolator(oversample)
    taps = matrix.shape[0]
    out = np.zeros(blocks.size, dtype=np.float64)
    per = max(1, _ROWS // block)
    offsets = np.arange(block)[None, :]
    window = np.arange(i_lo, i_lo + taps)[None, :]
    for s in range(0, blocks.size, per):
        sel = blocks[s: s + per]
        pos = (sel[:, None] * block + offsets).ravel()
        idx = pos[:, None] + window
        outside = (idx < 0) | (idx >= n)
        np.clip(idx, 0, n - 1, out=idx)
        g = gain(idx) if gain is not None else None
        best = np.zeros(pos.size, dtype=np.float32)
        for ch in range(x.shape[0]):
            w = x[ch][idx]
            if outside.any():
                w[outside] = 0.0
            if g is not None:
                w *= g
            y = np.abs(w @ matrix).max(axis=1)
            np.maximum(y, np.abs(w[:, -i_lo]), out=y)
            np.maximum(best, y, out=best)
        out[s: s + sel.size] = best.reshape(sel.size, block).max(axis=1)
    return out


def block_abs_max(audio: np.ndarray, block: int) -> np.ndarray:
    """Per-block max of |x| over channels and samples; (ceil(samples/block),) float64."""
    x = _as_2d(audio)
    n = x.shape[1]
    out = np.zeros(-(-n // block), dtype=np.float64)
    step = max(block, (1 << 17) // block * block)  # whole blocks, ~0.5 MB per channel
    for s in range(0, n, step):
        _into_blocks(np.abs(x[:, s: s + step]), block, s // block, out)
    return out


def true_peak_linear(audio: np.ndarray, sample_rate: int, oversample: int = 4) -> float:
    """Largest absolute value of the ``oversample``-times interpolated signal (linear), samples
    included: exact — only blocks whose :func:`peak_bound` beats the best value found are
    skipped (in audio, all but a handful)."""
    x = _as_2d(audio)
    if x.size == 0:
        return 0.0
    if oversample < 2:
        return float(np.max(np.abs(x)))
    peaks, curv = block_peaks(x, SCREEN_BLOCK)
    return refine_true_peak(x, peaks, curv, SCREEN_BLOCK, oversample)


def refine_true_peak(audio: np.ndarray, peaks: np.ndarray, curv: np.ndarray, block: int,
                     oversample: int = 4) -> float:
    """:func:`true_peak_linear` from :func:`block_peaks` already taken (``block`` ≥ 17)."""
    x = _as_2d(audio)
    best = float(peaks.max()) if peaks.size else 0.0
    if best == 0.0:
        return 0.0
    bound = peak_bound(peaks, curv, block, oversample)
    # The highest bounds first (they set a high bar), then every block that can beat it.
    first = highest(bound, 16)
    best = max(best, float(exact_block_peaks(x, first, block, oversample=oversample).max()))
    rest = np.setdiff1d(np.flatnonzero(bound > best), first)
    if rest.size:
        best = max(best, float(exact_block_peaks(x, rest, block, oversample=oversample).max()))
    return best


def true_peak_dbtp(audio: np.ndarray, sample_rate: int, oversample: int = 4) -> float:
    """True peak of ``audio`` (channels, samples) in dBTP (≥ 4x oversampled, exact for that
    interpolator); −inf if silent."""
    peak = true_peak_linear(audio, sample_rate, oversample)
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def curve_true_peak(audio: np.ndarray, curve: np.ndarray, block: int, env: np.ndarray,
                    local: np.ndarray, ceiling_db: float, *, tolerance_db: float = 0.1,
                    oversample: int = 8) -> float:
    """True peak (dBTP) of ``audio·g``, g the per-sample interpolation of ``curve`` (one linear
    gain per block, see :func:`ainur_cli.mix.dynamics.curve_at`), without building it.

    At an in-between point ``t`` of block ``b`` the product's value is
    ``g(t)·y(t) + Σ_k c_k (g[m_k] − g(t)) x[m_k]``, with ``|y| ≤ env_b`` and g piecewise
    linear with slope ≤ ``s_b``: at most ``max g·env_b + s_b·W·local_b`` where
    ``W = Σ_k |c_k|·|m_k − t|``. Blocks are oversampled — highest bound first — until no
    remaining bound exceeds the ceiling or the best value found plus ``tolerance_db``: the
    result is then at most that much low, and the signal is certainly under ``ceiling_db``
    when the result is.

    :param env: per block, the oversampled peak of ``audio`` (exact, or an upper bound such
        as :func:`peak_bound`).
    :param local: per block, the sample peak of ``audio`` in blocks b−1 … b+1.
    """
    coefs, i_lo, _ = interpolator(oversample)
    phases = np.arange(1, oversample)[None, :] / oversample
    offsets = np.arange(i_lo, i_lo + coefs.shape[0])[:, None] - phases
    w = float(np.max(np.sum(np.abs(coefs) * np.abs(offsets), axis=0)))
    n_blocks = env.size
    idx = np.arange(n_blocks)
    step = np.abs(np.diff(curve, append=curve[-1:])) / block      # slope after control point j
    slope = np.zeros(n_blocks)
    gmax = curve.copy()
    for shift in (-2, -1, 0, 1):  # segments that reach samples of blocks b−1 … b+1
        np.maximum(slope, step[np.clip(idx + shift, 0, n_blocks - 1)], out=slope)
    for shift in (-1, 1):
        np.maximum(gmax, curve[np.clip(idx + shift, 0, n_blocks - 1)], out=gmax)
    bound = gmax * env + slope * w * local

    def gain(positions: np.ndarray) -> np.ndarray:
        return curve_at(positions, curve, block)

    first = highest(bound, 64)
    best = float(exact_block_peaks(audio, first, block, gain=gain, oversample=oversample).max())
    limit = min(10.0 ** (ceiling_db / 20.0), best * 10.0 ** (tolerance_db / 20.0))
    rest = np.setdiff1d(np.flatnonzero(bound > limit), first)
    if rest.size:
        best = max(best, float(exact_block_peaks(audio, rest, block, gain=gain,
                                                 oversample=oversample).max()))
    return 20.0 * math.log10(best) if best > 0 else -math.inf


def sample_peak_dbfs(audio: np.ndarray) -> float:
    """Largest absolute sample value of ``audio`` in dBFS; −inf if silent or empty."""
    peak = float(np.max(np.abs(audio))) if np.size(audio) else 0.0
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def _as_2d(audio: np.ndarray) -> np.ndarray:
    a = np.asarray(audio)
    if a.ndim == 1:
        return a[None, :]
    if a.ndim != 2 or a.shape[0] > 5:
        raise ValueError(f"audio must be (channels ≤ 5, samples); got shape {a.shape}")
    return a

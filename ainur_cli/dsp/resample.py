"""Rational-ratio resampling (polyphase FIR) in numpy alone: the voice's 22 050 Hz → output rate.

:func:`resample_poly` resamples by ``up / down``: conceptually the signal is zero-stuffed
``up`` times, low-passed by a Kaiser-windowed sinc (cut-off at the lower of the two Nyquist
rates, ``10·max(up, down)`` taps either side of the centre at the stuffed rate, β = 5 — the
design of ``scipy.signal.resample_poly``'s default) and kept every ``down``-th sample; the
output sample ``j`` sits at input time ``j·down/up`` (no delay) and the signal counts as zero
outside its ends. A test checks passband ripple, stopband attenuation and the output itself
against ``scipy.signal.resample_poly``. :func:`resample_sounding` computes it only around a
signal's non-zero stretches (a vocal is silent between its phrases).

How it is computed: output ``j = φ + q·up`` (phase φ) is
``Σ_k x[q·down + k] · g[φ·down − k·up]``, so with ``X[q, c] = x[q·down + k_min + c]`` (a
strided view of the input; only the rows at either end read a zero-padded copy) the outputs
form a matrix product ``Y[q, φ] = Σ_c X[q, c] · G[c, φ]`` whose row-major order is the
output order. ``G`` is
sparse (each phase uses ~``2·10·max(up, down)/up`` taps), so phases are taken in groups of
consecutive phases whose taps fall in a narrow band of columns, each group one dense
product over the rows. Products stay small (≲ 2.6·10⁵ multiply-adds), below the size where
OpenBLAS starts threads (on a busy machine those cost more than they save).
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np

from ainur_cli.dsp.filter_design import kaiser_lowpass

HALF_TAPS_PER_RATE = 10   # taps either side of the centre, per max(up, down) (scipy's default)
KAISER_BETA = 5.0
_GROUP_PHASES = 24        # phases per dense product
_PRODUCT_MACS = 1 << 18   # multiply-adds per product at most (single-threaded BLAS)
SILENCE_BLOCK = 2048      # resample_sounding: input samples per silence check
MERGE_BLOCKS = 4          # … and silent blocks between two runs that make them one


@lru_cache(maxsize=8)
def _plan(up: int, down: int) -> tuple[int, int, list[tuple[int, int, int, int, np.ndarray]]]:
    """(k_min, columns, [(phase_lo, phase_hi, col_lo, col_hi, G block)]) for a ratio."""
    rate = max(up, down)
    half = HALF_TAPS_PER_RATE * rate
    g = kaiser_lowpass(2 * half + 1, 1.0 / rate, KAISER_BETA) * up  # unity gain per phase
    k_min = -(half // up)
    k_max = ((up - 1) * down + half) // up
    cols = k_max - k_min + 1
    k = np.arange(k_min, k_max + 1)[:, None]
    m = np.arange(up)[None, :] * down - k * up                    # (cols, up) taps' offsets
    inside = np.abs(m) <= half
    full = np.where(inside, g[np.clip(m + half, 0, 2 * half)], 0.0)
    groups = []
    for lo in range(0, up, _GROUP_PHASES):
        hi = min(lo + _GROUP_PHASES, up)
        used = np.flatnonzero(inside[:, lo:hi].any(axis=1))
        c0, c1 = int(used[0]), int(used[-1]) + 1
        groups.append((lo, hi, c0, c1, np.ascontiguousarray(full[c0:c1, lo:hi])))
    return k_min, cols, groups


def resample_poly(x: np.ndarray, up: int, down: int) -> np.ndarray:
    """Resample each row of ``x`` by ``up / down`` (see the module docstring).

    :param x: (channels, samples) float (computed in float64).
    :param up: upsampling factor, ≥ 1.
    :param down: downsampling factor, ≥ 1.
    :returns: (channels, ceil(samples·up/down)) float64.
    """
    if int(up) != up or int(down) != down or up < 1 or down < 1:
        raise ValueError(f"up and down must be integers ≥ 1; got {up!r}, {down!r}")
    ratio = Fraction(int(up), int(down))
    up, down = ratio.numerator, ratio.denominator
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"resample_poly takes (channels, samples); got shape {x.shape}")
    n = x.shape[1]
    n_out = -(-n * up // down)
    if up == down == 1:
        return x.copy()
    k_min, cols, groups = _plan(up, down)
    rows = -(-n_out // up)
    out = np.empty((x.shape[0], rows * up))
    for ch in range(x.shape[0]):
        y = out[ch].reshape(rows, up)
        for q0, view in _row_windows(np.ascontiguousarray(x[ch]), rows, k_min, cols, down):
            for lo, hi, c0, c1, block in groups:
                step = max(1, _PRODUCT_MACS // block.size)
                for r in range(0, view.shape[0], step):
                    e = min(r + step, view.shape[0])
                    y[q0 + r: q0 + e, lo:hi] = view[r:e, c0:c1] @ block
    return out[:, :n_out]


def resample_sounding(x: np.ndarray, up: int, down: int, *,
                      dtype: type = np.float32) -> np.ndarray:
    """:func:`resample_poly` of ``x``, computed only around its non-zero samples.

    An output sample whose input window (the filter's ``10·max(up, down)/up`` input samples
    either side of it) holds only zeros is exactly zero, so a signal that is silent most of
    the time (the voice between its phrases) is resampled piece by piece: each run of
    :data:`SILENCE_BLOCK`-sample input blocks that hold a non-zero sample (runs less than
    :data:`MERGE_BLOCKS` blocks apart are one run), widened by the filter's reach and started
    on a multiple of ``down`` so that its outputs are the whole signal's outputs
    ``a·up/down …``. Everything else stays zero.

    :param x: (channels, samples) float.
    :returns: (channels, ceil(samples·up/down)) in ``dtype``: the same shape and filter as
        :func:`resample_poly`. Where a piece is computed the numbers are those of a
        whole-signal run up to the last bit of the float64 sums (BLAS may group the
        products of a shorter matrix differently); a test checks them to 1e-12.
    """
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"resample_sounding takes (channels, samples); got shape {x.shape}")
    ratio = Fraction(int(up), int(down))
    up, down = ratio.numerator, ratio.denominator
    n = x.shape[1]
    out = np.zeros((x.shape[0], -(-n * up // down)), dtype=dtype)
    blocks = -(-n // SILENCE_BLOCK)
    loud = np.zeros(blocks, dtype=bool)
    whole = n // SILENCE_BLOCK
    loud[:whole] = x[:, : whole * SILENCE_BLOCK].reshape(x.shape[0], whole, SILENCE_BLOCK).any(axis=(0, 2))
    if whole < blocks:
        loud[whole] = x[:, whole * SILENCE_BLOCK:].any()
    on = np.flatnonzero(loud)
    if on.size == 0:
        return out
    split = np.flatnonzero(np.diff(on) > MERGE_BLOCKS)
    starts = np.concatenate((on[:1], on[split + 1])) * SILENCE_BLOCK
    ends = (np.concatenate((on[split], on[-1:])) + 1) * SILENCE_BLOCK
    reach = HALF_TAPS_PER_RATE * max(up, down) // up + 2    # input samples either side
    pieces: list[list[int]] = []
    for a, b in zip(starts, ends):
        a = max(0, int(a) - reach) // down * down
        b = min(n, int(b) + reach)
        if pieces and a < pieces[-1][1]:   # (only where ``down`` is longer than the gaps)
            pieces[-1][1] = b
        else:
            pieces.append([a, b])
    for a, b in pieces:
        y = resample_poly(x[:, a:b], up, down)
        o = a // down * up
        m = min(y.shape[1], out.shape[1] - o)
        out[:, o: o + m] = y[:, :m]
    return out


def _row_windows(x: np.ndarray, rows: int, k_min: int, cols: int, down: int):
    """``X[q, c] = x[q·down + k_min + c]`` (zero outside ``x``) for q < rows, c < cols, as
    (first row, (rows, cols) strided view) pieces: the rows whose window lies inside ``x``
    view it directly; only the few rows at either end read a zero-padded copy."""
    n, step = x.shape[0], x.itemsize

    def view(buf: np.ndarray, count: int) -> np.ndarray:
        return np.lib.stride_tricks.as_strided(buf, (count, cols), (down * step, step),
                                               writeable=False)

    def padded(q0: int, q1: int):
        a, b = q0 * down + k_min, (q1 - 1) * down + k_min + cols
        buf = np.zeros(b - a)
        lo, hi = max(a, 0), min(b, n)
        if hi > lo:
            buf[lo - a: hi - a] = x[lo:hi]
        return q0, view(buf, q1 - q0)

    first = min(rows, -(k_min // down))                     # q·down + k_min ≥ 0 from here
    last = max(first, min(rows, (n - cols - k_min) // down + 1))  # … and ≤ n − cols before here
    if first:
        yield padded(0, first)
    if last > first:
        yield first, view(x[first * down + k_min:], last - first)
    if rows > last:
        yield padded(last, rows)

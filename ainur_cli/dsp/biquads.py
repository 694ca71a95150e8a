"""Biquad cascades run in place, with their state kept between chunks.

``scipy.signal.sosfilt`` is the reference; for chunked filtering its wrapper costs about a
quarter of the work (a fresh C-ordered copy of every chunk, a copy of the state, axis moves):
a biquad is latency-bound at a few ns per sample whatever the section count, so the
overhead matters. :func:`sos_filter_rows` calls the compiled kernel scipy's ``sosfilt`` ends
in (``scipy.signal._sosfilt._sosfilt``, which filters C-contiguous rows in place and updates
the state in place, without the GIL) on caller-owned buffers — so the numbers are exactly
``sosfilt``'s (a test checks bit equality).

The kernel is loaded without ``scipy.signal`` (whose import pulls scipy.stats, interpolate,
optimize and spatial: ~0.6 CPU-s, the largest part of importing the render stack) by
:func:`ainur_cli.dsp.scipy_kernels.load_extension`. scipy is not pinned (``scipy>=1.11``), so
the kernel is trusted only after it reproduces a known answer (:func:`_kernel_works`: two
sections with dyadic coefficients, whose output is exact in every float and complex type).
When the file is missing, fails to load or answers wrongly, the public
``scipy.signal.sosfilt`` is used instead (imported then, with a warning in the log): slower to
import, same numbers.

Denormals: a recursive filter fed silence decays into subnormal floats (below 1.2e-38 in
float32) and, in IEEE arithmetic, never quite reaches zero. On many x86 CPUs every operation
on a subnormal takes a microcode assist, 10-20x the normal cost (measured on an Intel Xeon:
a biquad over 3 minutes of silence after a burst 1.3 s instead of 0.09 s), and the filter
"at rest" test (a zero state) never becomes true, so silent stretches are filtered in full.
:func:`sos_filter_rows` therefore checks its input in :data:`GUARD_BLOCK`-sample blocks: where
a row is silent (exact zeros) for at least two blocks it filters on block by block only
until every state value of that row is below :data:`FLUSH_LEVEL`, then sets that state to
exactly zero and leaves the rest of the silence untouched (zeros). What that drops is the
ring-out of a state that small: a few times 1e-30 (under 1e-27, -540 dBFS, in the tests); a
row with no such silence gives exactly ``sosfilt``'s numbers.

Shapes: ``sos`` (sections, 6); signals are rows ``(signals, samples)``; state ``zi``
(signals, sections, 2) — all one dtype (float32, float64, complex64 or complex128).
"""

from __future__ import annotations

import logging

import numpy as np

from ainur_cli.dsp.buffers import work_buffer
from ainur_cli.dsp.scipy_kernels import load_extension

log = logging.getLogger(__name__)

_KERNEL_DTYPES = (np.float32, np.float64, np.complex64, np.complex128)
_COMPLEX = {np.dtype(np.float32): np.dtype(np.complex64), np.dtype(np.float64): np.dtype(np.complex128)}
PAIR_MAX_SECTIONS = 2  # up to this many sections, two rows run faster as one complex row
GUARD_BLOCK = 1024     # samples per silence check (see "Denormals" above)
FLUSH_LEVEL = 1e-30    # a state below this, with silence ahead, is set to exactly zero


def _reference_answer(sos: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Direct form II transposed, one sample at a time in Python floats (the reference)."""
    y = np.empty_like(x, dtype=np.float64)
    zi = np.zeros((len(sos), 2))
    for n, value in enumerate(x.astype(np.float64)):
        for i, (b0, b1, b2, _a0, a1, a2) in enumerate(sos.astype(np.float64)):
            out = b0 * value + zi[i, 0]
            zi[i, 0] = b1 * value - a1 * out + zi[i, 1]
            zi[i, 1] = b2 * value - a2 * out
            value = out
        y[n] = value
    return y, zi


def _kernel_works(kernel) -> bool:
    """The kernel filters like DF-II-T ``sosfilt`` with state (checked once on import, in
    every dtype used; dyadic coefficients make every intermediate exact)."""
    if kernel is None:
        return False
    sos = np.array([[0.5, 0.25, 0.125, 1.0, -0.5, 0.25],
                    [1.0, -0.5, 0.0, 1.0, 0.25, 0.0]])
    x = np.arange(1.0, 9.0)
    want, want_zi = _reference_answer(sos, x)
    try:
        for dtype in (np.float32, np.float64, np.complex64, np.complex128):
            # (complex: the real reference on the real part, half of it on the imaginary part)
            scale = 1.0 if np.dtype(dtype).kind == "f" else 1.0 + 0.5j
            got, zi = (x * scale).astype(dtype).reshape(1, -1), np.zeros((1, 2, 2), dtype)
            kernel(sos.astype(dtype), got, zi)
            if not (np.array_equal(got[0], want * scale) and np.array_equal(zi[0], want_zi * scale)):
                return False
    except Exception:  # noqa: BLE001 - any failure means: use the public function
        return False
    return True


_kernel = getattr(load_extension("scipy.signal._sosfilt"), "_sosfilt", None)
_USE_KERNEL = _kernel_works(_kernel)
if not _USE_KERNEL:  # pragma: no cover - depends on the scipy release
    log.warning("scipy's compiled sosfilt kernel could not be loaded on its own; "
                "biquads use scipy.signal.sosfilt (slower to import, same numbers)")


def _run(coefs: np.ndarray, x: np.ndarray, zi: np.ndarray) -> None:
    """One call of the kernel (or of ``sosfilt``) on C-contiguous ``x`` and ``zi``, in place."""
    if not x.shape[1]:
        return
    if _USE_KERNEL and x.dtype.type in _KERNEL_DTYPES:
        _kernel(coefs, x, zi)
        return
    import scipy.signal as ss  # the fallback (see the module docstring)

    # sosfilt's state layout for axis=-1 is (sections, signals, 2).
    y, z = ss.sosfilt(coefs, x, axis=-1, zi=np.moveaxis(zi, 1, 0))
    x[...] = y
    zi[...] = np.moveaxis(z, 0, 1)


def true_runs(mask: np.ndarray, min_length: int = 1) -> list[tuple[int, int]]:
    """``(first, end)`` indices of the runs of True in the 1-D ``mask`` that are at least
    ``min_length`` long."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2]) if b - a >= min_length]


def _guarded(coefs: np.ndarray, x: np.ndarray, zi: np.ndarray) -> None:
    """:func:`_run`, except inside long silences once the state has decayed (see "Denormals")."""
    rows, n = x.shape
    blocks = n // GUARD_BLOCK
    if blocks < 2:
        _run(coefs, x, zi)
        return
    live = x[:, :blocks * GUARD_BLOCK].reshape(rows, blocks, GUARD_BLOCK).any(axis=2)
    if live.all():
        _run(coefs, x, zi)
        return
    for r in range(rows):
        row, state = x[r: r + 1], zi[r: r + 1]
        pos = 0
        for first, end in true_runs(~live[r], 2):   # silences of two blocks or more
            a, b = first * GUARD_BLOCK, end * GUARD_BLOCK
            _run(coefs, row[:, pos:a], state)
            pos = a
            while pos < b and np.abs(state).max() >= FLUSH_LEVEL:
                _run(coefs, row[:, pos: pos + GUARD_BLOCK], state)
                pos += GUARD_BLOCK
            if pos < b:
                row[:, pos:b] = 0.0   # what the filter gives there is below FLUSH_LEVEL
                state[...] = 0.0
                pos = b
        _run(coefs, row[:, pos:], state)


def sos_filter_rows(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> np.ndarray:
    """Filter every row of ``x`` through the cascade ``sos``, in place, continuing from and
    updating the state ``zi``. Inside silences of at least two :data:`GUARD_BLOCK` blocks,
    once a row's state is below :data:`FLUSH_LEVEL` it is set to zero and the rest of that
    silence stays zero (no subnormal arithmetic; see the module docstring).

    :param sos: (sections, 6), cast to the dtype of ``x``.
    :param x: (signals, samples), writable; overwritten by the output (C-contiguous rows are
        filtered where they are, other layouts through a contiguous copy).
    :param zi: (signals, sections, 2) state, the dtype of ``x``; updated.
    :returns: ``x``.
    """
    if x.ndim != 2 or zi.shape != (x.shape[0], sos.shape[0], 2) or sos.shape[-1:] != (6,):
        raise ValueError(f"sos (sections, 6), x (signals, samples) and zi (signals, sections, 2) "
                         f"do not fit: {sos.shape}, {x.shape}, {zi.shape}")
    if not x.shape[1]:
        return x
    coefs = np.ascontiguousarray(sos, dtype=x.dtype if x.dtype.type in _KERNEL_DTYPES else None)
    direct = x.flags.c_contiguous and x.flags.writeable
    work = x if direct else np.ascontiguousarray(x)
    state = zi if zi.flags.c_contiguous and zi.flags.writeable else np.ascontiguousarray(zi)
    if zi.dtype != x.dtype:
        state = state.astype(x.dtype)
    _guarded(coefs, work, state)
    if not direct:
        x[...] = work
    if state is not zi:
        zi[...] = state
    return x


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """``a`` and ``b`` (same shape, a real dtype) are equal bit for bit (−0.0 ≠ 0.0); a
    short prefix is compared first, so differing rows cost almost nothing."""
    if a.dtype.kind != "f" or a.dtype.itemsize not in (4, 8):
        return False
    a, b = a.view(f"u{a.dtype.itemsize}"), b.view(f"u{a.dtype.itemsize}")
    return bool(np.array_equal(a.reshape(-1)[:64], b.reshape(-1)[:64]) and np.array_equal(a, b))


class ChunkFilter:
    """A cascade run chunk by chunk over ``(signals, m)`` chunks with its state kept.

    Each row is filtered in place in the destination (a one-row view of a C-ordered array is
    contiguous even when the array is longer: no copy), so source and destination may be
    views into longer ``(signals, samples)`` arrays, and may be the same memory.

    A row equal to the row before it, bit for bit, and with the same state, would give the
    same output and state: it is copied instead of filtered (the two channels of a centred
    mono source or of a single-take vocal — half the work, the same numbers). Two different
    rows through a short cascade (≤ :data:`PAIR_MAX_SECTIONS` sections) run as the real and
    imaginary part of one complex row: the kernel is latency-bound, and a complex sample
    through real coefficients is two independent real ones computed side by side (the same
    products and sums, so the same numbers; ~30 % less time for one section, ~15 % for two).
    """

    def __init__(self, sos: np.ndarray, signals: int, dtype=np.float32):
        self.sos = np.ascontiguousarray(sos, dtype=dtype)
        self.zi = np.zeros((signals, self.sos.shape[0], 2), dtype=dtype)

    def __call__(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``out[...] =`` the filtered ``x`` (signals, m); returns ``out``."""
        if not (x.shape == out.shape and x.strides == out.strides
                and x.__array_interface__["data"][0] == out.__array_interface__["data"][0]):
            out[...] = x  # (numpy buffers overlapping copies itself)
        copies = [row > 0 and _same(self.zi[row], self.zi[row - 1]) and _same(out[row], out[row - 1])
                  for row in range(out.shape[0])]  # decided on the inputs
        if (out.shape[0] == 2 and not copies[1] and len(self.sos) <= PAIR_MAX_SECTIONS
                and self.sos.dtype in _COMPLEX and out.shape[1]):
            self._pair(out)
            return out
        for row, copy in enumerate(copies):
            if copy:
                out[row] = out[row - 1]  # the row before, filtered
                self.zi[row] = self.zi[row - 1]
            else:
                sos_filter_rows(self.sos, out[row: row + 1], self.zi[row: row + 1])
        return out

    def _pair(self, out: np.ndarray) -> None:
        """Filter the two rows of ``out`` as one complex row (see the class docstring)."""
        dtype = _COMPLEX[self.sos.dtype]
        pair = work_buffer("biquad pair", (1, out.shape[1]), dtype)
        pair.real[0], pair.imag[0] = out[0], out[1]
        state = np.empty((1,) + self.zi.shape[1:], dtype)
        state.real[0], state.imag[0] = self.zi[0], self.zi[1]
        sos_filter_rows(self.sos.astype(dtype), pair, state)
        out[0], out[1] = pair.real[0], pair.imag[0]
        self.zi[0], self.zi[1] = state.real[0], state.imag[0]

    def idle(self) -> bool:
        """At rest (zero state): a silent input then gives an exactly silent output."""
        return not self.zi.any()

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


def sos_filter_rows(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> np.ndarray:
    """Filter every row of ``x`` through the cascade ``sos``, in place, continuing from and
    updating the state ``zi``.

    :param sos: (sections, 6), cast to the dtype of ``x``.
    :param x: (signals, samples), writable; overwritten by the output (C-contiguous rows are
        filtered where they are, other layouts through a contiguous copy).
    :param zi: (signals, sections, 2) state, the dtype of ``x``; updated.
    :returns: ``x``.
    """
    if x.ndim != 2 or zi.shape != (x.shape[0], sos.shape[0], 2) or sos.shape[-1:] != (6,):
        raise ValueError(f"sos (sections, 6), x (signals, samples) and zi (signals, sections, 2) "
                         f"do not fit: {sos.shape}, {x.shape}, {zi.shape}")
    if _USE_KERNEL and x.dtype.type in _KERNEL_DTYPES and zi.dtype == x.dtype:
        if not x.shape[1]:
            return x
        coefs = np.ascontiguousarray(sos, dtype=x.dtype)
        direct = x.flags.c_contiguous and x.flags.writeable
        work = x if direct else np.ascontiguousarray(x)
        state = zi if zi.flags.c_contiguous and zi.flags.writeable else np.ascontiguousarray(zi)
        _kernel(coefs, work, state)
        if not direct:
            x[...] = work
        if state is not zi:
            zi[...] = state
        return x
    import scipy.signal as ss  # the fallback (see the module docstring)

    # sosfilt's state layout for axis=-1 is (sections, signals, 2).
    y, z = ss.sosfilt(sos, x, axis=-1, zi=np.moveaxis(zi, 1, 0))
    x[...] = y
    zi[...] = np.moveaxis(z, 0, 1)
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

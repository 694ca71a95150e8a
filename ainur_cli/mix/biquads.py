"""Biquad cascades run in place, with their state kept between chunks.

``scipy.signal.sosfilt`` is the reference; for chunked filtering its wrapper costs about a
quarter of the work (a fresh C-ordered copy of every chunk, a copy of the state, axis moves):
a biquad is latency-bound at a few ns per sample whatever the section count, so the
overhead matters. :func:`sos_filter_rows` calls the same compiled kernel scipy's
``sosfilt`` ends in (``scipy.signal._sosfilt._sosfilt``, which filters C-contiguous rows in
place and updates the state in place, without the GIL) on caller-owned buffers — so the
numbers are exactly ``sosfilt``'s (a test checks bit equality). Should a scipy release
drop or change that private kernel, the public ``sosfilt`` is used instead.

Shapes: ``sos`` (sections, 6); signals are rows ``(signals, samples)``; state ``zi``
(signals, sections, 2) — all one dtype (float32, float64, complex64 or complex128).
"""

from __future__ import annotations

import numpy as np
import scipy.signal as ss

try:  # the compiled kernel behind scipy.signal.sosfilt (private: checked, with a fallback)
    from scipy.signal._sosfilt import _sosfilt as _kernel
except ImportError:  # pragma: no cover - depends on the scipy release
    _kernel = None

_KERNEL_DTYPES = (np.float32, np.float64, np.complex64, np.complex128)


def _kernel_works() -> bool:
    """The private kernel exists and filters like ``sosfilt`` (checked once on import)."""
    if _kernel is None:
        return False
    try:
        sos = np.array([[0.5, 0.25, 0.125, 1.0, -0.5, 0.25]], dtype=np.float32)
        x = np.arange(1.0, 9.0, dtype=np.float32).reshape(1, 8)
        zi = np.zeros((1, 1, 2), dtype=np.float32)
        want, want_zi = ss.sosfilt(sos, x, axis=-1, zi=zi)
        _kernel(sos, x, zi)
        return bool(np.array_equal(x, want) and np.array_equal(zi, want_zi))
    except Exception:  # noqa: BLE001 - any mismatch means: use the public function
        return False


_USE_KERNEL = _kernel_works()


def sos_filter_rows(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> np.ndarray:
    """Filter every row of ``x`` through the cascade ``sos``, in place, continuing from and
    updating the state ``zi``.

    :param sos: (sections, 6) C-contiguous, the dtype of ``x``.
    :param x: (signals, samples) C-contiguous, writable; overwritten by the output.
    :param zi: (signals, sections, 2) C-contiguous state, the dtype of ``x``; updated.
    :returns: ``x``.
    """
    if (_USE_KERNEL and x.dtype.type in _KERNEL_DTYPES and sos.dtype == x.dtype
            and zi.dtype == x.dtype and x.flags.c_contiguous and x.flags.writeable
            and sos.flags.c_contiguous and zi.flags.c_contiguous and x.ndim == 2
            and zi.shape == (x.shape[0], sos.shape[0], 2)):
        if x.shape[1]:
            _kernel(sos, x, zi)
        return x
    # sosfilt's state layout for axis=-1 is (sections, signals, 2).
    y, z = ss.sosfilt(sos, x, axis=-1, zi=np.moveaxis(zi, 1, 0))
    x[...] = y
    zi[...] = np.moveaxis(z, 0, 1)
    return x


class ChunkFilter:
    """A cascade run chunk by chunk over ``(signals, m)`` chunks with its state kept.

    Each row is filtered in place in the destination (a one-row view of a C-ordered array is
    contiguous even when the array is longer: no copy), so source and destination may be
    views into longer ``(signals, samples)`` arrays, and may be the same memory.
    """

    def __init__(self, sos: np.ndarray, signals: int, dtype=np.float32):
        self.sos = np.ascontiguousarray(sos, dtype=dtype)
        self.zi = np.zeros((signals, self.sos.shape[0], 2), dtype=dtype)

    def __call__(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``out[...] =`` the filtered ``x`` (signals, m); returns ``out``."""
        if not (x.shape == out.shape and x.strides == out.strides
                and x.__array_interface__["data"][0] == out.__array_interface__["data"][0]):
            out[...] = x  # (numpy buffers overlapping copies itself)
        for row in range(out.shape[0]):
            sos_filter_rows(self.sos, out[row: row + 1], self.zi[row: row + 1])
        return out

    def idle(self) -> bool:
        """At rest (zero state): a silent input then gives an exactly silent output."""
        return not self.zi.any()

"""Per-thread work buffers reused from one stem to the next.

A 3-minute stereo stem at 48 kHz is 69 MB; a fresh full-length temporary (a strip's send,
the reverb's transform buffers) costs a page fault per 4 KiB on first touch — about as much
system time as the arithmetic done in it, since numpy returns such large blocks to the
kernel when they are freed. The strips therefore take their large temporaries from here: a
buffer per (thread, purpose) that grows to the largest size asked for and is handed out
again on the next call in the same thread (a render worker runs its stems one after the
other, so every stem after its first reuses the memory).

A buffer's content is whatever the last user left: callers overwrite what they read. Two
uses that are alive at the same time need different ``purpose`` keys.
"""

from __future__ import annotations

import math
import threading

import numpy as np

_local = threading.local()


def work_buffer(purpose: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """An uninitialised C-contiguous array of ``shape`` and ``dtype`` backed by this
    thread's buffer for ``purpose`` (valid until the next call with the same purpose)."""
    dtype = np.dtype(dtype)
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
    size = math.prod(shape)
    buf = pool.get((purpose, dtype))
    if buf is None or buf.size < size:
        buf = pool[purpose, dtype] = np.empty(size, dtype=dtype)
    return buf[:size].reshape(shape)

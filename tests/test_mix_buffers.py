"""Per-thread work buffers: reused within a thread, never shared between threads."""

import threading

import numpy as np

from ainur_cli.dsp.buffers import work_buffer


def test_same_purpose_reuses_memory_and_grows():
    a = work_buffer("test a", (2, 1000), np.float32)
    a[...] = 1.0
    b = work_buffer("test a", (500,), np.float32)
    assert np.shares_memory(a, b) and b.flags.c_contiguous and b.shape == (500,)
    other = work_buffer("test b", (500,), np.float32)
    assert not np.shares_memory(a, other)
    assert not np.shares_memory(work_buffer("test a", (10,), np.float64), a)  # per dtype
    big = work_buffer("test a", (3, 1000), np.float32)
    assert big.shape == (3, 1000) and not np.shares_memory(big, a)


def test_threads_get_their_own_buffers():
    mine = work_buffer("test t", (100,), np.float32)
    seen = []
    t = threading.Thread(target=lambda: seen.append(work_buffer("test t", (100,), np.float32)))
    t.start()
    t.join()
    assert not np.shares_memory(mine, seen[0])

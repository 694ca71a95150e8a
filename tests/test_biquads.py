"""The in-place biquad runner gives exactly scipy.signal.sosfilt's numbers."""

import numpy as np
import pytest
import scipy.signal as ss

from ainur_cli.dsp import biquads
from ainur_cli.dsp.biquads import ChunkFilter, sos_filter_rows


def _sos(dtype):
    return np.concatenate([ss.butter(2, 120, "highpass", fs=48000, output="sos"),
                           ss.butter(2, 6000, fs=48000, output="sos")]).astype(dtype)


def test_private_kernel_is_in_use():
    # Not required for correctness (there is a fallback), but the speed depends on it.
    assert biquads._USE_KERNEL


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64])
def test_chunked_in_place_equals_sosfilt(dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 50_001))
    if np.issubdtype(dtype, np.complexfloating):
        x = x + 1j * rng.standard_normal((2, 50_001))
    x = x.astype(dtype)
    sos = _sos(dtype)
    want = ss.sosfilt(sos, x, axis=-1)
    for inplace in (False, True):
        f = ChunkFilter(sos, 2, dtype)
        buf = x.copy()
        out = buf if inplace else np.empty_like(x)
        for s in range(0, x.shape[1], 7_000):  # strided views into a longer array
            f(buf[:, s: s + 7_000], out[:, s: s + 7_000])
        assert np.array_equal(out, want)
        if not inplace:
            assert np.array_equal(buf, x)  # the source is left alone
    assert not ChunkFilter(sos, 2, dtype).zi.any()


def test_state_carries_over_and_fallback_agrees(monkeypatch):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, 9_000)).astype(np.float32)
    sos = _sos(np.float32)
    want = ss.sosfilt(sos, x, axis=-1)
    got = []
    for use in (True, False):
        monkeypatch.setattr(biquads, "_USE_KERNEL", use)
        y = x.copy()
        zi = np.zeros((1, 2, 2), np.float32)
        sos_filter_rows(sos, y[:, :4_000], zi)
        rest = y[:, 4_000:].copy()
        sos_filter_rows(sos, rest, zi)
        y[:, 4_000:] = rest
        got.append(y)
    assert np.array_equal(got[0], want)
    assert np.allclose(got[1], want, rtol=0, atol=1e-6)


def test_any_layout_goes_through_the_kernel_with_the_same_numbers():
    rng = np.random.default_rng(5)
    sos = _sos(np.float64)
    x = rng.standard_normal((3, 4_001))
    want, want_zi = ss.sosfilt(sos, x, axis=-1, zi=np.zeros((2, 3, 2)))
    fortran = np.asfortranarray(x)             # rows not contiguous: a copy goes through
    zi = np.zeros((3, 2, 2))
    assert sos_filter_rows(sos, fortran, zi) is fortran
    assert np.array_equal(fortran, want)
    assert np.array_equal(zi, np.moveaxis(want_zi, 0, 1))
    with pytest.raises(ValueError):
        sos_filter_rows(sos, x, np.zeros((3, 1, 2)))


def test_equal_rows_are_filtered_once_and_pairs_as_one_complex_row(monkeypatch):
    rng = np.random.default_rng(7)
    mono = rng.standard_normal(30_000).astype(np.float32)
    x = np.stack([mono, mono])
    x[1, 20_000:] *= 0.5                       # the channels part ways in the fifth chunk …
    x[1, 25_000:] = x[0, 25_000:]              # … and meet again (their states still differ)
    x[:, 9_000] = 0.0
    x[1, 9_000] = -0.0                         # a signed zero: not the same bits
    real = biquads.sos_filter_rows
    for sections in (_sos(np.float32), np.tile(_sos(np.float32), (2, 1))):  # 2 and 4 sections
        want = ss.sosfilt(sections, x, axis=-1)
        calls = []
        monkeypatch.setattr(biquads, "sos_filter_rows",
                            lambda s, y, z: calls.append(y.dtype.kind) or real(s, y, z))
        f = ChunkFilter(sections, 2, np.float32)
        out = np.empty_like(x)
        for s in range(0, x.shape[1], 5_000):
            f(x[:, s: s + 5_000], out[:, s: s + 5_000])
        assert np.array_equal(out, want)
        # Chunks of 5 000: 0 shared (one real row); 1 holds the ±0 sample (both rows, after
        # which the states agree again); 2, 3 shared; 4 differs; 5 is equal again but the
        # states are not. Differing rows: one complex row up to 2 sections, else two rows.
        both = ["c"] if len(sections) <= biquads.PAIR_MAX_SECTIONS else ["f", "f"]
        assert calls == ["f"] + both + ["f", "f"] + both + both


def _subnormals(a: np.ndarray) -> int:
    mag = np.abs(a)
    return int(np.sum((mag > 0) & (mag < np.finfo(mag.dtype).tiny)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64])
def test_silence_after_sound_decays_to_exact_zero_not_subnormals(dtype):
    # A burst, 3 s of silence, a second burst: sosfilt lets the first burst's ring die into
    # subnormal floats that never reach zero; the guarded runner stops where the state is
    # below FLUSH_LEVEL, so the silence is exact zeros, and agrees with sosfilt to 1e-30.
    rng = np.random.default_rng(11)
    n = 3 * 48_000
    x = np.zeros((2, n + 20_000))
    x[:, :4_000] = rng.standard_normal((2, 4_000))
    x[:, n:] = rng.standard_normal((2, 20_000))
    x[1, :4_000] *= 0.25
    x = x.astype(dtype)
    sos = np.concatenate([ss.butter(2, 30, "highpass", fs=48000, output="sos"),
                          ss.butter(2, 200, fs=48000, output="sos")]).astype(dtype)
    want = ss.sosfilt(sos, x, axis=-1)
    if np.dtype(dtype) != np.float64:   # (float64 takes far longer to get there)
        assert _subnormals(want[:, :n].real) > 1000        # what plain sosfilt does
    got = x.copy()
    zi = np.zeros((2, 2, 2), dtype)
    sos_filter_rows(sos, got, zi)
    assert _subnormals(got.real) == 0 and _subnormals(got.imag) == 0
    assert np.abs(got - want).max() <= 1e3 * biquads.FLUSH_LEVEL   # -540 dBFS
    assert np.array_equal(got[:, :4_000], want[:, :4_000])  # before the silence: the same
    zeros = np.flatnonzero(got[0, 4_000:n] == 0)
    assert zeros.size and zeros[0] < 60_000                 # the ring stopped inside it …
    assert not got[0, 4_000 + zeros[0]:n].any()            # … and stayed exactly silent
    np.testing.assert_allclose(got[:, n:], want[:, n:], rtol=0, atol=1e-5)


def test_a_filter_fed_silence_comes_to_rest_chunk_by_chunk():
    # The mixer skips silent chunks once the filter is at rest (zero state); with
    # subnormal states that never happened.
    sos = _sos(np.float32)
    f = ChunkFilter(sos, 2, np.float32)
    x = np.zeros((2, 10 * 8_192), np.float32)
    x[:, :100] = 1.0
    out = np.empty_like(x)
    for s in range(0, x.shape[1], 8_192):
        f(x[:, s: s + 8_192], out[:, s: s + 8_192])
    assert f.idle()
    assert _subnormals(out) == 0
    want = ss.sosfilt(sos, x, axis=-1)
    assert np.abs(out - want).max() <= 1e3 * biquads.FLUSH_LEVEL
    # Short silences (under two guard blocks) are filtered exactly as sosfilt does.
    y = np.random.default_rng(2).standard_normal((1, 20_000)).astype(np.float32)
    y[:, 5_000:5_000 + 2 * biquads.GUARD_BLOCK - 1] = 0.0
    got = y.copy()
    sos_filter_rows(sos, got, np.zeros((1, 2, 2), np.float32))
    assert np.array_equal(got, ss.sosfilt(sos, y, axis=-1))

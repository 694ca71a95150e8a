"""The voice's polyphase resampler against scipy.signal.resample_poly (the reference)."""

import numpy as np
import pytest
import scipy.signal as ss

from ainur_cli.dsp.resample import MERGE_BLOCKS, SILENCE_BLOCK, resample_poly, resample_sounding

RATE_IN = 22050


@pytest.mark.parametrize("up,down,n", [(320, 147, 22050 * 3), (2, 1, 22050 * 3), (147, 320, 48000),
                                       (3, 2, 1001), (1, 3, 100), (5, 1, 7), (160, 147, 1)])
def test_output_equals_resample_poly(up, down, n):
    x = np.random.default_rng(up * 1000 + down).standard_normal((2, n))
    got = resample_poly(x, up, down)
    want = ss.resample_poly(x, up, down, axis=1)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def _tone_level_db(y: np.ndarray, freq_hz: float, rate: int) -> float:
    """Amplitude (dB re 1) of the sinusoid at ``freq_hz`` in the middle half of ``y``."""
    t = np.arange(y.size)[y.size // 4: 3 * y.size // 4] / rate
    basis = np.stack([np.cos(2 * np.pi * freq_hz * t), np.sin(2 * np.pi * freq_hz * t)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, y[y.size // 4: 3 * y.size // 4], rcond=None)
    return 20.0 * np.log10(np.hypot(*coef))


@pytest.mark.parametrize("rate_out,up,down", [(48000, 320, 147), (44100, 2, 1)])
def test_passband_ripple_and_image_rejection(rate_out, up, down):
    # A tone at f below the input Nyquist comes out at f (passband) and, imperfectly
    # rejected, at its image 22050 − f (which a perfect resampler would not produce).
    t = np.arange(RATE_IN) / RATE_IN
    ripple, images, ripple_ref, images_ref = [], [], [], []
    for f in (100.0, 1000.0, 4000.0, 7000.0, 9000.0):
        x = np.sin(2 * np.pi * f * t)[None]
        for y, rip, img in ((resample_poly(x, up, down)[0], ripple, images),
                            (ss.resample_poly(x, up, down, axis=1)[0], ripple_ref, images_ref)):
            rip.append(_tone_level_db(y, f, rate_out))
            img.append(_tone_level_db(y, RATE_IN - f, rate_out))
    assert max(abs(r) for r in ripple) < 0.05           # flat to 0.82 x Nyquist
    assert max(images) < -50.0                           # images ≥ 13 kHz: ≥ 50 dB down
    np.testing.assert_allclose(ripple, ripple_ref, atol=1e-6)
    np.testing.assert_allclose(images, images_ref, atol=1e-3)


@pytest.mark.parametrize("up,down", [(320, 147), (160, 147), (2, 1), (147, 320), (1, 3)])
def test_sounding_stretches_only_gives_the_whole_signal_resampled(up, down):
    # Noise bursts in exact silence, as a vocal's phrases: silent gaps longer and shorter
    # than the merge distance, a burst at each end, a lone sample, one channel quieter.
    rng = np.random.default_rng(up + down)
    n = 40 * SILENCE_BLOCK + 77
    x = np.zeros((2, n))
    gap = (MERGE_BLOCKS + 3) * SILENCE_BLOCK
    near = 900 + gap + 5000 + 2 * SILENCE_BLOCK
    for a, b in ((0, 900), (900 + gap, 900 + gap + 5000), (near, near + 4000), (n - 3000, n)):
        x[:, a:b] = rng.standard_normal((2, b - a))
    x[0, 30 * SILENCE_BLOCK + 5] = 0.7
    x[1] *= 0.25
    want = ss.resample_poly(x, up, down, axis=1)
    got = resample_sounding(x, up, down, dtype=np.float64)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    single = resample_sounding(x, up, down)
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, want, rtol=0, atol=1e-6)
    assert not resample_sounding(np.zeros((1, n)), up, down).any()


def test_sounding_pieces_reaching_back_over_the_run_before_are_joined():
    # A piece starts on a multiple of ``down``: with ``down`` longer than the silent gap,
    # the next run's piece starts before the lone sample just ahead of it, whose filter
    # reach it would cut (and overwrite the right outputs with those of a shorter window).
    up, down = 97, 20011
    x = np.zeros((1, 5 * down))
    x[0, 3 * down - 10] = 0.7
    start = 3 * down + 10 * SILENCE_BLOCK
    x[0, start: start + 3000] = np.random.default_rng(5).standard_normal(3000)
    want = ss.resample_poly(x, up, down, axis=1)
    np.testing.assert_allclose(resample_sounding(x, up, down, dtype=np.float64), want,
                               rtol=0, atol=1e-12)


def test_rejects_bad_factors():
    with pytest.raises(ValueError):
        resample_poly(np.zeros((1, 10)), 0, 3)
    with pytest.raises(ValueError):
        resample_poly(np.zeros(10), 2, 1)

"""Own filter designs against scipy.signal's (the reference; tests may import it)."""

import numpy as np
import pytest
import scipy.signal as ss

from ainur_cli.mix.dynamics import smooth
from ainur_cli.dsp.filter_design import butter_sos, kaiser_lowpass, sos_step_state, zero_phase_sos

RATES = (22050, 44100, 48000, 96000)


def _cases(rate):
    yield from (("lowpass", 40.0), ("lowpass", 6000.0), ("lowpass", 0.45 * rate),
                ("highpass", 20.0), ("highpass", 120.0), ("highpass", 0.45 * rate),
                ("bandpass", (700.0, 6000.0)), ("bandpass", (80.0, 1200.0)),
                ("bandpass", (3800.0, 0.4 * rate)), ("bandpass", (10.0, 0.45 * rate)))


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_butterworth_sections_match_scipy(rate, order):
    for btype, cutoff in _cases(rate):
        got = butter_sos(order, cutoff, btype, rate)
        want = ss.butter(order, cutoff, btype, fs=rate, output="sos")
        assert got.shape == want.shape, (btype, cutoff)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10, err_msg=f"{btype} {cutoff}")


def test_butterworth_response_is_butterworth():
    # Independent of scipy: |H| = 1/sqrt(2) at the cut-off, 1 in the passband, and the
    # 6·order dB/octave slope well inside the stopband.
    rate = 48000
    for order in (1, 2, 4):
        sos = butter_sos(order, 1000.0, "lowpass", rate)
        w, h = ss.sosfreqz(sos, [10.0, 1000.0, 8000.0, 16000.0], fs=rate)
        mag = np.abs(h)
        assert abs(mag[0] - 1.0) < 1e-4
        assert abs(mag[1] - 2 ** -0.5) < 1e-9
        assert 20 * np.log10(mag[2] / mag[3]) > 6 * order - 1.5


@pytest.mark.parametrize("bad", [
    dict(order=0, cutoff_hz=100.0, btype="lowpass"),
    dict(order=2, cutoff_hz=100.0, btype="notch"),
    dict(order=2, cutoff_hz=(100.0, 50.0), btype="bandpass"),
    dict(order=2, cutoff_hz=24000.0, btype="highpass"),
    dict(order=2, cutoff_hz=(100.0, 200.0), btype="lowpass"),
])
def test_butterworth_rejects_bad_arguments(bad):
    with pytest.raises(ValueError):
        butter_sos(sample_rate=48000, **bad)


@pytest.mark.parametrize("taps,cutoff,beta", [(257, 0.25, 10.0), (129, 0.5, 10.0), (31, 0.9, 5.0),
                                              (6401, 1 / 320, 5.0)])
def test_kaiser_lowpass_matches_firwin(taps, cutoff, beta):
    want = ss.firwin(taps, cutoff, window=("kaiser", beta))
    np.testing.assert_allclose(kaiser_lowpass(taps, cutoff, beta), want, rtol=0, atol=1e-12)


def test_step_state_and_zero_phase_match_scipy():
    x = np.random.default_rng(5).standard_normal(20_000).cumsum()  # a drifting signal: edges matter
    for order, band in ((2, (700.0, 6000.0)), (4, (80.0, 1200.0)), (4, (3800.0, 9000.0))):
        sos = butter_sos(order, band, "bandpass", 22050)
        np.testing.assert_allclose(sos_step_state(sos), ss.sosfilt_zi(sos), rtol=0, atol=1e-12)
        want = ss.sosfiltfilt(sos, x)
        got = zero_phase_sos(sos, x)
        assert np.max(np.abs(got - want)) <= 1e-9 * np.max(np.abs(want))
    # Short signals are padded with what there is instead of failing.
    assert zero_phase_sos(butter_sos(4, (80.0, 1200.0), "bandpass", 22050), x[:5]).shape == (5,)


def test_one_pole_smoother_is_lfilter_bit_for_bit():
    x = np.random.default_rng(6).standard_normal(50_000) ** 2
    for coeff in (0.3, 0.95, 0.9995):
        want, _ = ss.lfilter([1.0 - coeff], [1.0, -coeff], x, zi=[coeff * x[0]])
        assert np.array_equal(smooth(x, coeff), want)

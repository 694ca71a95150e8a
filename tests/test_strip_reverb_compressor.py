"""The strip's own effects: the seeded FFT reverb and the block-rate part compressor.

Measured on synthesised signals with independent references: the reverb's decay (Schroeder
backward integration of its impulse response) against the documented T60 model, its level
against its send, its stereo width, pre-delay and linearity; the compressor's steady-state
gain reduction against the static curve, its attack and release, and that quiet signals pass
bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal as ss

from ainur_cli.mix.mixer import process_stem
from ainur_cli.mix.reverb import add_reverb, impulse_response, t60_s
from ainur_cli.mix.settings import Compressor, DelayBus, EqBand, MixSettings, PartMix, ReverbBus

SR = 48000


def _edc_t60(ir: np.ndarray, sample_rate: int) -> float:
    """T60 from the −5 … −35 dB slope of the energy decay curve (Schroeder)."""
    e = np.cumsum((ir.astype(np.float64) ** 2)[::-1])[::-1]
    edc = 10 * np.log10(e / e[0])
    i5, i35 = np.argmax(edc < -5), np.argmax(edc < -35)
    return 2.0 * (i35 - i5) / sample_rate


@pytest.mark.parametrize("room, damping", [(0.3, 0.5), (0.55, 0.45), (0.8, 0.2)])
def test_reverb_decay_follows_the_model(room, damping):
    bus = ReverbBus(room_size=room, damping=damping, highpass_hz=20.0)
    ir = impulse_response(bus, SR)
    # Broadband decay sits between the model's T60 at 4 kHz and at 100 Hz.
    lo, hi = t60_s(bus, np.array([4000.0, 100.0]))
    measured = _edc_t60(ir[0], SR)
    assert 0.7 * lo <= measured <= 1.1 * hi, (measured, lo, hi)
    # Damping: the top octave dies faster than the low mids.
    bands = {f: ss.sosfilt(ss.butter(4, f, "bandpass", fs=SR, output="sos"), ir[0])
             for f in [(400, 800), (8000, 16000)]}
    assert _edc_t60(bands[(8000, 16000)], SR) < _edc_t60(bands[(400, 800)], SR)


def test_reverb_level_width_predelay_and_determinism():
    bus = ReverbBus(room_size=0.55, damping=0.45, width=1.0, predelay_ms=20.0, highpass_hz=150.0)
    ir = impulse_response(bus, SR)
    assert np.allclose(np.sum(ir.astype(np.float64) ** 2, axis=1), 1.0, rtol=1e-4)
    assert abs(np.corrcoef(ir[0], ir[1])[0, 1]) < 0.1          # width 1: uncorrelated sides
    mono = impulse_response(ReverbBus(room_size=0.55, damping=0.45, width=0.0), SR)
    assert np.array_equal(mono[0], mono[1])                      # width 0: one tail
    assert np.array_equal(ir, impulse_response(ReverbBus(0.55, 0.45, 1.0, -6.0, 20.0, 150.0), SR))

    noise = np.random.default_rng(3).standard_normal(SR * 6).astype(np.float32)
    out = np.zeros((2, noise.size), np.float32)
    add_reverb(out, noise, 1.0, bus, SR)
    # 0 dB return ≈ as loud as a white send (the send's high-pass removes a little).
    gain_db = 10 * math.log10(np.mean(out[:, SR * 2:] ** 2) / np.mean(noise ** 2))
    assert -1.0 < gain_db < 0.5
    click = np.zeros(SR, np.float32)
    click[1000] = 1.0
    out = np.zeros((2, SR), np.float32)
    add_reverb(out, click, 1.0, bus, SR)
    first = int(np.flatnonzero(np.abs(out[0]) > 1e-6)[0])
    assert first >= 1000 + int(0.020 * SR)                       # nothing before the pre-delay


def test_reverb_is_linear_and_skips_nothing_audible():
    bus = ReverbBus()
    rng = np.random.default_rng(4)
    a = np.zeros(SR * 20, np.float32)
    b = np.zeros(SR * 20, np.float32)
    a[SR: 2 * SR] = rng.standard_normal(SR)
    b[15 * SR: 16 * SR] = rng.standard_normal(SR)    # silent blocks in between are skipped
    ya, yb, yab = (np.zeros((2, a.size), np.float32) for _ in range(3))
    add_reverb(ya, a, 0.5, bus, SR)
    add_reverb(yb, b, 0.5, bus, SR)
    add_reverb(yab, a + b, 0.5, bus, SR)
    assert np.max(np.abs(yab - ya - yb)) < 1e-5 * np.max(np.abs(yab))
    # The direct convolution of a stretch agrees with the block convolution.
    ir = impulse_response(bus, SR)
    pre = int(round(bus.predelay_ms * 1e-3 * SR))
    ref = np.convolve(a[: 3 * SR], ir[0])[: 3 * SR - pre] * 0.5
    assert np.max(np.abs(ya[0, pre: 3 * SR] - ref)) < 1e-5


def _tone(level_db: float, seconds: float, freq: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    x = (10 ** (level_db / 20) * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.stack([x, x])


def test_compressor_static_curve_attack_and_release():
    comp = Compressor(threshold_db=-20.0, ratio=4.0, attack_ms=10.0, release_ms=200.0)
    part = PartMix(compressor=comp)
    loud = _tone(-8.0, 2.0)
    quiet = _tone(-30.0, 2.0)
    x = np.concatenate([quiet, loud, quiet], axis=1)
    y = process_stem(x, part, MixSettings(), SR, 120.0)

    def level_db(a, t0, t1):
        seg = a[0, int(t0 * SR): int(t1 * SR)]
        return 20 * math.log10(np.max(np.abs(seg)))

    # Below threshold: untouched, bit for bit.
    assert np.array_equal(y[:, : SR], x[:, : SR])
    # Settled above threshold: −8 dBFS peaks over a −20 dB threshold at 4:1 → −17 dBFS.
    settled = level_db(y, 3.0, 3.9)
    assert abs(settled - (-20.0 + 12.0 / 4.0)) < 1.0, settled
    # Attack: the onset passes louder than the settled level, and settles within ~50 ms.
    assert level_db(y, 2.0, 2.003) > settled + 3.0
    assert abs(level_db(y, 2.05, 2.1) - settled) < 1.0
    # Release: right after the loud part the quiet tone is still turned down, later it is not.
    assert level_db(y, 4.0, 4.02) < -30.0 - 3.0
    assert abs(level_db(y, 5.5, 6.0) - (-30.0)) < 0.1


def test_compressor_is_per_channel_and_deterministic():
    comp = Compressor(threshold_db=-24.0, ratio=3.0, attack_ms=5.0, release_ms=100.0)
    left = _tone(-6.0, 1.0)[0]
    right = _tone(-40.0, 1.0)[1]
    x = np.stack([left, right])
    y = process_stem(x, PartMix(compressor=comp), MixSettings(), SR, 120.0)
    assert np.max(np.abs(y[0])) < 0.6 * np.max(np.abs(x[0]))   # the loud side is reduced
    assert np.array_equal(y[1], x[1])                            # the quiet side is not
    assert np.array_equal(y, process_stem(x, PartMix(compressor=comp), MixSettings(), SR, 120.0))


def test_identical_channels_give_what_each_channel_alone_gives():
    # A strip filters (and compresses) a channel equal to the other only once; the result must
    # be what the channel gives next to any other channel (the strip is per channel there).
    comp = Compressor(threshold_db=-30.0, ratio=4.0, attack_ms=3.0, release_ms=80.0)
    part = PartMix(highpass_hz=90.0, lowpass_hz=9000.0, compressor=comp,
                   eq=(EqBand("peak", 2500.0, 3.0, 1.2),))
    post = (EqBand("high_shelf", 8000.0, 2.0, 0.7),)
    rng = np.random.default_rng(11)
    n = 3 * (1 << 17) + 1234                   # several strip chunks
    mono = (rng.standard_normal(n) * np.repeat(rng.uniform(0.01, 0.5, n // 4800 + 1), 4800)[:n])
    mono = mono.astype(np.float32)
    pair = process_stem(np.stack([mono, mono]), part, MixSettings(), SR, 120.0, post_eq=post)
    other = rng.standard_normal(n).astype(np.float32) * 0.05
    alone = process_stem(np.stack([mono, other]), part, MixSettings(), SR, 120.0, post_eq=post)
    assert np.array_equal(pair[0], alone[0])
    assert np.array_equal(pair[1], alone[0])
    assert not np.array_equal(alone[1], alone[0])


def test_delay_return_is_the_feedback_echo():
    tempo_bpm, beats = 120.0, 0.5
    period = int(round(beats * 60.0 / tempo_bpm * SR))
    settings = MixSettings(delay=DelayBus(time_beats=beats, feedback=0.5, return_db=0.0,
                                          highcut_hz=SR))  # highcut above Nyquist: no filter
    x = np.zeros((2, 4 * period + 10), np.float32)
    x[:, 3] = 1.0
    y = process_stem(x, PartMix(delay_send=1.0), settings, SR, tempo_bpm)
    want = x.copy()
    for k in range(1, 5):                          # echo k at k·T, at feedback^(k−1)
        want[:, 3 + k * period] += 0.5 ** (k - 1)
    np.testing.assert_allclose(y, want, rtol=0, atol=1e-7)


def test_reverb_transforms_are_scipy_fft_bit_for_bit():
    import scipy.fft as sfft

    from ainur_cli.mix import reverb

    x = np.random.default_rng(12).standard_normal((3, 4096)).astype(np.float32)
    spec = reverb._rfft_rows(x, np.empty((3, 2049), np.complex64))
    assert np.array_equal(spec, sfft.rfft(x, axis=1))
    prod = np.stack([spec, spec * np.complex64(0.5 - 0.25j)], axis=1)       # (3, 2, 2049)
    back = reverb._irfft_last(prod, 4096, np.empty((3, 2, 4096), np.float32))
    assert np.array_equal(back, sfft.irfft(prod, 4096, axis=-1))


def test_a_dying_echo_over_silence_ends_in_zeros_not_subnormals():
    # feedback 0.5 echoes of one click: after ~130 periods the echo would be subnormal in
    # float32 (and slow every later pass); below 1e-30 it is set to zero instead.
    tempo_bpm, beats = 120.0, 0.01
    period = int(round(beats * 60.0 / tempo_bpm * SR))
    settings = MixSettings(delay=DelayBus(time_beats=beats, feedback=0.5, return_db=0.0,
                                          highcut_hz=SR))
    x = np.zeros((2, 200 * period), np.float32)
    x[:, 3] = 1.0
    y = process_stem(x, PartMix(delay_send=1.0), settings, SR, tempo_bpm)
    mag = np.abs(y)
    assert not np.any((mag > 0) & (mag < np.finfo(np.float32).tiny))
    echoes = y[0, 3 + period::period][:195]
    k = np.arange(echoes.size)
    expected = np.float32(0.5) ** k
    audible = expected >= 1e-30
    np.testing.assert_allclose(echoes[audible], expected[audible], rtol=1e-6)
    assert not echoes[~audible].any()

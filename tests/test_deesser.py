"""The split-band de-esser: measured with independent meters (scipy filters and FFTs) on
synthesised vowels and "s" bursts, and on the real singing voice through the default chain.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.signal as ss

from ainur_cli.errors import PresetError
from ainur_cli.mix.deesser import deess
from ainur_cli.mix.mixer import process_stem
from ainur_cli.mix.settings import DeEsser, MixSettings, PartMix, parse_mix
from ainur_cli.source import parse_yaml_text

SR = 48000
BLOCK = 32
BURSTS_S = (0.5, 1.3, 2.1)   # "s" bursts, each BURST_S long
BURST_S = 0.12


def vowel(n: int, level_db: float = -12.0) -> np.ndarray:
    """A sung-vowel stand-in: 150 Hz harmonics up to 4 kHz, falling 6 dB/octave."""
    t = np.arange(n) / SR
    x = sum(np.sin(2 * np.pi * 150 * k * t + k) / k for k in range(1, 27))
    return 10 ** (level_db / 20) * x / np.sqrt(np.mean(x ** 2))


def hiss(n: int, level_db: float, seed: int = 0) -> np.ndarray:
    """An "s" stand-in: noise band-passed 5-12 kHz at ``level_db`` RMS, only in the bursts."""
    rng = np.random.default_rng(seed)
    sos = ss.butter(4, (5000, 12000), "bandpass", fs=SR, output="sos")
    noise = ss.sosfilt(sos, rng.standard_normal(n))
    noise *= 10 ** (level_db / 20) / np.sqrt(np.mean(noise ** 2))
    gate = np.zeros(n)
    for a in BURSTS_S:
        gate[int(a * SR): int((a + BURST_S) * SR)] = 1.0
    return noise * gate


def band_db(x: np.ndarray, lo: float, hi: float) -> float:
    """Power (dB) of ``x`` between ``lo`` and ``hi`` Hz (FFT of the whole excerpt)."""
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size))) ** 2
    f = np.fft.rfftfreq(x.size, 1 / SR)
    return float(10 * np.log10(spec[(f >= lo) & (f < hi)].sum()))


def expected_drop_db(x: np.ndarray, lo: float, hi: float, d: DeEsser, reduction_db: float) -> float:
    """What a split-band cut of ``reduction_db`` does to the ``lo``-``hi`` band of ``x``,
    from scipy's response of the split (a 2nd-order Butterworth high-pass at ``d.freq_hz``,
    forward and backward: |H|^2): each bin scaled by 1 - (1 - g)|H(f)|^2."""
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size))) ** 2
    f = np.fft.rfftfreq(x.size, 1 / SR)
    band = (f >= lo) & (f < hi)
    _, h = ss.sosfreqz(ss.butter(2, d.freq_hz, "highpass", fs=SR, output="sos"), worN=f[band], fs=SR)
    g = 10 ** (-reduction_db / 20)
    scale = (1.0 - (1.0 - g) * np.abs(h) ** 2) ** 2
    return float(10 * np.log10((spec[band] * scale).sum() / spec[band].sum()))


def burst_middle(x: np.ndarray, k: int) -> np.ndarray:
    a = BURSTS_S[k]
    return x[..., int((a + 0.03) * SR): int((a + BURST_S - 0.02) * SR)]


def test_loud_sibilants_are_cut_by_the_range_and_nothing_else_moves():
    n = int(2.6 * SR)
    mono = (vowel(n) + hiss(n, -4.0)).astype(np.float32)
    x = np.stack([mono, mono])
    y = x.copy()
    red = deess(y, DeEsser(), SR, BLOCK)
    # an "s" 8 dB louder than the vowel: sibilance -0.6 dB, 13.4 dB over the threshold
    # x 0.75 = 10 dB, capped at the 9 dB range
    assert red.max() == pytest.approx(DeEsser().range_db, abs=0.05)
    for k in range(len(BURSTS_S)):
        before, after = burst_middle(x[0], k), burst_middle(y[0], k)
        want = expected_drop_db(before.astype(np.float64), 7000, 12000, DeEsser(), 9.0)
        assert want < -6.0
        assert band_db(after, 7000, 12000) - band_db(before, 7000, 12000) == pytest.approx(want, abs=0.5)
        assert abs(band_db(after, 50, 2000) - band_db(before, 50, 2000)) < 0.05
        # Nothing is boosted (zero-phase split: no bump at the corner): where the cut is
        # steady, every frequency with energy comes out at most as loud as it went in.
        f, p_in = ss.welch(before.astype(np.float64), SR, nperseg=1024)
        _, p_out = ss.welch(after.astype(np.float64), SR, nperseg=1024)
        heard = (p_in > 1e-4 * p_in.max()) & (f >= 100)   # (the Hann window leaks at DC)
        assert np.all(p_out[heard] <= p_in[heard] * 1.02)
        assert (p_out / p_in)[heard & (f > 9000)].max() < 10 ** (-6 / 10)
    # Away from the bursts (release 30 ms: < 0.01 dB after ~0.2 s) the samples are untouched.
    far = np.ones(n, dtype=bool)
    for a in BURSTS_S:
        far[int((a - 0.05) * SR): int((a + BURST_S + 0.3) * SR)] = False
    assert np.array_equal(y[:, far], x[:, far])
    assert np.array_equal(y[0], y[1])
    again = x.copy()
    deess(again, DeEsser(), SR, BLOCK)
    assert np.array_equal(again, y)            # deterministic


def test_vowels_bright_or_not_and_quiet_sibilants_pass_untouched():
    n = int(2.6 * SR)
    t = np.arange(n) / SR
    bright = vowel(n) + 0.025 * np.sin(2 * np.pi * 7000 * t)   # 7 kHz, 20 dB below the vowel
    quiet_s = np.where(np.arange(n) > n // 2, 0.0, hiss(n, -52.0, seed=3))  # 40 dB below the loud part
    for mono in (vowel(n), bright, vowel(n) + quiet_s):
        x = np.stack([mono, mono]).astype(np.float32)
        y = x.copy()
        assert not deess(y, DeEsser(), SR, BLOCK).any()
        assert np.array_equal(y, x)


def test_the_gain_is_stereo_linked():
    # Only the right channel hisses: the left channel's high band is turned down with it
    # (by the same gain), so the image does not lean during an "s".
    n = int(2.6 * SR)
    left = vowel(n) + hiss(n, -40.0, seed=1)     # its own faint high band
    right = vowel(n) + hiss(n, -6.0, seed=2)
    x = np.stack([left, right]).astype(np.float32)
    y = x.copy()
    deess(y, DeEsser(), SR, BLOCK)
    drops = [band_db(burst_middle(y[ch], 1), 8000, 12000) - band_db(burst_middle(x[ch], 1), 8000, 12000)
             for ch in range(2)]
    assert drops[1] < -6.0
    assert drops[0] == pytest.approx(drops[1], abs=0.5)


def test_a_strip_with_a_deesser_parses_and_runs_before_the_compressor():
    text = ("mix:\n  parts:\n    lead:\n      highpass_hz: 100\n"
            "      deesser: {freq_hz: 7000, threshold_db: -20, ratio: 3, range_db: 6,"
            " attack_ms: 2, release_ms: 40}\n")
    data, src = parse_yaml_text(text, "preset.yaml", PresetError)
    part = parse_mix(data["mix"], src, ("mix",)).part("lead")
    assert part.deesser == DeEsser(7000.0, -20.0, 3.0, 6.0, 2.0, 40.0)
    n = int(2.6 * SR)
    x = np.stack([vowel(n) + hiss(n, -10.0)] * 2).astype(np.float32)
    plain = process_stem(x, dataclasses.replace(part, deesser=None), MixSettings(), SR, 120.0)
    cut = process_stem(x, part, MixSettings(), SR, 120.0)
    before = burst_middle(plain[0], 0).astype(np.float64)
    drop = band_db(burst_middle(cut[0], 0), 5000, 12000) - band_db(before, 5000, 12000)
    assert drop == pytest.approx(expected_drop_db(before, 5000, 12000, part.deesser, 6.0), abs=0.5)
    assert PartMix().deesser is None                # off unless a strip asks for it


def test_the_default_vocal_chain_deesses_the_sung_voice():
    # The real voice: a line full of s/sh/z sung by the tenor, through the default vocal
    # chain with and without its de-esser (both dry: no reverb or delay).
    from ainur_cli.compose.lyrics import parse_line
    from ainur_cli.vocals import DEFAULT_VOCAL_CHAIN
    from ainur_cli.voice import notes_for_line, sing

    beat = 0.5
    starts = [0.3 + beat * k for k in range(7)]
    notes = notes_for_line(parse_line("she sells sea shells so sweetly"), starts,
                           [beat * 0.95] * 7, [57, 59, 60, 62, 60, 59, 57])
    n = int(5.2 * SR)
    vocal = sing(notes, sample_rate=SR, total_samples=n, voice="tenor", seed=0)
    chain = dataclasses.replace(DEFAULT_VOCAL_CHAIN, reverb_send=0.0, delay_send=0.0)
    assert chain.deesser is not None
    plain = process_stem(vocal, dataclasses.replace(chain, deesser=None), MixSettings(), SR, 120.0)
    cut = process_stem(vocal, chain, MixSettings(), SR, 120.0)
    f, _, p0 = ss.stft(plain[0].astype(np.float64), SR, nperseg=1024)
    _, _, p1 = ss.stft(cut[0].astype(np.float64), SR, nperseg=1024)
    p0, p1 = np.abs(p0) ** 2, np.abs(p1) ** 2
    high, mid, low = f >= 6000, (f >= 1000) & (f < 4000), f < 4500
    fricative = p0[high].sum(0) > p0[mid].sum(0)
    vowel_frames = p0[mid].sum(0) > 100 * p0[high].sum(0)
    assert fricative.sum() >= 5
    drop = 10 * np.log10(p1[high][:, fricative].sum() / p0[high][:, fricative].sum())
    assert drop < -3.0
    vowel_drop = 10 * np.log10(p1[high][:, vowel_frames].sum() / p0[high][:, vowel_frames].sum())
    assert vowel_drop > drop + 2.0
    assert abs(10 * np.log10(p1[low].sum() / p0[low].sum())) < 0.05


@pytest.mark.parametrize("n", [0, 1, 2, 33, 1000])
def test_tiny_and_silent_signals(n):
    # Any length works (a one-sample hiss has no band to split), and silence stays silence.
    x = (0.3 * np.random.default_rng(n).standard_normal((2, n))).astype(np.float32)
    y = x.copy()
    red = deess(y, DeEsser(), SR, BLOCK)
    assert red.shape == (-(-n // BLOCK),) and np.all(np.isfinite(y))
    silence = np.zeros((2, n), np.float32)
    assert not deess(silence, DeEsser(), SR, BLOCK).any() and not silence.any()

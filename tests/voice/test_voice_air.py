"""The vocal's air: a band above 11 kHz where it sings (most in the fricatives), none where it
is silent, the voice below it untouched, deterministic. Real audio from sing(); the bounds
are loose around what docs/voice.md ("Air") measures."""

from __future__ import annotations

import numpy as np
import pytest

from ainur_cli.voice import sing
from ainur_cli.voice.air import add_air
from ainur_cli.voice.render import RenderOptions

# "two tea sea far" (as in test_voice_audio): "s" and "t" onsets, a held open vowel.
from tests.voice.test_voice_audio import PHRASE

DRY = RenderOptions(air_db=None)


def _band_db(x: np.ndarray, sr: int, lo_hz: float, hi_hz: float) -> float:
    """Energy of ``x`` (samples,) between lo_hz and hi_hz, dB (one Hann-windowed FFT)."""
    p = np.abs(np.fft.rfft(np.asarray(x, dtype=np.float64) * np.hanning(x.size))) ** 2
    f = np.fft.rfftfreq(x.size, 1.0 / sr)
    return float(10 * np.log10(p[(f >= lo_hz) & (f < hi_hz)].sum() + 1e-30))


def _air_vs_mid_db(x: np.ndarray, sr: int, a_s: float, b_s: float) -> float:
    seg = x[int(a_s * sr):int(b_s * sr)]
    return _band_db(seg, sr, 11000, 16000) - _band_db(seg, sr, 1000, 4000)


@pytest.fixture(scope="module", params=[44100, 48000])
def pair(request):
    sr = request.param
    kw = dict(sample_rate=sr, total_samples=4 * sr, seed=3)
    return sr, sing(PHRASE, **kw), sing(PHRASE, options=DRY, **kw)


def test_air_where_it_sings_most_in_the_fricatives(pair):
    sr, wet, dry = pair
    x = wet[0]
    # Over the phrase: in the range of a sung voice (25-45 dB below 1-4 kHz; measured -30.6).
    assert -45 < _air_vs_mid_db(x, sr, 0.5, 3.0) < -22
    # Without it the stem stops at 11 kHz: 12-16 kHz holds only the resampler's transition
    # band (29 dB less than with the air).
    assert _band_db(x[int(0.5 * sr):3 * sr], sr, 12000, 16000) > \
        _band_db(dry[0, int(0.5 * sr):3 * sr], sr, 12000, 16000) + 20
    # The "s" of "sea" carries far more air, against its 1-4 kHz, than the held "a" of "far".
    s_db, vowel_db = _air_vs_mid_db(x, sr, 1.45, 1.6), _air_vs_mid_db(x, sr, 2.3, 2.8)
    assert s_db > vowel_db + 25, (s_db, vowel_db)
    assert s_db > _air_vs_mid_db(dry[0], sr, 1.45, 1.6) + 10


def test_no_air_where_it_is_silent_and_the_voice_below_untouched(pair):
    sr, wet, dry = pair
    assert np.all(wet[:, :int(0.1 * sr)] == 0) and np.all(wet[:, int(3.05 * sr):] == 0)
    # What the air adds lies above the voice's band: below 8 kHz it is > 70 dB down (-75).
    diff = (wet[0] - dry[0])[int(0.5 * sr):3 * sr]
    voice_db = _band_db(dry[0, int(0.5 * sr):3 * sr], sr, 50, 8000)
    assert _band_db(diff, sr, 50, 8000) < voice_db - 70
    assert _band_db(diff, sr, 11000, 16000) > voice_db - 45


def test_deterministic_and_off_at_the_voice_rate(pair):
    sr, wet, _ = pair
    again = sing(PHRASE, sample_rate=sr, total_samples=4 * sr, seed=3)
    assert np.array_equal(again, wet)
    x = np.random.default_rng(0).standard_normal((1, 22050)).astype(np.float32)
    assert np.array_equal(add_air(x.copy(), 22050, -6.0), x)  # no room above 11 kHz
    with pytest.raises(ValueError):
        add_air(x.astype(np.float64), 48000, -6.0)

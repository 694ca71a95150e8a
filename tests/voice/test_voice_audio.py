"""The rendered vocal: where it sounds, its pitch and vowel timing, voices, determinism.
Loose bounds here; bench/vocals_bench.py measures the strict ones."""

from __future__ import annotations

import numpy as np
import pytest

from ainur_cli.errors import VoiceError
from ainur_cli.voice import SungNote, available_voices, sing, sung_octave_shift

SR = 22050
# "two tea sea far": unvoiced onsets, so voicing starts where the vowel does.
PHRASE = [
    SungNote(0.60, 0.45, 62, "two", "two", (), 0, True, False),
    SungNote(1.10, 0.45, 64, "tea", "tea", (), 0, True, False),
    SungNote(1.60, 0.45, 67, "sea", "sea", (), 0, True, False),
    SungNote(2.10, 0.80, 64, "far", "far", (), 0, True, True),
]
TOTAL = int(4.0 * SR)


@pytest.fixture(scope="module")
def vocal():
    return sing(PHRASE, sample_rate=SR, total_samples=TOTAL, seed=3)


def _rms_db(x):
    return 10 * np.log10(np.mean(np.asarray(x, dtype=np.float64) ** 2) + 1e-20)


def test_shape_and_where_it_sounds(vocal):
    assert vocal.shape == (2, TOTAL) and vocal.dtype == np.float32
    assert np.all(np.isfinite(vocal)) and np.abs(vocal).max() < 1.0
    for n in PHRASE:
        mid = vocal[0, int((n.start_s + 0.1) * SR):int((n.end_s - 0.1) * SR)]
        assert _rms_db(mid) > -35, n.syllable
    assert np.all(vocal[:, :int(0.1 * SR)] == 0)       # before the first breath
    assert np.all(vocal[:, int(3.05 * SR):] == 0)      # after the last note
    assert _rms_db(vocal[0, int(0.3 * SR):int(0.55 * SR)]) < _rms_db(vocal[0, int(0.7 * SR):int(0.9 * SR)]) - 15


def _low_band_onset(x, a_s, b_s, note):
    """First 5 ms frame in [a_s, b_s), after a dip of 20 dB (the consonant), whose
    80-1000 Hz level is within 10 dB of the note's held level (a vowel-onset meter)."""
    from scipy.signal import butter, sosfiltfilt

    y = sosfiltfilt(butter(4, [80, 1000], btype="band", fs=SR, output="sos"), x)
    hop, win = int(0.005 * SR), int(0.01 * SR)
    held = _rms_db(y[int((note.start_s + 0.1) * SR):int((note.end_s - 0.1) * SR)])
    dipped = False
    for i in range(int(a_s * SR), int(b_s * SR), hop):
        level = _rms_db(y[i - win // 2:i + win // 2])
        dipped = dipped or level < held - 20  # the consonant
        if dipped and level > held - 10:
            return i / SR
    return b_s


def test_pitch_and_vowel_onsets_follow_the_score(vocal):
    import pyworld

    x = vocal[0].astype(np.float64)
    f0, t = pyworld.harvest(x, SR, f0_floor=70.0, f0_ceil=800.0, frame_period=5.0)
    shift = sung_octave_shift(PHRASE)  # the voice sings the melody in its own octave
    for n in PHRASE:
        ref = 440.0 * 2 ** ((n.midi_pitch + shift - 69) / 12)
        m = (t >= n.start_s + 0.05) & (t < n.end_s - 0.05) & (f0 > 0)
        assert m.sum() > 10
        cents = 1200 * np.log2(f0[m] / ref)
        assert abs(np.median(cents)) < 30, (n.syllable, np.median(cents))
        # The vowel (strong energy below 1 kHz) starts within 40 ms of the note; the
        # unvoiced consonant comes before it.
        first_vowel = _low_band_onset(x, n.start_s - 0.15, n.start_s + 0.1, n)
        assert abs(first_vowel - n.start_s) < 0.04, (n.syllable, first_vowel)
        before = x[int((n.start_s - 0.12) * SR):int((n.start_s - 0.01) * SR)]
        assert _rms_db(before) > -60, n.syllable


def _median_f0(y, a_s, b_s):
    import pyworld

    f0, t = pyworld.harvest(y.astype(np.float64), SR, f0_floor=70.0, f0_ceil=800.0, frame_period=5.0)
    return float(np.median(f0[(t >= a_s) & (t < b_s) & (f0 > 0)]))


def test_each_voice_sings_the_melody_in_its_register():
    from dataclasses import replace

    # PHRASE sits around E4: the tenor takes it an octave down, the soprano sings it as written.
    assert sung_octave_shift(PHRASE, "tenor") == -12
    assert sung_octave_shift(PHRASE, "default") == -12
    assert sung_octave_shift(PHRASE, "soprano") == 0
    assert sung_octave_shift(PHRASE, "baritone") == -12
    assert sung_octave_shift(PHRASE, "alto") == 0
    low = [replace(n, midi_pitch=n.midi_pitch - 12) for n in PHRASE]  # around E3: as written
    assert sung_octave_shift(low, "tenor") == 0
    assert sung_octave_shift(low, "soprano") == 12
    assert sung_octave_shift(low, "baritone") == 0
    assert sung_octave_shift(low, "alto") == 12
    lower = [replace(n, midi_pitch=n.midi_pitch - 7) for n in PHRASE]  # around A3
    assert [sung_octave_shift(lower, v) for v in ("tenor", "baritone", "alto", "soprano")] == \
        [0, -12, 0, 12]   # where the four registers part
    # a melody around G4 reaching down to B3 (the example song's): two octaves down would put
    # the baritone under E2, where the resynthesis clicks; it sings it one octave down
    song_like = [replace(n, midi_pitch=p) for n, p in zip(PHRASE, (59, 67, 67, 72))]
    assert sung_octave_shift(song_like, "baritone") == -12
    n = PHRASE[3]
    for voice, melody, sung_midi in (("tenor", PHRASE, 52), ("tenor", low, 52), ("soprano", PHRASE, 64),
                                     ("baritone", PHRASE, 52), ("alto", PHRASE, 64)):
        y = sing(melody, sample_rate=SR, total_samples=TOTAL, voice=voice)[0]
        cents = 1200 * np.log2(_median_f0(y, n.start_s + 0.1, n.end_s - 0.1) / (440.0 * 2 ** ((sung_midi - 69) / 12)))
        assert abs(cents) < 30, (voice, cents)
    # The shift never leaves the MIDI range every voice accepts (28..96): a low melody with
    # one very high note stays where it is rather than going up.
    wide = [replace(n, midi_pitch=p) for n, p in zip(PHRASE, (30, 31, 32, 90))]
    assert sung_octave_shift(wide, "soprano") == 0


def test_deterministic_by_seed(vocal):
    again = sing(PHRASE, sample_rate=SR, total_samples=TOTAL, seed=3)
    assert np.array_equal(vocal, again)
    other = sing(PHRASE, sample_rate=SR, total_samples=TOTAL, seed=4)
    assert not np.array_equal(vocal, other)


def test_voices_sound_different_and_double_is_wide():
    voices = available_voices()
    assert {"default", "tenor", "soprano", "baritone", "alto"} <= set(voices)
    centroid, bands = {}, {}
    edges = 100 * 2 ** (np.arange(0, 6.7, 1 / 3))   # third octaves, 100 Hz .. 10 kHz
    for v in ("tenor", "baritone", "soprano", "alto"):
        y = sing(PHRASE[:2], sample_rate=SR, total_samples=int(2 * SR), voice=v)[0]
        mag = np.abs(np.fft.rfft(y.astype(np.float64)))
        f = np.fft.rfftfreq(y.size, 1 / SR)
        centroid[v] = float(np.sum(f * mag) / np.sum(mag))
        level = np.array([10 * np.log10(np.sum(mag[(f >= a) & (f < b)] ** 2) + 1e-20)
                          for a, b in zip(edges[:-1], edges[1:])])
        bands[v] = level - level.max()
    # the same two notes, each voice its own colour (measured: 2.5-15 dB rms apart)
    names = list(bands)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert np.sqrt(np.mean((bands[a] - bands[b]) ** 2)) > 3.0, (a, b)
    assert centroid["baritone"] < centroid["tenor"] < centroid["alto"] < centroid["soprano"]
    assert abs(centroid["tenor"] - centroid["soprano"]) > 100  # Hz
    wide = sing(PHRASE[:2], sample_rate=44100, total_samples=int(2 * 44100), double=True)
    assert wide.shape == (2, 2 * 44100)
    assert not np.allclose(wide[0], wide[1])


def test_bad_input_raises_voice_error():
    with pytest.raises(VoiceError, match="unknown voice"):
        sing(PHRASE, sample_rate=SR, total_samples=TOTAL, voice="castrato")
    with pytest.raises(VoiceError, match="after the song ends"):
        sing(PHRASE, sample_rate=SR, total_samples=int(1.0 * SR))
    assert not sing([], sample_rate=SR, total_samples=100).any()


def _envelope_motion_db(y, a_s, b_s):
    """Mean change (dB per 10 ms) of the cepstrally smoothed log spectrum (quefrencies 1..24)."""
    x = y[int(a_s * SR):int(b_s * SR)].astype(np.float64)
    win, hop = 512, int(0.01 * SR)
    frames = np.lib.stride_tricks.sliding_window_view(x, win)[::hop] * np.hanning(win)
    cep = np.fft.irfft(20 * np.log10(np.abs(np.fft.rfft(frames, axis=1)) + 1e-9), axis=1)[:, 1:25]
    return float(np.mean(np.sqrt(np.sum(np.diff(cep, axis=0) ** 2, axis=1))))


def test_formant_jitter_keeps_a_held_vowel_moving(monkeypatch):
    import dataclasses

    from ainur_cli.voice import voices
    from ainur_cli.voice.render import RenderOptions

    # "far" is held 0.8 s; the formant jitter option keeps its envelope moving (a frozen one
    # is what the recogniser's acoustic model takes for noise). Same seed: same vibrato and
    # wander (the jitter draws its noise last); the default (no jitter) is the reference.
    # The phoneme string's "A: r" is analysed (a steady A:): espeak reading the word says an
    # r-coloured A@ whose own motion the held vowel already carries.
    monkeypatch.setitem(voices.VOICES, "tenor", dataclasses.replace(voices.VOICES["tenor"], read_text=False))
    n = PHRASE[3]
    moving = sing(PHRASE, sample_rate=SR, total_samples=TOTAL, seed=3,
                  options=RenderOptions(formant_jitter=0.06))[0]
    frozen = sing(PHRASE, sample_rate=SR, total_samples=TOTAL, seed=3)[0]
    a, b = n.start_s + 0.2, n.end_s - 0.15
    m_moving, m_frozen = _envelope_motion_db(moving, a, b), _envelope_motion_db(frozen, a, b)
    assert m_moving > 1.2 * m_frozen, (m_moving, m_frozen)  # measured 1.98 vs 1.46 dB


def test_changing_a_voice_setting_keeps_each_phrases_randomness(monkeypatch):
    # The phrase randomness (vibrato rate, pitch wander) is drawn from the voice's name, not
    # its settings: a voice with more breath sings the same pitch curve (a clean A/B), while
    # another seed sings another one.
    import dataclasses

    import pyworld

    from ainur_cli.voice import voices

    def f0(y):
        x = y[0].astype(np.float64)
        f, _ = pyworld.harvest(x, SR, f0_floor=70.0, f0_ceil=600.0, frame_period=5.0)
        return f

    base = f0(sing(PHRASE, sample_rate=SR, total_samples=TOTAL, voice="tenor", seed=3))
    tenor = voices.VOICES["tenor"]
    monkeypatch.setitem(voices.VOICES, "tenor", dataclasses.replace(
        tenor, breath=0.3, tilt_db_per_khz=-1.0, description="a breathier, darker tenor"))
    breathier = f0(sing(PHRASE, sample_rate=SR, total_samples=TOTAL, voice="tenor", seed=3))
    reseeded = f0(sing(PHRASE, sample_rate=SR, total_samples=TOTAL, voice="tenor", seed=4))
    held = np.zeros(base.size, dtype=bool)
    for n in PHRASE:   # the held middles, where vibrato and wander are
        held[int((n.start_s + 0.15) / 0.005):int((n.end_s - 0.05) / 0.005)] = True
    both = held & (base > 0) & (breathier > 0) & (reseeded > 0)
    assert both.sum() > 150

    def cents(a, b):
        return np.abs(1200 * np.log2(a[both] / b[both]))

    assert np.median(cents(breathier, base)) < 2.0
    assert np.median(cents(reseeded, base)) > 3 * np.median(cents(breathier, base)) + 2.0


def test_first_formant_tuning_moves_f1_above_a_high_f0_only():
    # Vowel modification (RenderOptions.f1_tuning, off by default: it cost the recogniser
    # words, docs/voice.md session 14): an envelope with formants at 350 and 2500 Hz.
    from ainur_cli.voice.render import (_FREQS, F1_ANCHOR_HZ, F1_TUNE_RATIO, _first_formant_hz,
                                        tune_first_formant)

    def peak(f_hz, bw_hz):
        return 1.0 / (1.0 + ((_FREQS - f_hz) / bw_hz) ** 2)

    env = np.log(peak(350.0, 80.0) + 0.5 * peak(2500.0, 150.0) + 1e-3)
    log_sp = np.tile(env, (40, 1))
    f0 = np.r_[np.full(20, 500.0), np.full(20, 200.0)]    # high notes, then low ones
    vowel = np.ones(40, dtype=bool)
    vowel[25:] = False
    assert np.allclose(_first_formant_hz(log_sp), 350.0, atol=10.0)
    out = tune_first_formant(log_sp, f0, vowel)
    f1 = _first_formant_hz(out)
    # inside the run of high notes (away from the 45 ms smoothing at its edge): F1 ≈ 1.08 F0
    assert np.allclose(f1[3:15], F1_TUNE_RATIO * 500.0, atol=25.0)
    assert np.array_equal(out[26:], log_sp[26:])            # F0 under F1: untouched
    above = _FREQS >= F1_ANCHOR_HZ
    assert np.array_equal(out[:, above], log_sp[:, above])  # F2 and up stay where they are
    assert tune_first_formant(log_sp, f0, vowel, amount=0.0) is log_sp


def test_formant_contrast_deepens_the_envelope_and_keeps_its_share_of_the_power():
    # RenderOptions.formant_contrast (off by default: the benchmark melody read better with it,
    # the product's own songs did not, docs/voice.md session 16): formants at 500 and 1500 Hz.
    from ainur_cli.voice.render import _FREQS, _log_total, raise_formant_contrast

    def peak(f_hz, bw_hz):
        return 1.0 / (1.0 + ((_FREQS - f_hz) / bw_hz) ** 2)

    env = np.log(peak(500.0, 80.0) + 0.5 * peak(1500.0, 120.0) + 1e-3)
    log_sp = np.tile(env, (6, 1))
    amount = np.array([0.0, 1.0, 1.0, 1.0, 0.5, 0.0])
    level = {0.0: raise_formant_contrast(log_sp, amount, 400.0, level=0.0),
             0.5: raise_formant_contrast(log_sp, amount, 400.0, level=0.5),
             1.0: raise_formant_contrast(log_sp, amount, 400.0, level=1.0)}
    out = level[0.0]
    at = lambda row, f_hz: row[int(np.argmin(np.abs(_FREQS - f_hz)))]  # noqa: E731
    depth_in = at(env, 500.0) - at(env, 1000.0)              # F1 over the dip between F1 and F2
    assert at(out[1], 500.0) - at(out[1], 1000.0) > 1.5 * depth_in
    assert depth_in < at(out[4], 500.0) - at(out[4], 1000.0) < at(out[1], 500.0) - at(out[1], 1000.0)
    assert np.array_equal(out[[0, 5]], log_sp[[0, 5]])      # amount 0: untouched
    # level 0 keeps each frame's power; 1 keeps all the raised peaks add; 0.5 half of it (dB)
    rise = _log_total(level[1.0]) - _log_total(log_sp)
    assert np.allclose(_log_total(out), _log_total(log_sp))
    assert rise[1] > np.log(10 ** 0.2)                        # more than 2 dB here
    assert np.allclose(_log_total(level[0.5]) - _log_total(log_sp), rise / 2)
    # the shape does not depend on the level, only the frame's gain does
    assert np.allclose(level[1.0] - level[0.0], (level[1.0] - level[0.0])[:, :1])
    assert raise_formant_contrast(log_sp, np.zeros(6), 400.0) is log_sp


def _formant_contrast_db(y, a_s, b_s):
    """Mean depth (dB, standard deviation over 200-4000 Hz) of the cepstrally smoothed log
    spectrum (quefrencies under 40) around its own 400 Hz Gaussian smoothing."""
    x = y[int(a_s * SR):int(b_s * SR)].astype(np.float64)
    win, hop = 1024, int(0.01 * SR)
    frames = np.lib.stride_tricks.sliding_window_view(x, win)[::hop] * np.hanning(win)
    cep = np.fft.irfft(20 * np.log10(np.abs(np.fft.rfft(frames, axis=1)) + 1e-9), axis=1)
    cep[:, 40:-39] = 0.0
    env = np.fft.rfft(cep, axis=1).real
    f = np.fft.rfftfreq(win, 1.0 / SR)
    d = (f[:, None] - f[None, :]) / 400.0
    w = np.exp(-0.5 * d * d)
    band = (f > 200.0) & (f < 4000.0)
    return float(np.mean(np.std((env - env @ (w / w.sum(axis=1, keepdims=True)).T)[:, band], axis=1)))


def test_formant_contrast_sings_held_vowels_with_deeper_formants_and_the_rest_as_before(vocal):
    # Measured on the sung audio: each held vowel's envelope is deeper than without the
    # option (7.3 / 5.2 / 5.5 / 5.1 dB against 4.9 / 4.4 / 4.6 / 3.6), its level 3-5 dB up;
    # before the first vowel (the consonant and its lead-in) nothing changes.
    from ainur_cli.voice.render import RenderOptions

    sung = sing(PHRASE, sample_rate=SR, total_samples=TOTAL, seed=3,
                options=RenderOptions(formant_contrast=1.0))[0]
    flat = vocal[0]
    for n in PHRASE:
        a, b = n.start_s + 0.15, n.start_s + n.duration_s - 0.1
        assert _formant_contrast_db(sung, a, b) > 1.1 * _formant_contrast_db(flat, a, b), n.word
        assert 1.0 < _rms_db(sung[int(a * SR):int(b * SR)]) - _rms_db(flat[int(a * SR):int(b * SR)]) < 7.0
    onset = int((PHRASE[0].start_s - 0.06) * SR)
    assert np.array_equal(sung[:onset], flat[:onset])

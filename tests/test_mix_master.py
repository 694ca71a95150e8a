"""Mix and master: settings validation, meters, per-part strips, linked mastering.

Real signals (synthesised drums, bass, chords, pad, lead, guitar), real files, and two
independent meters: pyloudnorm and ffmpeg's ``ebur128`` filter (its integrated loudness and
its true peak, which resamples to 192 kHz with its own filter).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import shutil
import subprocess

import numpy as np
import pyloudnorm
import pytest
import scipy.signal as ss
import soundfile as sf

from ainur_cli.errors import PresetError
from ainur_cli.export.audio import write_audio
from ainur_cli.mix import dynamics as dyn
from ainur_cli.mix.eq import apply_eq
from ainur_cli.mix.loudness import (
    integrated_lufs,
    k_weighting_sos,
    sample_peak_dbfs,
    short_term_lufs,
    true_peak_dbtp,
)
from ainur_cli.mix.master import linked_master
from ainur_cli.mix.truepeak import (
    block_abs_max,
    block_peaks,
    exact_block_peaks,
    interpolator,
    neighbour_max,
    peak_bound,
    true_peak_linear,
)
from ainur_cli.mix.mixer import mix_stems, process_stem
from ainur_cli.mix.settings import (
    MIX_FIELDS_DOC,
    Compressor,
    DeEsser,
    DelayBus,
    EqBand,
    MasterSettings,
    MixSettings,
    PartMix,
    ReverbBus,
    parse_mix,
)
from ainur_cli.source import parse_yaml_text

RATES = [44100, 48000]
TEMPO_BPM = 120.0
DURATION_S = 12.0

MIX_YAML = """\
mix:
  parts:
    drums: {highpass_hz: 30, compressor: {threshold_db: -16, ratio: 3, attack_ms: 8, release_ms: 120}, reverb_send: 0.08}
    bass: {gain_db: -1, highpass_hz: 35, lowpass_hz: 4000, compressor: {threshold_db: -20, ratio: 4}}
    keys: {gain_db: -3, pan: -0.3, highpass_hz: 120, eq: [{type: high_shelf, freq_hz: 6000, gain_db: 2}], reverb_send: 0.2}
    pad: {gain_db: -6, pan: 0.2, highpass_hz: 200, reverb_send: 0.35, width: 1.4}
    lead: {gain_db: -1, highpass_hz: 180, eq: [{type: peak, freq_hz: 3000, gain_db: 2, q: 1.2}], reverb_send: 0.25, delay_send: 0.2}
  reverb: {room_size: 0.55, damping: 0.45, width: 1.0, return_db: -4, predelay_ms: 20}
  delay: {time_beats: 0.75, feedback: 0.3, return_db: -9, highcut_hz: 5000}
  master:
    eq: [{type: low_shelf, freq_hz: 90, gain_db: 1.0}, {type: high_shelf, freq_hz: 9000, gain_db: 1.5}]
    glue_threshold_db: -14
    glue_ratio: 1.6
"""


def settings_from_yaml(text: str = MIX_YAML, file: str = "preset.yaml") -> MixSettings:
    data, src = parse_yaml_text(text, file, PresetError)
    return parse_mix(data.get("mix"), src, ("mix",))


# -- signals ------------------------------------------------------------------------------------

def song_stems(duration_s: float, sample_rate: int, seed: int = 1) -> dict[str, np.ndarray]:
    """Six stereo stems (2, n) float32 of a little 120 bpm song: drum hits with noise
    transients, a bass line, chords, a pad, a lead that enters after 2 s, strummed guitar."""
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * sample_rate))
    t = np.arange(n) / sample_rate
    beat = 60.0 / TEMPO_BPM

    def hits(times, decay_s):
        env = np.zeros(n)
        length = int(6 * decay_s * sample_rate)
        shape = np.exp(-np.arange(length) / (decay_s * sample_rate))
        for start in (np.asarray(times) * sample_rate).astype(int):
            m = min(length, n - start)
            if m > 0:
                env[start: start + m] += shape[:m]
        return env

    beats = np.arange(0, duration_s, beat)
    kick_env = hits(beats[::2], 0.09)
    kick = np.sin(2 * np.pi * 52 * t + 14 * kick_env) * kick_env
    snare = rng.standard_normal(n) * hits(beats[1::2], 0.07) * 0.5
    hat_noise = ss.sosfilt(ss.butter(4, [7000, 15000], "bandpass", fs=sample_rate, output="sos"),
                           rng.standard_normal(n))
    hats = hat_noise * hits(np.arange(0, duration_s, beat / 2), 0.02) * 0.8
    drums = 0.9 * kick + snare + hats
    roots = np.array([55.0, 43.65, 49.0, 41.2])[(t // (4 * beat)).astype(int) % 4]
    phase = 2 * np.pi * np.cumsum(roots) / sample_rate
    bass = sum(np.sin(k * phase) / k for k in range(1, 7)) * 0.3 * np.clip(hits(beats, 0.25) + 0.3, 0, 1)
    chord = np.array([1.0, 1.26, 1.5])
    keys = sum(np.sin(4 * c * phase) + 0.3 * np.sin(8 * c * phase) for c in chord) * 0.1 * hits(beats, 0.4)
    pad = np.stack([sum(np.sin(2 * c * d * phase) for c in chord) * 0.05 for d in (1.003, 0.997)])
    pad *= 0.6 + 0.4 * np.sin(2 * np.pi * t / 6) ** 2
    steps = np.array([1, 1.12, 1.26, 1.5, 1.68, 2.0])[(t // (beat / 2)).astype(int) % 6]
    lead_phase = 2 * np.pi * np.cumsum(8 * roots * steps * (1 + 0.004 * np.sin(2 * np.pi * 5.5 * t))) / sample_rate
    lead = (np.sin(lead_phase) + 0.4 * np.sin(2 * lead_phase)) * 0.2 * np.clip(hits(np.arange(2.0, duration_s, beat / 2), 0.25), 0, 1)
    guitar = sum(np.sign(np.sin(2 * c * phase)) for c in chord) * 0.04 * hits(np.arange(beat / 4, duration_s, beat), 0.15)
    guitar = ss.sosfilt(ss.butter(2, 5000, fs=sample_rate, output="sos"), guitar)
    stems = {
        "drums": np.stack([drums, 0.95 * drums + 0.05 * hats]),
        "bass": np.stack([bass, bass]),
        "keys": np.stack([keys, 0.8 * keys]),
        "pad": pad,
        "lead": np.stack([lead, lead]),
        "guitar": np.stack([0.7 * guitar, guitar]),
    }
    return {k: v.astype(np.float32) for k, v in stems.items()}


def rms_db(x: np.ndarray) -> float:
    return 10 * math.log10(float(np.mean(np.asarray(x, np.float64) ** 2)) + 1e-300)


def ffmpeg_ebur128(path) -> dict:
    """Integrated loudness (LUFS) and true peak (dBTP) from ffmpeg's ebur128 summary."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is NOT installed, so the independent ffmpeg meter did not run "
                    "(apt-get install ffmpeg)")
    proc = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path),
                           "-filter_complex", "ebur128=peak=true", "-f", "null", "-"],
                          capture_output=True, text=True, check=True)
    summary = proc.stderr[proc.stderr.rfind("Summary:"):]
    found = {"integrated_lufs": re.search(r"\bI:\s+(-?[\d.]+|-inf) LUFS", summary),
             "true_peak_dbtp": re.search(r"\bPeak:\s+(-?[\d.]+|-inf) dBFS", summary)}
    assert all(found.values()), f"unexpected ffmpeg summary:\n{summary}"
    return {k: float(m.group(1)) for k, m in found.items()}


# -- settings -----------------------------------------------------------------------------------

def test_parse_mix_defaults_and_full_block():
    src = parse_yaml_text("{}", "p.yaml", PresetError)[1]
    assert parse_mix(None, src, ("mix",)) == MixSettings()
    assert MixSettings().part("anything") == PartMix()
    s = settings_from_yaml()
    assert s.part("bass").compressor == Compressor(threshold_db=-20.0, ratio=4.0,
                                                   attack_ms=10.0, release_ms=120.0)
    assert s.part("lead").eq == (EqBand("peak", 3000.0, 2.0, 1.2),)
    assert s.part("keys").eq == (EqBand("high_shelf", 6000.0, 2.0, 0.707),)
    assert s.part("pad").width == 1.4 and s.part("pad").pan == 0.2
    assert s.reverb == ReverbBus(0.55, 0.45, 1.0, -4.0, 20.0, 150.0)
    assert s.delay == DelayBus(0.75, 0.3, -9.0, 5000.0)
    assert s.master.eq[0] == EqBand("low_shelf", 90.0, 1.0, 0.707)
    assert (s.master.glue_threshold_db, s.master.glue_ratio) == (-14.0, 1.6)


@pytest.mark.parametrize("yaml_text, line, field, allowed", [
    ("mix:\n  parts:\n    bass: {gian_db: 3}\n", 3, "mix.parts.bass.gian_db", "gain_db"),
    ("mix:\n  parts:\n    bass:\n      pan: 1.5\n", 4, "mix.parts.bass.pan", "<= 1"),
    ("mix:\n  parts:\n    bass:\n      compressor: {ratio: lots}\n", 4,
     "mix.parts.bass.compressor.ratio", "a number"),
    ("mix:\n  parts:\n    keys:\n      eq:\n        - {type: notch, freq_hz: 100}\n", 5,
     "mix.parts.keys.eq[0].type", "peak, low_shelf, high_shelf"),
    ("mix:\n  parts:\n    keys:\n      eq:\n        - {gain_db: 3}\n", 5,
     "mix.parts.keys.eq[0].freq_hz", "20"),
    ("mix:\n  parts:\n    keys: {highpass_hz: 800, lowpass_hz: 500}\n", 3,
     "mix.parts.keys.lowpass_hz", "> 800"),
    ("mix:\n  parts:\n    vocals:\n      deesser: {freq_hz: 500}\n", 4,
     "mix.parts.vocals.deesser.freq_hz", ">= 2000"),
    ("mix:\n  parts:\n    vocals:\n      deesser: {range: 6}\n", 4,
     "mix.parts.vocals.deesser.range", "range_db"),
    ("mix:\n  parts:\n    vocals:\n      deesser: on\n", 4,
     "mix.parts.vocals.deesser", "freq_hz, threshold_db"),
    ("mix:\n  reverb:\n    room_size: 2\n", 3, "mix.reverb.room_size", "<= 1"),
    ("mix:\n  delay:\n    feedback: 0.99\n", 3, "mix.delay.feedback", "<= 0.95"),
    ("mix:\n  master:\n    limiter: 3\n", 3, "mix.master.limiter", "max_limiting_db"),
    ("mix:\n  master:\n    glue_ratio: true\n", 3, "mix.master.glue_ratio", "a number"),
    ("mix:\n  parts: [drums, bass]\n", 2, "mix.parts", "part name"),
    ("mix:\n  colour: warm\n", 2, "mix.colour", "parts"),
])
def test_parse_mix_errors_name_file_line_field(yaml_text, line, field, allowed):
    with pytest.raises(PresetError) as info:
        settings_from_yaml(yaml_text, file="presets/broken.yaml")
    err = info.value
    assert (err.file, err.line, err.field) == ("presets/broken.yaml", line, field)
    assert allowed in str(err)
    assert str(err).startswith(f"presets/broken.yaml:{line}: {field}: ")


def test_field_reference_documents_every_field():
    for cls in (PartMix, EqBand, Compressor, DeEsser, ReverbBus, DelayBus, MasterSettings):
        for f in dataclasses.fields(cls):
            assert f"`{f.name}`" in MIX_FIELDS_DOC, f"{cls.__name__}.{f.name} is undocumented"


# -- meters -------------------------------------------------------------------------------------

@pytest.mark.parametrize("sample_rate", RATES)
def test_integrated_lufs_matches_pyloudnorm(sample_rate):
    rng = np.random.default_rng(7)
    stems = song_stems(7.37, sample_rate)
    for audio in (stems["drums"], stems["pad"], stems["bass"] * 0.01,
                  (rng.standard_normal((2, int(4.05 * sample_rate))) * 0.1).astype(np.float32)):
        ref = pyloudnorm.Meter(sample_rate).integrated_loudness(audio.T.astype(np.float64))
        assert integrated_lufs(audio, sample_rate) == pytest.approx(ref, abs=1e-3)


@pytest.mark.parametrize("sample_rate", RATES + [96000])
def test_k_weighting_equals_pyloudnorms_filters(sample_rate):
    meter = pyloudnorm.Meter(sample_rate)
    theirs = [np.r_[meter._filters[k].b, meter._filters[k].a] for k in ("high_shelf", "high_pass")]
    assert np.allclose(k_weighting_sos(sample_rate), theirs, rtol=0, atol=1e-12)


@pytest.mark.parametrize("sample_rate", RATES)
def test_k_weighting_calibration_tone(sample_rate):
    # BS.1770: a 997 Hz sine at 0 dBFS in one channel reads -3.01 LUFS; here -20 dBFS.
    # EBU Tech 3341 allows a meter ±0.1 LU (the bilinear K-filter reads 0.04 low at 44.1 kHz).
    t = np.arange(int(10 * sample_rate)) / sample_rate
    left = (10 ** (-20 / 20) * np.sin(2 * np.pi * 997 * t)).astype(np.float32)
    audio = np.stack([left, np.zeros_like(left)])
    assert integrated_lufs(audio, sample_rate) == pytest.approx(-23.01, abs=0.1)
    st = short_term_lufs(audio, sample_rate)
    assert st.shape == (int((10 - 3) / 0.1) + 1,)
    assert np.allclose(st, integrated_lufs(audio, sample_rate), atol=0.01)


@pytest.mark.parametrize("sample_rate", RATES)
def test_true_peak_finds_intersample_peaks(sample_rate):
    # fs/4 sine at 45°: every sample is ±0.707 (−3.01 dBFS), the waveform peaks at 1.0.
    n = int(sample_rate)
    x = np.sin(np.pi * np.arange(n) / 2 + np.pi / 4) * np.hanning(n) ** 0.05
    audio = np.stack([x, 0.5 * x]).astype(np.float32)
    assert sample_peak_dbfs(audio) == pytest.approx(-3.01, abs=0.01)
    assert true_peak_dbtp(audio, sample_rate) == pytest.approx(0.0, abs=0.02)
    # Music-like material against an independent 16x resampler (scipy, Kaiser, long filter).
    mix = sum(song_stems(4.0, sample_rate).values())
    ref = 20 * np.log10(np.abs(ss.resample_poly(mix.astype(np.float64), 16, 1, axis=1)).max())
    assert true_peak_dbtp(mix, sample_rate) == pytest.approx(ref, abs=0.1)


def bound_cases(sample_rate: int) -> dict[str, np.ndarray]:
    """Worst cases for the true-peak screen and real material, (channels, n) float32."""
    rng = np.random.default_rng(4)
    n = sample_rate // 2
    i = np.arange(n)
    quarter = np.sin(np.pi * i / 2 + np.pi / 4)                      # fs/4 at 45°: +3 dB
    near_nyquist = np.sin(2 * np.pi * 0.49 * i + 0.3)                 # Δ² ≈ 4·amplitude
    alternating = np.zeros(n)
    alternating[:40] = np.tile([1.0, -1.0], 20)                       # at the very start ...
    alternating[-41:] = np.tile([1.0, -1.0], 21)[:41]                 # ... and the very end
    clicks = np.zeros(n)
    clicks[[0, 63, 64, 127, 1000, n - 1]] = [0.9, -1.0, 1.0, 0.7, -0.8, 1.0]
    cases = {
        "fs/4 at 45 degrees": np.stack([quarter, -0.5 * quarter]),
        "0.49 fs": np.stack([near_nyquist, near_nyquist[::-1]]),
        "alternating at the edges": alternating[None, :],
        "clicks on block edges": clicks[None, :],
        "white noise": rng.standard_normal((2, n)) * 0.3,
        "song": sum(song_stems(3.0, sample_rate).values()) * 0.5,
    }
    for length in (1, 2, 3, 17, 65):
        cases[f"{length} samples"] = rng.uniform(-1, 1, (2, length))
    return {k: v.astype(np.float32) for k, v in cases.items()}


@pytest.mark.parametrize("oversample", [4, 8])
@pytest.mark.parametrize("block", [32, 64])
def test_peak_bound_never_undercuts_a_block(oversample, block):
    # The screen may skip a block only if its bound is at least the block's interpolated
    # peak: check every block of every case against the interpolation itself.
    for name, x in bound_cases(48000).items():
        peaks, curvature = block_peaks(x, block)
        bound = peak_bound(peaks, curvature, block, oversample)
        exact = exact_block_peaks(x, np.arange(peaks.size), block, oversample=oversample)
        assert np.all(bound >= exact), name
        assert np.array_equal(peaks, block_abs_max(x, block)), name


@pytest.mark.parametrize("sample_rate", RATES)
def test_true_peak_equals_interpolating_every_block(sample_rate):
    for name, x in bound_cases(sample_rate).items():
        every = exact_block_peaks(x, np.arange(-(-x.shape[1] // 64)), 64).max()
        assert true_peak_linear(x, sample_rate) == pytest.approx(every, rel=1e-6), name
    # The bound leaves few blocks to interpolate: far fewer than the interpolator's L1 norm
    # (+7.3 dB over the sample peaks) on a drum-heavy mix, a handful on tonal parts.
    stems = song_stems(3.0, sample_rate)
    for name, x in [("mix", sum(stems.values()) * 0.5), ("keys", stems["keys"]),
                    ("pad", stems["pad"]), ("lead", stems["lead"])]:
        peaks, curvature = block_peaks(x, 64)
        top = true_peak_linear(x, sample_rate)
        kept = np.count_nonzero(peak_bound(peaks, curvature, 64, 4) > top)
        by_l1 = np.count_nonzero(neighbour_max(peaks) * interpolator(4)[2] > top)
        assert kept <= (by_l1 / 2 if name == "mix" else 0.01 * peaks.size), name


def test_true_peak_against_scipy_resampler_on_worst_cases():
    # Independent meter: scipy's polyphase resampler at 8x (its own Kaiser filter). Only
    # band-limited cases: at Nyquist itself (alternating samples, lone clicks) two
    # interpolators legitimately disagree.
    cases = bound_cases(48000)
    for name in ("fs/4 at 45 degrees", "0.49 fs", "song"):
        x = cases[name]
        ref = 20 * np.log10(np.abs(ss.resample_poly(x.astype(np.float64), 8, 1, axis=1)).max())
        assert true_peak_dbtp(x, 48000, oversample=8) == pytest.approx(ref, abs=0.1), name


def test_meters_on_silence():
    silent = np.zeros((2, 48000 * 2), np.float32)
    assert integrated_lufs(silent, 48000) == -math.inf
    assert true_peak_dbtp(silent, 48000) == -math.inf
    assert sample_peak_dbfs(silent) == -math.inf
    assert np.all(np.isneginf(short_term_lufs(np.zeros((2, 48000 * 4), np.float32), 48000)))


# -- dynamics helpers ---------------------------------------------------------------------------

def test_release_closed_form_equals_the_recursion():
    rng = np.random.default_rng(3)
    d = np.maximum(rng.standard_normal(2000) * 4, 0) * (rng.random(2000) < 0.2)
    a = 0.97
    ref = np.zeros_like(d)
    prev = 0.0
    for i, v in enumerate(d):
        prev = max(v, a * prev)
        ref[i] = prev
    assert np.allclose(dyn.release(d, a), ref, rtol=1e-9, atol=1e-12)


def test_limiter_never_exceeds_the_requirement():
    rng = np.random.default_rng(5)
    required = np.minimum(0.0, rng.standard_normal(5000) * 3 + 1)
    for lookahead in (1, 3, 9):
        gain = dyn.limiter_gain_db(required, lookahead_blocks=lookahead, release_coeff=0.9)
        assert np.all(gain <= required + 1e-12)
        assert np.all(gain <= 0)


# -- mixer --------------------------------------------------------------------------------------

@pytest.mark.parametrize("sample_rate", RATES)
def test_mix_stems_shapes_determinism_and_threads(sample_rate):
    stems = song_stems(6.0, sample_rate)
    settings = settings_from_yaml()
    a = mix_stems(stems, settings, sample_rate, TEMPO_BPM, workers=2)
    b = mix_stems(stems, settings, sample_rate, TEMPO_BPM, workers=1)
    assert list(a) == list(stems)
    for k in stems:
        assert a[k].shape == stems[k].shape and a[k].dtype == np.float32
        assert np.array_equal(a[k], b[k]), k
        assert np.all(np.isfinite(a[k]))
    # A part without settings passes through untouched.
    assert np.array_equal(a["guitar"], stems["guitar"])


def test_sends_are_per_stem_and_linear():
    sr = 48000
    n = sr * 4
    burst = np.zeros((2, n), np.float32)
    burst[:, : sr // 4] = np.random.default_rng(2).standard_normal((2, sr // 4)) * 0.2
    base = MixSettings()
    wet = PartMix(reverb_send=0.5, delay_send=0.3)
    dry_out = process_stem(burst, PartMix(), base, sr, TEMPO_BPM)
    wet_out = process_stem(burst, wet, base, sr, TEMPO_BPM)
    tail = slice(sr // 2, n)
    assert rms_db(dry_out[:, tail]) < -200          # nothing after the burst without sends
    assert rms_db(wet_out[:, tail]) > rms_db(burst[:, : sr // 4]) - 60  # its own reverb/echo
    # Without a compressor the strip + returns are linear: process(a + b) = process(a) + process(b)
    other = np.roll(burst, sr, axis=1) * 0.5
    lin = PartMix(gain_db=-3, pan=0.4, highpass_hz=100, reverb_send=0.5, delay_send=0.3,
                  eq=(EqBand("peak", 2000, 4, 1.0),))
    both = process_stem(burst + other, lin, base, sr, TEMPO_BPM)
    parts = process_stem(burst, lin, base, sr, TEMPO_BPM) + process_stem(other, lin, base, sr, TEMPO_BPM)
    assert rms_db(both - parts) - rms_db(both) < -80
    # Hard left: the dry right channel is silent.
    left = process_stem(burst, PartMix(pan=-1.0), base, sr, TEMPO_BPM)
    assert np.max(np.abs(left[1])) == 0.0


def test_consume_frees_the_input_dict():
    stems = song_stems(2.0, 44100)
    out = mix_stems(stems, settings_from_yaml(), 44100, TEMPO_BPM, consume=True)
    assert stems == {} and len(out) == 6


# -- linked master ------------------------------------------------------------------------------

TARGET_LUFS = -14.0
CEILING_DBTP = -1.0


@pytest.fixture(scope="module", params=RATES, ids=lambda r: f"{r}Hz")
def mastered(request):
    sample_rate = request.param
    settings = settings_from_yaml()
    processed = mix_stems(song_stems(DURATION_S, sample_rate), settings, sample_rate, TEMPO_BPM)
    result = linked_master(processed, sample_rate, target_lufs=TARGET_LUFS,
                           true_peak_dbtp=CEILING_DBTP, settings=settings.master)
    return sample_rate, settings, processed, result


def test_master_loudness_by_pyloudnorm(mastered, tmp_path):
    sample_rate, _, _, result = mastered
    path = tmp_path / "mix.wav"
    write_audio(path, result.mix, sample_rate, bit_depth="24")
    audio, sr = sf.read(path, dtype="float64")
    measured = pyloudnorm.Meter(sr).integrated_loudness(audio)
    assert abs(measured - TARGET_LUFS) <= 0.3
    assert result.integrated_lufs == pytest.approx(measured, abs=0.01)
    assert result.target_reached and not result.warnings
    assert result.max_gain_reduction_db > 0  # the master did work on this material


def test_master_true_peak_under_ceiling(mastered):
    sample_rate, _, _, result = mastered
    assert true_peak_dbtp(result.mix, sample_rate) <= CEILING_DBTP
    assert result.true_peak_dbtp <= CEILING_DBTP
    assert result.true_peak_dbtp == pytest.approx(true_peak_dbtp(result.mix, sample_rate), abs=0.1)
    # The master holds the ceiling at 8x; a finer 16x grid finds at most a few hundredths of
    # a dB more (the limiter aims 0.1 dB under the ceiling for that).
    assert true_peak_dbtp(result.mix, sample_rate, oversample=16) <= CEILING_DBTP


def test_master_by_ffmpeg_ebur128(mastered, tmp_path):
    sample_rate, _, _, result = mastered
    path = tmp_path / "mix.wav"
    write_audio(path, result.mix, sample_rate, bit_depth="24")
    ff = ffmpeg_ebur128(path)
    assert abs(ff["integrated_lufs"] - TARGET_LUFS) <= 0.3
    # ffmpeg prints one decimal (±0.05 dB) and measures at 192 kHz with its own resampler
    # (ours: 8x, 32 taps per phase; they agree within ~0.05 dB): allow 0.05 + 0.05 dB.
    assert ff["true_peak_dbtp"] <= CEILING_DBTP + 0.1


@pytest.mark.parametrize("bit_depth", ["16", "24", "32f"])
def test_exported_stems_null_against_the_mix(mastered, tmp_path, bit_depth):
    sample_rate, _, _, result = mastered
    write_audio(tmp_path / "mix.wav", result.mix, sample_rate, bit_depth=bit_depth)
    total = None
    for name, stem in result.stems.items():
        write_audio(tmp_path / f"{name}.wav", stem, sample_rate, bit_depth=bit_depth)
        back, _ = sf.read(tmp_path / f"{name}.wav", dtype="float64")
        total = back if total is None else total + back
    mix, _ = sf.read(tmp_path / "mix.wav", dtype="float64")
    residual_db = rms_db(total - mix) - rms_db(mix)
    assert residual_db <= -60, f"stems do not null against the mix: {residual_db:.1f} dB"
    # What rounding alone allows: 7 files x 0.29 LSB RMS each, against a mix at -14 LUFS.
    limit = {"16": -70, "24": -110, "32f": -110}[bit_depth]
    assert residual_db <= limit, f"{bit_depth}: {residual_db:.1f} dB"


def test_one_gain_curve_for_every_stem(mastered):
    sample_rate, settings, processed, result = mastered
    eq = apply_eq(processed, settings.master.eq, sample_rate)
    gain = result.gain_linear()
    assert gain.shape == (result.mix.shape[1],) and np.all(np.isfinite(gain))
    for name, stem in result.stems.items():
        assert np.max(np.abs(stem - eq[name] * gain)) <= 1e-6
    assert np.max(np.abs(sum(result.stems.values()) - result.mix)) <= 1e-5
    assert result.gain_db_curve.dtype == np.float32


def test_master_is_deterministic_and_inplace_agrees(mastered):
    sample_rate, settings, processed, result = mastered
    again = linked_master({k: v.copy() for k, v in processed.items()}, sample_rate,
                          target_lufs=TARGET_LUFS, true_peak_dbtp=CEILING_DBTP,
                          settings=settings.master, inplace=True)
    assert np.array_equal(again.mix, result.mix)
    assert all(np.array_equal(again.stems[k], result.stems[k]) for k in result.stems)
    assert again.loudness_gain_db == result.loudness_gain_db


def test_silent_input_stays_silent(caplog):
    stems = {"a": np.zeros((2, 48000 * 3), np.float32), "b": np.zeros((2, 48000 * 3), np.float32)}
    with caplog.at_level(logging.WARNING):
        result = linked_master(stems, 48000)
    assert "silent" in caplog.text
    assert result.integrated_lufs == -math.inf and result.true_peak_dbtp == -math.inf
    assert result.loudness_gain_db == 0.0 and result.max_gain_reduction_db == 0.0
    assert not result.target_reached and result.warnings
    assert np.all(result.gain_db_curve == 0) and np.all(result.mix == 0)
    assert all(np.all(s == 0) for s in result.stems.values())


def test_below_gate_input_is_left_alone():
    rng = np.random.default_rng(1)
    hiss = (rng.standard_normal((2, 48000 * 3)) * 10 ** (-100 / 20)).astype(np.float32)
    result = linked_master({"hiss": hiss}, 48000)
    assert np.array_equal(result.stems["hiss"], hiss)
    assert result.loudness_gain_db == 0.0 and np.isfinite(result.true_peak_dbtp)


@pytest.mark.parametrize("sample_rate", RATES)
def test_unreachable_target_gets_as_close_as_the_ceiling_allows(sample_rate, caplog):
    settings = settings_from_yaml()
    processed = mix_stems(song_stems(8.0, sample_rate), settings, sample_rate, TEMPO_BPM)
    with caplog.at_level(logging.WARNING, logger="ainur_cli.mix.master"):
        result = linked_master(processed, sample_rate, target_lufs=-3.0, true_peak_dbtp=-1.0,
                               settings=settings.master)
    assert not result.target_reached
    assert "reaches" in caplog.text and result.warnings
    assert result.integrated_lufs < -3.3
    assert result.integrated_lufs == pytest.approx(integrated_lufs(result.mix, sample_rate), abs=0.01)
    assert result.limiter_max_reduction_db == pytest.approx(settings.master.max_limiting_db, abs=0.05)
    assert true_peak_dbtp(result.mix, sample_rate) <= -1.0
    # ... and it is as loud as that limiting allows: louder than at the -14 LUFS target.
    assert result.integrated_lufs > -14.0


def test_quiet_target_needs_no_limiting():
    sr = 48000
    settings = settings_from_yaml()
    processed = mix_stems(song_stems(8.0, sr), settings, sr, TEMPO_BPM)
    result = linked_master(processed, sr, target_lufs=-23.0, true_peak_dbtp=-1.0,
                           settings=MasterSettings(glue_ratio=1.0))
    assert result.limiter_max_reduction_db == 0.0 and result.glue_max_reduction_db == 0.0
    assert abs(integrated_lufs(result.mix, sr) + 23.0) <= 0.05
    assert np.allclose(result.gain_db_curve, result.loudness_gain_db, atol=1e-4)


def test_the_vocals_strip_starts_from_the_default_vocal_chain():
    # A preset (or a song's style:) that asks for more vocal reverb keeps the rest of the
    # chain; null switches a stage off; a partial compressor keeps the chain's other fields.
    from ainur_cli.mix.settings import DEFAULT_VOCAL_CHAIN

    def vocals(yaml_body: str) -> PartMix:
        return settings_from_yaml("mix:\n  parts:\n    vocals:\n" + yaml_body).part("vocals")

    assert vocals("      reverb_send: 0.4\n") == dataclasses.replace(DEFAULT_VOCAL_CHAIN, reverb_send=0.4)
    assert vocals("      deesser: null\n      highpass_hz: null\n") == dataclasses.replace(
        DEFAULT_VOCAL_CHAIN, deesser=None, highpass_hz=None)
    got = vocals("      compressor: {ratio: 4}\n      deesser: {range_db: 4}\n      eq: []\n")
    assert got.compressor == dataclasses.replace(DEFAULT_VOCAL_CHAIN.compressor, ratio=4.0)
    assert got.deesser == DeEsser(range_db=4.0) and got.eq == ()
    assert got.reverb_send == DEFAULT_VOCAL_CHAIN.reverb_send
    # Other parts start from the plain strip, as before.
    assert settings_from_yaml("mix:\n  parts:\n    lead: {reverb_send: 0.4}\n").part("lead") \
        == PartMix(reverb_send=0.4)


def test_a_songs_style_override_of_the_vocal_reverb_keeps_the_chain(tmp_path):
    # Through the real preset loader: the pop preset has no vocals strip; a song's style asks
    # for more reverb on the vocals and gets the default chain with that reverb.
    from ainur_cli.mix.settings import DEFAULT_VOCAL_CHAIN
    from ainur_cli.presets import load_preset
    from ainur_cli.vocals import with_vocal_chain

    plain = with_vocal_chain(load_preset("pop").style.mix).part("vocals")
    over = load_preset("pop", {"mix": {"parts": {"vocals": {"reverb_send": 0.5}}}}).style.mix
    assert plain == DEFAULT_VOCAL_CHAIN
    assert with_vocal_chain(over).part("vocals") == dataclasses.replace(DEFAULT_VOCAL_CHAIN, reverb_send=0.5)


def test_a_singers_strip_starts_from_the_vocals_strip_and_goes_on_that_singers_stem():
    # A duet through the real preset loader: the song's style turns the vocal reverb up and
    # gives the alto her own pan and level; the alto's strip keeps the reverb, and it lands on
    # whichever stem the alto sings into ("vocals" when she sings first).
    from ainur_cli.mix.settings import DEFAULT_VOCAL_CHAIN
    from ainur_cli.presets import load_preset
    from ainur_cli.vocals import with_vocal_chain

    mix = load_preset("pop", {"mix": {"parts": {
        "vocals": {"reverb_send": 0.5},
        "vocals-alto": {"pan": -0.4, "gain_db": -1}}}}).style.mix
    vocals = dataclasses.replace(DEFAULT_VOCAL_CHAIN, reverb_send=0.5)
    alto = dataclasses.replace(vocals, pan=-0.4, gain_db=-1.0)
    assert mix.part("vocals-alto") == alto
    second = with_vocal_chain(mix, {"vocals": "tenor", "vocals-alto": "alto"})
    assert (second.part("vocals"), second.part("vocals-alto")) == (vocals, alto)
    first = with_vocal_chain(mix, {"vocals": "alto", "vocals-tenor": "tenor"})
    assert (first.part("vocals"), first.part("vocals-tenor")) == (alto, vocals)
    assert "vocals-alto" not in first.parts          # no stem of that name: no stray strip
    alone = with_vocal_chain(mix, {"vocals": "tenor"})
    assert [n for n in alone.parts if n.startswith("vocals")] == ["vocals"]
    assert alone.part("vocals") == vocals
    # The other parts' strips are untouched.
    assert {n: s for n, s in first.parts.items() if not n.startswith("vocals")} \
        == {n: s for n, s in mix.parts.items() if not n.startswith("vocals")}


@pytest.mark.parametrize("name, allowed", [
    ("vocals-bass", "vocals-tenor, vocals-soprano, vocals-baritone, vocals-alto"),
    ("vocals-Alto", "vocals-tenor, vocals-soprano, vocals-baritone, vocals-alto"),
    ("choir", "vocals-<voice>"),
])
def test_a_strip_for_no_voice_is_named_with_file_and_line(name, allowed):
    from ainur_cli.api import resolve_song
    from ainur_cli.errors import SpecError
    from ainur_cli.spec import parse_spec_text

    text = ("title: t\npreset: pop\nsections:\n  - {name: Verse, bars: 4, lyrics: la la la}\n"
            f"style:\n  mix:\n    parts:\n      vocals: {{gain_db: 1}}\n      {name}: {{pan: 0.5}}\n")
    with pytest.raises(SpecError) as info:
        resolve_song(parse_spec_text(text, "song.yaml"))
    message = str(info.value)
    assert message.startswith(f"song.yaml:9: mix.parts.{name}:"), message
    assert repr(name) in message and allowed in message, message

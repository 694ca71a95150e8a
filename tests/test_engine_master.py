"""The soundfont engine (sample-exact onsets) and the linked master on synthetic stems,
checked with independent meters (pyloudnorm, ffmpeg ebur128) and an independent bext parser."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

from ainur_cli.compose.types import Composition, Note, Part
from ainur_cli.engines.embedded.render import render_part, render_parts
from ainur_cli.engines.embedded.soundfont import resolve_soundfont
from ainur_cli.errors import EngineError, ExportError
from ainur_cli.export.audio import read_bext, write_audio
from ainur_cli.mix.loudness import integrated_lufs, true_peak_dbtp
from ainur_cli.mix.master import linked_master
from ainur_cli.mix.mixer import mix_stems
from ainur_cli.mix.settings import MixSettings, PartMix
from ainur_cli.timeline import MeterChange, TempoChange, Timeline
from tests.conftest import ffmpeg_ebur128

SR = 48000


def issue_timeline(sr=SR):
    return Timeline([TempoChange(Fraction(0), Fraction(120)), TempoChange(Fraction(16), Fraction(90))],
                    [MeterChange(0, 4, 4), MeterChange(4, 3, 4)], 6, sr)


def onset(audio: np.ndarray, after: int) -> int:
    """First sample at or after ``after`` whose magnitude exceeds a small threshold."""
    mag = np.abs(audio).max(axis=0)
    idx = np.flatnonzero(mag[after:] > 1e-4)
    return after + int(idx[0])


def test_notes_start_on_the_exact_sample():
    tl = issue_timeline()
    sf2 = resolve_soundfont()
    beats = [Fraction(0), Fraction(16), Fraction(19)]  # bar 1, the tempo change, a 3/4 bar
    notes = tuple(Note(float(b), 0.5, 60, 110) for b in beats)
    audio = render_part(Part("keys", 0, False, 0, notes), tl, sf2, total_samples=tl.total_samples)
    assert audio.shape == (2, tl.total_samples) and audio.dtype == np.float32
    for b in beats:
        expected = tl.beat_to_sample(b)
        # Silence right before the note (previous notes have released by then) ...
        if b:
            assert np.abs(audio[:, expected - 200: expected]).max() < 1e-3
        # ... and sound within a few samples of it (sample attacks take a few samples to rise).
        assert onset(audio, expected - 200 if b else 0) - expected in range(0, 48)


def test_drums_and_parallel_render_identical():
    tl = issue_timeline()
    sf2 = resolve_soundfont()
    comp = Composition((
        Part("drums", 0, True, 9, tuple(Note(float(b), 0.25, 36, 120) for b in range(0, 20, 2))),
        Part("bass", 33, False, 0, tuple(Note(float(b), 1.0, 40, 100) for b in range(20))),
    ))
    one = render_parts(comp, tl, sf2, total_samples=tl.total_samples, workers=1)
    two = render_parts(comp, tl, sf2, total_samples=tl.total_samples, workers=2)
    assert np.abs(one["drums"]).max() > 0.05
    for k in one:
        assert np.array_equal(one[k], two[k])


def test_bad_soundfont(tmp_path):
    bad = tmp_path / "x.sf2"
    bad.write_bytes(b"not a soundfont at all")
    with pytest.raises(EngineError, match="not a SoundFont"):
        resolve_soundfont(bad)
    with pytest.raises(EngineError, match="cannot read"):
        resolve_soundfont(tmp_path / "missing.sf2")


def synthetic_stems(seconds=12, sr=SR):
    rng = np.random.default_rng(3)
    n = seconds * sr
    t = np.arange(n) / sr
    kick = np.zeros(n)
    burst = np.sin(2 * np.pi * 55 * t[:6000]) * np.exp(-t[:6000] * 25)
    for s in range(0, n - 6000, sr // 2):
        kick[s:s + 6000] += burst
    return {
        "drums": np.stack([kick, kick]).astype(np.float32) * 0.9,
        "bass": (np.stack([np.sin(2 * np.pi * 82 * t)] * 2) * 0.25).astype(np.float32),
        "pad": (rng.standard_normal((2, n)) * 0.03).astype(np.float32),
        "lead": (np.stack([np.sin(2 * np.pi * 660 * t), np.sin(2 * np.pi * 660 * t + 0.3)]) * 0.2
                 * (np.sin(2 * np.pi * 0.7 * t) > 0)).astype(np.float32),
    }


@pytest.mark.parametrize("sr", [44100, 48000])
@pytest.mark.parametrize("bit_depth", ["16", "24", "32f"])
def test_linked_master_loudness_peak_and_null(tmp_path, sr, bit_depth):
    settings = MixSettings(parts={"pad": PartMix(reverb_send=0.4), "lead": PartMix(delay_send=0.3, pan=0.4)})
    stems = mix_stems(synthetic_stems(sr=sr), settings, sr, 120.0)
    result = linked_master(stems, sr, target_lufs=-12.0, true_peak_dbtp=-1.0, settings=settings.master)
    paths = {}
    for name, audio in [("mix", result.mix), *result.stems.items()]:
        paths[name] = tmp_path / f"{name}.wav"
        write_audio(paths[name], audio, sr, bit_depth=bit_depth, time_reference_samples=sr * 3)
    mix, _ = sf.read(str(paths["mix"]), dtype="float64", always_2d=True)
    assert abs(pyloudnorm.Meter(sr).integrated_loudness(mix) + 12.0) <= 0.3
    ff = ffmpeg_ebur128(paths["mix"])
    assert abs(ff["integrated_lufs"] + 12.0) <= 0.3
    assert ff["true_peak_dbtp"] <= -1.0 + 0.1
    assert true_peak_dbtp(mix.T, sr) <= -1.0 + (0.01 if bit_depth != "16" else 0.05)
    total = sum(sf.read(str(paths[k]), dtype="float64", always_2d=True)[0] for k in result.stems)
    residual = np.sqrt(np.mean((total - mix) ** 2)) / np.sqrt(np.mean(mix ** 2))
    assert 20 * math.log10(max(residual, 1e-12)) <= -60
    assert read_bext(paths["drums"])["time_reference"] == sr * 3


def test_own_loudness_meter_agrees_with_pyloudnorm():
    stems = synthetic_stems()
    audio = sum(stems.values())
    assert abs(integrated_lufs(audio, SR) - pyloudnorm.Meter(SR).integrated_loudness(audio.T.astype(np.float64))) < 0.1


def test_silent_mix_is_left_alone():
    n = SR * 5
    result = linked_master({"a": np.zeros((2, n), np.float32)}, SR)
    assert not np.any(result.mix) and math.isinf(result.integrated_lufs)


def test_unreachable_target_gets_close_under_the_ceiling():
    t = np.arange(SR * 6) / SR
    square = np.sign(np.sin(2 * np.pi * 100 * t)).astype(np.float32) * 0.5
    # A square wave peaking at −1 dBTP is about −1 LUFS: a 0 LUFS target cannot be reached.
    result = linked_master({"sq": np.stack([square, square])}, SR, target_lufs=0.0, true_peak_dbtp=-1.0)
    assert true_peak_dbtp(result.mix, SR) <= -1.0 + 1e-3
    assert result.integrated_lufs < 0.0 and not result.target_reached
    assert result.warnings


def test_true_peak_finds_intersample_peaks():
    n = np.arange(SR)
    sine = (np.sin(2 * np.pi * (SR / 4) * n / SR + np.pi / 4) * 0.5)[None]
    # Sample peak is 0.5*sin(45°) = −9.03 dBFS; the true peak is −6.02 dBTP.
    assert abs(true_peak_dbtp(sine, SR) - (-6.02)) < 0.2


def test_export_errors(tmp_path):
    audio = np.zeros((2, 100), np.float32)
    with pytest.raises(ExportError):
        write_audio(tmp_path / "a.wav", audio, SR, bit_depth="12")
    with pytest.raises(ExportError):
        write_audio(tmp_path / "a.flac", audio, SR, bit_depth="32f", fmt="flac")
    write_audio(tmp_path / "a.flac", audio, SR, bit_depth="24", fmt="flac")
    with pytest.raises(ExportError, match="not a WAV"):
        read_bext(tmp_path / "a.flac")

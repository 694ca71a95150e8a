"""Audio export: WAV/FLAC at 16/24/32f, the Broadcast-WAV ``bext`` time reference read back
by our own RIFF parser (and by ffprobe where installed), quantisation, clipping and errors."""

from __future__ import annotations

import logging
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from ainur_cli.errors import ExportError
from ainur_cli.export import audio as audio_mod
from ainur_cli.export.audio import read_bext, write_audio

RATES = [44100, 48000]


def tone(sample_rate: int, seconds: float = 0.5, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    rng = np.random.default_rng(4)
    left = amplitude * np.sin(2 * np.pi * 440 * t)
    right = amplitude * 0.5 * np.sin(2 * np.pi * 660 * t) + 0.01 * rng.standard_normal(t.size)
    return np.stack([left, right]).astype(np.float32)


@pytest.mark.parametrize("sample_rate", RATES)
@pytest.mark.parametrize("bit_depth, tolerance", [("16", 2.0 ** -15), ("24", 2.0 ** -23), ("32f", 0.0)])
def test_wav_round_trip_with_time_reference(tmp_path, sample_rate, bit_depth, tolerance):
    audio = tone(sample_rate)
    position = 37 * sample_rate + 12345            # the stem's song position in samples
    path = tmp_path / "lead.wav"
    write_audio(path, audio, sample_rate, bit_depth=bit_depth, time_reference_samples=position,
                description="Bench Song – lead vocal guide", originator="Ainur")
    info = sf.info(str(path))
    assert (info.samplerate, info.channels, info.frames) == (sample_rate, 2, audio.shape[1])
    assert info.subtype == {"16": "PCM_16", "24": "PCM_24", "32f": "FLOAT"}[bit_depth]
    back, _ = sf.read(path, dtype="float32", always_2d=True)
    # Rounding to the nearest step: at most half a step off (libsndfile reads k / 2^(b-1)).
    assert np.max(np.abs(back.T - audio)) <= tolerance / 2 + 1e-9
    bext = read_bext(path)
    assert bext["time_reference"] == position
    assert bext["description"] == "Bench Song – lead vocal guide"
    assert bext["originator"] == "Ainur"
    assert bext["version"] == 2
    assert bext["origination_date"] == "" and bext["loudness_value"] is None


def test_time_reference_beyond_32_bits_and_loudness_fields(tmp_path):
    path = tmp_path / "mix.wav"
    position = 2 ** 33 + 7  # a song position 49.7 hours in at 48 kHz: needs the high word
    write_audio(path, tone(48000), 48000, bit_depth="24", time_reference_samples=position,
                origination="2024-05-01T12:34:56",
                loudness={"loudness_value": -14.02, "max_true_peak_level": -1.05})
    bext = read_bext(path)
    assert bext["time_reference"] == position
    assert (bext["origination_date"], bext["origination_time"]) == ("2024-05-01", "12:34:56")
    assert bext["loudness_value"] == pytest.approx(-14.02)
    assert bext["max_true_peak_level"] == pytest.approx(-1.05)
    assert bext["loudness_range"] is None


def test_ffprobe_reads_the_same_time_reference(tmp_path):
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe (ffmpeg) is NOT installed: the second, independent bext reader "
                    "did not run (apt-get install ffmpeg)")
    path = tmp_path / "bass.wav"
    write_audio(path, tone(44100), 44100, bit_depth="16", time_reference_samples=441000)
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format_tags=time_reference",
                          "-of", "default=nw=1:nk=1", str(path)],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "441000"


def test_flac_has_audio_but_no_bext(tmp_path, caplog):
    path = tmp_path / "pad.flac"
    audio = tone(48000)
    write_audio(path, audio, 48000, bit_depth="24", fmt="flac", time_reference_samples=96000)
    assert sf.info(str(path)).format == "FLAC"
    back, _ = sf.read(path, dtype="float32", always_2d=True)
    assert np.max(np.abs(back.T - audio)) <= 2.0 ** -24 + 1e-9
    with pytest.raises(ExportError, match="not a WAV file"):
        read_bext(path)


def test_wav_without_bext_is_reported(tmp_path):
    path = tmp_path / "plain.wav"
    sf.write(path, tone(48000).T, 48000, subtype="PCM_16")
    with pytest.raises(ExportError, match="no bext chunk"):
        read_bext(path)


def test_rf64_for_huge_files_keeps_the_bext(tmp_path, monkeypatch):
    monkeypatch.setattr(audio_mod, "_RIFF_LIMIT", 1000)  # pretend the data is > 4 GiB
    path = tmp_path / "long.wav"
    audio = tone(48000)
    write_audio(path, audio, 48000, bit_depth="24", time_reference_samples=480000)
    assert path.read_bytes()[:4] == b"RF64"
    assert read_bext(path)["time_reference"] == 480000
    back, _ = sf.read(path, dtype="float32", always_2d=True)
    assert back.shape == audio.T.shape


@pytest.mark.parametrize("bit_depth", ["16", "24"])
def test_integer_formats_round_and_clamp(tmp_path, caplog, bit_depth):
    steps = 2 ** (int(bit_depth) - 1)
    x = np.array([[1.5, 1.0, -1.0, -1.5, 0.4 / steps, 0.6 / steps, -0.6 / steps, 0.25]], np.float32)
    path = tmp_path / "clip.wav"
    with caplog.at_level(logging.WARNING, logger="ainur_cli.export.audio"):
        write_audio(path, x, 48000, bit_depth=bit_depth)
    assert "3 samples above full scale were clamped" in caplog.text
    ints, _ = sf.read(path, dtype="int32")
    ints = ints >> (32 - int(bit_depth))
    assert ints.tolist() == [steps - 1, steps - 1, -steps, -steps, 0, 1, -1, steps // 4]


def test_float_passes_unclipped(tmp_path, caplog):
    x = np.array([[1.5, -2.0, 0.123456789]], np.float32)
    path = tmp_path / "hot.wav"
    with caplog.at_level(logging.WARNING):
        write_audio(path, x, 48000, bit_depth="32f")
    assert "clamped" not in caplog.text
    back, _ = sf.read(path, dtype="float32")
    assert back.tolist() == x[0].tolist()


def test_same_audio_gives_the_same_bytes(tmp_path):
    audio = tone(44100)
    for name in ("a.wav", "b.wav"):
        write_audio(tmp_path / name, audio, 44100, bit_depth="24", time_reference_samples=5)
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()


@pytest.mark.parametrize("kwargs, field, allowed", [
    ({"bit_depth": "8"}, "bit_depth", "16, 24 or 32f"),
    ({"bit_depth": "32"}, "bit_depth", "16, 24 or 32f"),
    ({"fmt": "mp3"}, "format", "wav or flac"),
    ({"fmt": "flac", "bit_depth": "32f"}, "bit_depth", "16 or 24 with flac"),
    ({"time_reference_samples": -1}, "time_reference_samples", "an integer >= 0"),
])
def test_bad_options_raise_export_errors(tmp_path, kwargs, field, allowed):
    path = tmp_path / "x.wav"
    with pytest.raises(ExportError) as info:
        write_audio(path, tone(48000), 48000, **kwargs)
    assert info.value.field == field and allowed in info.value.allowed
    assert info.value.file == str(path)
    assert not path.exists()


def test_bad_audio_and_paths_raise_export_errors(tmp_path):
    with pytest.raises(ExportError, match="NaN"):
        bad = tone(48000)
        bad[0, 100] = np.nan
        write_audio(tmp_path / "nan.wav", bad, 48000)
    with pytest.raises(ExportError, match=r"\(channels, samples\)"):
        write_audio(tmp_path / "flat.wav", np.zeros(100, np.float32), 48000)
    with pytest.raises(ExportError, match="folder does not exist"):
        write_audio(tmp_path / "missing" / "x.wav", tone(48000), 48000)
    (tmp_path / "dir.wav").mkdir()
    with pytest.raises(ExportError, match="cannot write"):
        write_audio(tmp_path / "dir.wav", tone(48000), 48000)

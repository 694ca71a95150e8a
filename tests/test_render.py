"""End-to-end render of a short real song through the public API: files, lengths, loudness,
true peak, stems nulling against the mix, MIDI round trip, BWF, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import mido
import numpy as np
import pyloudnorm
import pytest
import scipy.signal as ss
import soundfile as sf

from ainur_cli import api
from ainur_cli.export.audio import read_bext
from ainur_cli.plan import build_timeline
from ainur_cli.spec import load_spec
from tests.conftest import ffmpeg_ebur128, write_song


def _read(path: Path) -> np.ndarray:
    data, _ = sf.read(str(path), dtype="float64", always_2d=True)
    return data.T


def test_files_and_lengths(short_render):
    spec_path, result = short_render
    out = result.out_dir
    m = json.loads((out / "manifest.json").read_text())
    assert m == result.manifest
    spec = load_spec(spec_path)
    tl = build_timeline(spec, 44100)
    # 3 bars 4/4 @120 (6 s) + 3 bars 3/4 @90 (6 s) = 12 s.
    assert tl.total_samples == 12 * 44100 == m["duration_samples"]
    parts = {f["part"] for f in m["files"]}
    assert {"mix", "drums", "bass", "lead", "vocals"} <= parts
    assert parts & {"keys", "pad", "guitar"}
    for f in m["files"]:
        info = sf.info(str(out / f["path"]))
        assert info.frames == tl.total_samples == f["duration_samples"]
        assert info.samplerate == 44100 and info.subtype == "PCM_24"
        assert f["start_sample"] == 0
        assert f["integrated_lufs"] is not None, f"{f['path']} is silent"
    for name in ("song", "lead", "drums"):
        assert (out / m["midi"][name]).is_file()
    assert m["seed"] == 11 and len(m["spec_hash"]) == 64 and m["ainur_version"]
    assert [s["start_sample"] for s in m["sections"]] == [0, 4 * 44100, 4 * 44100 + 44100 * 4]


def test_sections_start_where_the_timeline_says(short_render):
    _, result = short_render
    m = result.manifest
    lead = _read(result.out_dir / "stems" / "lead.wav")
    verse = m["sections"][1]["start_sample"]
    # The intro has no lyrics: the guide melody is silent before the verse ...
    assert np.max(np.abs(lead[:, : verse - 10])) < 1e-4
    # ... and sings within the verse's first bar.
    assert np.max(np.abs(lead[:, verse: verse + 2 * 44100])) > 1e-2
    vocals = _read(result.out_dir / "stems" / "vocals.wav")
    # The singing voice starts its first consonant shortly before the first vowel's beat
    # (breaths excepted, nothing is sung in the intro) and sings in the verse.
    assert np.max(np.abs(vocals[:, : verse - 44100])) < 1e-2
    assert np.sqrt(np.mean(vocals[:, verse: verse + 4 * 44100] ** 2)) > 1e-3


def test_loudness_and_true_peak(short_render):
    _, result = short_render
    mix_path = result.out_dir / "mix.wav"
    mix = _read(mix_path)
    lufs = pyloudnorm.Meter(44100).integrated_loudness(mix.T)
    assert abs(lufs - (-14.0)) <= 0.3
    ff = ffmpeg_ebur128(mix_path)
    assert abs(ff["integrated_lufs"] - (-14.0)) <= 0.3
    assert ff["true_peak_dbtp"] <= -1.0 + 0.1  # ffmpeg's meter reads 4x oversampled, 0.1 dB slack
    assert result.manifest["files"][0]["true_peak_dbtp"] <= -1.0


def test_manifest_figures_match_independent_meters(short_render):
    # Every file's manifest loudness and true peak (mix: the master's; stems: the export's)
    # against pyloudnorm and scipy's polyphase resampler at 8x on the file's own samples.
    _, result = short_render
    for f in result.manifest["files"]:
        audio = _read(result.out_dir / f["path"])
        lufs = pyloudnorm.Meter(44100).integrated_loudness(audio.T)
        assert f["integrated_lufs"] == pytest.approx(lufs, abs=0.011), f["path"]
        tp = 20 * np.log10(np.abs(ss.resample_poly(audio, 8, 1, axis=1)).max())
        assert f["true_peak_dbtp"] == pytest.approx(tp, abs=0.1), f["path"]


def test_stems_sum_to_mix(short_render):
    _, result = short_render
    m = result.manifest
    mix = _read(result.out_dir / "mix.wav")
    total = sum(_read(result.out_dir / f["path"]) for f in m["files"] if f["part"] != "mix")
    residual_db = 20 * np.log10(np.sqrt(np.mean((total - mix) ** 2)) / np.sqrt(np.mean(mix ** 2)))
    assert residual_db <= -60


def test_midi_round_trip(short_render):
    _, result = short_render
    song = mido.MidiFile(str(result.out_dir / "midi" / "song.mid"), charset="utf-8")
    meta = [msg for track in song.tracks for msg in track if msg.is_meta]
    tempos = [(m.tempo, song.tracks[0].index(m) >= 0) for m in meta if m.type == "set_tempo"]
    # MIDI stores µs per quarter note: 120 bpm = 500000, 90 bpm = 666666.67 → 666667.
    assert [t for t, _ in tempos] == [500000, 666667]
    tick = 0
    for msg in song.tracks[0]:
        tick += msg.time
        if msg.type == "set_tempo" and msg.tempo == 666667:
            assert tick == 3 * 4 * song.ticks_per_beat  # bar 4 = beat 12
    sigs = [(m.numerator, m.denominator) for m in meta if m.type == "time_signature"]
    assert sigs == [(4, 4), (3, 4)]
    markers = [m.text for m in meta if m.type == "marker"]
    assert markers == ["Intro", "Verse 1", "Chorus"]
    lyrics = "".join(m.text for m in meta if m.type == "lyrics").lower()
    for word in ("walk", "home", "rain", "sing", "loud", "night"):
        assert word in lyrics


def test_bwf_time_reference(short_render):
    _, result = short_render
    bext = read_bext(result.out_dir / "stems" / "drums.wav")
    assert bext["time_reference"] == 0
    assert "Short Test" in bext["description"]


def test_same_seed_same_bytes(tmp_path, short_render):
    spec_path, first = short_render
    again = api.render_file(spec_path, out_dir=tmp_path / "again")
    for f in first.manifest["files"]:
        assert (first.out_dir / f["path"]).read_bytes() == (again.out_dir / f["path"]).read_bytes()
    assert (first.out_dir / "midi" / "song.mid").read_bytes() == (again.out_dir / "midi" / "song.mid").read_bytes()
    assert first.manifest == again.manifest


def test_other_seed_differs(tmp_path, short_render):
    spec_path, first = short_render
    other = api.render_file(spec_path, overrides={"seed": 12}, out_dir=tmp_path / "other")
    assert (first.out_dir / "mix.wav").read_bytes() != (other.out_dir / "mix.wav").read_bytes()
    assert other.manifest["spec_hash"] != first.manifest["spec_hash"]


def test_16_bit_and_flac(tmp_path):
    spec_path = write_song(tmp_path, bit_depth="16")
    result = api.render_file(spec_path, overrides={"format": "flac", "parts": "drums,bass,lead"},
                             out_dir=tmp_path / "flac")
    files = sorted(p.name for p in (result.out_dir / "stems").iterdir())
    assert files == ["bass.flac", "drums.flac", "lead.flac"]
    assert sf.info(str(result.out_dir / "mix.flac")).subtype == "PCM_16"
    mix = _read(result.out_dir / "mix.flac")
    total = sum(_read(result.out_dir / "stems" / f) for f in files)
    assert 20 * np.log10(np.sqrt(np.mean((total - mix) ** 2)) / np.sqrt(np.mean(mix ** 2))) <= -60

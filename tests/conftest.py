"""Shared fixtures: tiny real songs rendered once per session."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SHORT_SONG = """\
title: Short Test
preset: {preset}
seed: 11
key: E minor
tempo_map:
  - {{bar: 1, bpm: 120}}
  - {{bar: 4, bpm: 90}}
time_signature:
  - {{bar: 1, signature: "4/4"}}
  - {{bar: 4, signature: "3/4"}}
sections:
  - name: Intro
    bars: 2
  - name: Verse 1
    bars: 2
    lyrics: |
      Walking home in the rain
  - name: Chorus
    bars: 2
    lyrics: |
      Sing it loud tonight
output:
  sample_rate: 44100
  bit_depth: {bit_depth}
"""


def write_song(tmp: Path, name: str = "short.yaml", preset: str = "pop", bit_depth: str = "24") -> Path:
    p = tmp / name
    p.write_text(SHORT_SONG.format(preset=preset, bit_depth=bit_depth), encoding="utf-8")
    return p


@pytest.fixture(scope="session")
def short_render(tmp_path_factory):
    """A real render of SHORT_SONG (tempo and meter change, lyrics) via the public API."""
    from ainur_cli import api

    tmp = tmp_path_factory.mktemp("render")
    spec_path = write_song(tmp)
    result = api.render_file(spec_path, out_dir=tmp / "out")
    return spec_path, result


def ffmpeg_ebur128(path: Path) -> dict:
    """Integrated loudness and true peak measured by ffmpeg's ebur128 filter (independent meter)."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed: `bash scripts/install-system-deps.sh` installs it")
    proc = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-filter_complex",
         "ebur128=peak=true", "-f", "null", "-"], capture_output=True, text=True, check=True)
    summary = proc.stderr[proc.stderr.rfind("Summary:"):]
    out = {}
    section = None
    for line in summary.splitlines():
        line = line.strip()
        if line.startswith("Integrated loudness"):
            section = "i"
        elif line.startswith("True peak"):
            section = "tp"
        elif line.startswith("I:") and section == "i":
            out["integrated_lufs"] = float(line.split()[1])
        elif line.startswith("Peak:") and section == "tp":
            out["true_peak_dbtp"] = float(line.split()[1])
    return out


def midi_lyrics(path: Path, track: int = 1) -> list[tuple[float, str]]:
    """``(beat, text)`` of every lyric event of track ``track`` (0-based) of the Standard MIDI
    File at ``path`` (text stripped), read with mido."""
    import mido

    mid = mido.MidiFile(str(path))
    events, tick = [], 0
    for msg in mid.tracks[track]:
        tick += msg.time
        if msg.type == "lyrics":
            events.append((tick / mid.ticks_per_beat, msg.text.strip()))
    return events


def midi_note_ons(path: Path) -> list[tuple[float, int]]:
    """``(beat, MIDI note)`` of every note-on in the Standard MIDI File at ``path`` (all
    tracks, in file order), read with mido."""
    import mido

    mid = mido.MidiFile(str(path))
    ons = []
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity:
                ons.append((tick / mid.ticks_per_beat, msg.note))
    return ons


def csv_note_ons(path: Path, track: int, offset_beats: float, ppq: int = 96
                 ) -> list[tuple[float, int]]:
    """``(song beat, MIDI note)`` of the note-ons of ``track`` in a midicsv CSV file (ticks /
    ``ppq`` + ``offset_beats``: where the clip's beat 0 falls in the song), read as text."""
    ons = []
    for line in path.read_text().splitlines():
        parts = [x.strip() for x in line.split(",")]
        if parts[0] == str(track) and parts[2] == "Note_on_c" and parts[5] != "0":
            ons.append((int(parts[1]) / ppq + offset_beats, int(parts[4])))
    return ons


def note_pitch_errors_cents(voice, sample_rate: int, notes, shift: int, *,
                            min_duration_s: float = 0.2, f0_ceil: float = 700.0) -> list[float]:
    """Per sung note of ``notes`` (SungNotes) of ``min_duration_s`` or more, the median error
    in cents of ``voice``'s F0 (pyworld harvest at 16 kHz, 5 ms frames; the note's middle:
    from 60 ms after its start to 40 ms before its end, at least 5 voiced frames) against
    its written pitch plus ``shift`` semitones. ``voice``: one channel of audio."""
    import numpy as np
    import pyworld
    from scipy.signal import resample_poly

    x = resample_poly(np.asarray(voice, dtype=np.float64), 16000, sample_rate)
    f0, t = pyworld.harvest(x, 16000, f0_floor=70.0, f0_ceil=f0_ceil, frame_period=5.0)
    errors = []
    for h in notes:
        m = (t >= h.start_s + 0.06) & (t < h.end_s - 0.04) & (f0 > 0)
        if h.duration_s < min_duration_s or m.sum() < 5:
            continue
        sung = 440.0 * 2 ** ((h.midi_pitch + shift - 69) / 12)
        errors.append(float(np.median(1200 * np.log2(f0[m] / sung))))
    return errors


def rendered(tmp_path: Path, *args: str, folder: str = "out") -> Path:
    """``ainur render ARGS --out tmp_path/FOLDER`` (a wide terminal), which must succeed;
    returns that folder."""
    import os
    import sys

    out = tmp_path / folder
    proc = subprocess.run([sys.executable, "-m", "ainur_cli", "render", *map(str, args),
                           "--out", str(out)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "1000"})
    assert proc.returncode == 0, proc.stderr
    return out


def harmony_render(tmp_path: Path, source_flag: str, source: Path, *flags: str) -> Path:
    """``ainur render SOURCE_FLAG SOURCE --preset pop --seed 4 --parts lead,vocals`` (44.1 kHz,
    plus ``flags``) into ``tmp_path/render``, which must succeed; returns that folder."""
    return rendered(tmp_path, source_flag, source, "--preset", "pop", "--seed", "4", "--parts",
                    "lead,vocals", "--sample-rate", "44100", *flags, folder="render")

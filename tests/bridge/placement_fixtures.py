"""Shared material of the placement tests (.RPP, .dawproject, Lua importer, ``ainur place``).

* :func:`render_copy`: a private copy of the session's real short render (tests/conftest.py),
  so writing project files into it never touches the shared fixture;
* :data:`SESSION_BARS` and :func:`session_facts` / :func:`write_session_midi`: a DAW session
  whose first 16 bars have their own tempo and meter (8 bars 4/4 at 100 bpm, 8 bars 6/8 at
  140 bpm), so a song placed at bar 17 must land after them;
* :func:`spec_grid`: bar starts of a song spec computed here, independently of Ainur's
  timeline, straight from the YAML (bars x meter x tempo, in exact fractions);
* :func:`write_offset_render`: a render folder whose stems start at different song samples.
"""

from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile
import yaml

from daw_bridge.facts import MeterPoint, SessionFacts, TempoPoint

# (bars, numerator, denominator, bpm) of the session before the song.
SESSION_BARS = ((8, 4, 4, 100), (8, 6, 8, 140))
SONG_BAR = 17


def session_start(midi: bool = False) -> tuple[Fraction, Fraction]:
    """``(beat, seconds)`` of session bar 17, summed bar by bar; ``midi``: with the tempos as
    a MIDI file stores them (whole microseconds per quarter note)."""
    beat, seconds = Fraction(0), Fraction(0)
    for bars, num, den, bpm in SESSION_BARS:
        quarter_s = Fraction(round(60_000_000 / bpm), 1_000_000) if midi else Fraction(60, bpm)
        for _ in range(bars):
            length = Fraction(num * 4, den)
            beat += length
            seconds += length * quarter_s
    return beat, seconds


def session_facts() -> SessionFacts:
    tempo, meters, beat = [], [], Fraction(0)
    for bars, num, den, bpm in SESSION_BARS:
        tempo.append(TempoPoint(beat, Fraction(bpm)))
        meters.append(MeterPoint(beat, num, den))
        beat += bars * Fraction(num * 4, den)
    return SessionFacts("test", "placement_fixtures", tuple(tempo), tuple(meters))


def write_session_midi(path: Path, ppq: int = 960) -> Path:
    """The session as a DAW would export it: a Standard MIDI File with the tempo map and
    time signatures (written with mido) and one marker per part of the session."""
    import mido

    mid = mido.MidiFile(ticks_per_beat=ppq)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    delta = 0
    for i, (bars, num, den, bpm) in enumerate(SESSION_BARS):
        track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=delta))
        track.append(mido.MetaMessage("time_signature", numerator=num, denominator=den, time=0))
        track.append(mido.MetaMessage("marker", text=f"Part {i + 1}", time=0))
        delta = bars * num * 4 * ppq // den
    track.append(mido.MetaMessage("end_of_track", time=delta))
    mid.save(path)
    return path


def spec_grid(spec_text: str) -> dict:
    """From a spec's YAML: ``bars`` = [(start_beat, start_s)] of every bar plus the song end,
    ``sections`` = [(name, start_beat, start_s)], ``tempo`` = [(start_beat, bpm)] at every
    change, ``meters`` = [(start_beat, num, den)] at every change (beats are quarter notes)."""
    spec = yaml.safe_load(spec_text)
    total = sum(s["bars"] for s in spec["sections"])
    tempos = spec.get("tempo_map") or [{"bar": 1, "bpm": spec["tempo_bpm"]}]
    sigs = spec["time_signature"]
    sigs = sigs if isinstance(sigs, list) else [{"bar": 1, "signature": sigs}]

    def in_force(changes, bar, key):
        return [c[key] for c in changes if c["bar"] <= bar][-1]

    bars, tempo, meters = [], [], []
    beat, seconds = Fraction(0), Fraction(0)
    for bar in range(1, total + 1):
        num, den = (int(x) for x in str(in_force(sigs, bar, "signature")).split("/"))
        bpm = Fraction(str(in_force(tempos, bar, "bpm")))
        if not tempo or tempo[-1][1] != bpm:
            tempo.append((beat, bpm))
        if not meters or meters[-1][1:] != (num, den):
            meters.append((beat, num, den))
        bars.append((beat, seconds))
        length = Fraction(num * 4, den)
        beat += length
        seconds += length * 60 / bpm
    bars.append((beat, seconds))
    sections, bar = [], 0
    for s in spec["sections"]:
        sections.append((s["name"], *bars[bar]))
        bar += s["bars"]
    return {"bars": bars, "sections": sections, "tempo": tempo, "meters": meters,
            "sample_rate": spec["output"]["sample_rate"]}


def to_sample(seconds: Fraction, sample_rate: int) -> int:
    """round(seconds * rate), halves up."""
    x = seconds * sample_rate
    return int((x + Fraction(1, 2)).__floor__())


def render_copy(short_render, folder: Path) -> Path:
    """A copy of the shared real render in ``folder``/short (its spec file beside it)."""
    spec_path, result = short_render
    dst = folder / "short"
    shutil.copytree(result.out_dir, dst)
    shutil.copy(spec_path, folder / "short.yaml")
    return dst


# A song with a tempo change inside it (120 → 90 bpm at beat 8), 4/4.
OFFSET_TEMPO = ((0, 120), (8, 90))
OFFSET_STEMS = (("drums", 0), ("bass", 11025), ("vocals", 88200))


def write_offset_render(root: Path, sample_rate: int = 22050) -> Path:
    """A render folder (as ``ainur render`` lays it out) whose stems start at the song
    samples in :data:`OFFSET_STEMS`: quiet sines, 16-bit stereo, 16 beats long."""
    root.mkdir(parents=True)
    (root / "stems").mkdir()
    total = to_sample(Fraction(8 * 60, 120) + Fraction(8 * 60, 90), sample_rate)
    files = []
    for i, (part, start) in enumerate([*OFFSET_STEMS, ("mix", 0)]):
        n = total - start
        t = np.arange(n) / sample_rate
        audio = (0.1 * np.sin(2 * np.pi * (220 + 55 * i) * t)).astype(np.float32)
        rel = "mix.wav" if part == "mix" else f"stems/{part}.wav"
        soundfile.write(root / rel, np.stack([audio, audio]).T, sample_rate, subtype="PCM_16")
        files.append({"path": rel, "part": part, "start_sample": start, "duration_samples": n,
                      "sample_rate": sample_rate, "channels": 2, "format": "wav"})
    manifest = {
        "title": "Offsets", "sample_rate": sample_rate, "duration_samples": total,
        "tempo_map": [{"beat": float(b), "bar": b // 4 + 1, "tempo_bpm": float(t)}
                      for b, t in OFFSET_TEMPO],
        "time_signatures": [{"bar": 1, "numerator": 4, "denominator": 4}],
        "sections": [{"name": "A", "start_beat": 0.0, "start_sample": 0},
                     {"name": "B", "start_beat": 8.0, "start_sample": to_sample(Fraction(4), sample_rate)}],
        "files": files,
    }
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return root

"""What goes back into the DAW: the stems of a finished render and where they start.

A :class:`Placement` is built from a render's ``manifest.json`` (files with ``start_sample``,
sections, tempo map, time signatures) plus the song's position in the session (the beat of
its first section marker and that beat in session seconds). Every DAW writer and adapter
places from it, so all of them agree to the sample.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from ainur_cli.errors import BridgeError

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class StemFile:
    """One audio file: ``part`` name, absolute ``path``, song-relative ``start_s``."""

    part: str
    path: Path
    rel_path: str
    start_s: float
    duration_s: float
    channels: int
    sample_rate: int
    duration_samples: int


@dataclass(frozen=True)
class SectionMark:
    """A section start: ``name``, song-relative ``start_beat`` and ``start_s``."""

    name: str
    start_beat: float
    start_s: float


@dataclass(frozen=True)
class Placement:
    """A render ready to place: stems, sections and tempo map of the song, and the song's
    position in the session (``session_start_beat`` / ``session_start_s``, 0 for a new
    project)."""

    render_dir: Path
    title: str
    sample_rate: int
    duration_s: float
    stems: tuple[StemFile, ...]
    mix: StemFile | None
    sections: tuple[SectionMark, ...]
    tempo_map: tuple[tuple[float, float], ...]          # (song beat, bpm)
    time_signatures: tuple[tuple[int, int, int], ...]   # (1-based bar, num, den)
    session_start_beat: float = 0.0
    session_start_s: float = 0.0

    def song_beat_to_s(self, beat: float) -> float:
        """Song-relative seconds at song-relative ``beat`` (through the song's tempo map)."""
        b = Fraction(beat).limit_denominator(1 << 20)
        t = Fraction(0)
        pts = [(Fraction(x).limit_denominator(1 << 20), Fraction(y).limit_denominator(1 << 20))
               for x, y in self.tempo_map]
        for i, (start, bpm) in enumerate(pts):
            stop = pts[i + 1][0] if i + 1 < len(pts) else None
            if stop is not None and b > stop:
                t += (stop - start) * 60 / bpm
                continue
            return float(t + (b - start) * 60 / bpm)
        return float(t)

    def song_s_to_beat(self, seconds: float) -> float:
        """Song-relative beat at song-relative ``seconds`` (inverse of :meth:`song_beat_to_s`)."""
        t = 0.0
        for i, (beat, bpm) in enumerate(self.tempo_map):
            nxt = self.tempo_map[i + 1][0] if i + 1 < len(self.tempo_map) else None
            seg = (nxt - beat) * 60 / bpm if nxt is not None else None
            if seg is not None and seconds > t + seg:
                t += seg
                continue
            return beat + (seconds - t) * bpm / 60
        return 0.0

    def bar_start_beats(self) -> list[tuple[float, int, int]]:
        """``(song beat, num, den)`` for every meter change (bars counted through the meters)."""
        out, beat, prev_bar, prev = [], Fraction(0), 1, None
        for bar, num, den in self.time_signatures:
            if prev is not None:
                beat += (bar - prev_bar) * Fraction(prev[0] * 4, prev[1])
            out.append((float(beat), num, den))
            prev_bar, prev = bar, (num, den)
        return out


def load_manifest(render_dir: Path | str) -> dict:
    """The manifest of a finished render, or a BridgeError naming the folder."""
    render_dir = Path(render_dir)
    path = render_dir / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BridgeError("not a finished render (no manifest.json)", file=str(render_dir),
                          allowed="a folder written by `ainur render`") from None
    except (OSError, ValueError) as e:
        raise BridgeError(f"cannot read manifest.json: {e}", file=str(path)) from None


def placement_from_manifest(manifest: dict[str, Any], render_dir: Path | str, *,
                            session_start_beat: float = 0.0,
                            session_start_s: float = 0.0) -> Placement:
    """Build a :class:`Placement`; stems are every file except the mix."""
    render_dir = Path(render_dir).resolve()
    try:
        sr = int(manifest["sample_rate"])
        files = []
        for f in manifest["files"]:
            files.append(StemFile(
                part=str(f["part"]), path=render_dir / f["path"], rel_path=str(f["path"]),
                start_s=int(f.get("start_sample", 0)) / sr,
                duration_s=int(f["duration_samples"]) / sr, channels=int(f["channels"]),
                sample_rate=int(f.get("sample_rate", sr)),
                duration_samples=int(f["duration_samples"])))
        sections = tuple(SectionMark(str(s["name"]), float(s["start_beat"]),
                                     int(s["start_sample"]) / sr)
                         for s in manifest.get("sections", []))
        tempo = tuple((float(t["beat"]), float(t["tempo_bpm"])) for t in manifest["tempo_map"])
        sigs = tuple((int(t["bar"]), int(t["numerator"]), int(t["denominator"]))
                     for t in manifest["time_signatures"])
        duration_s = int(manifest["duration_samples"]) / sr
        title = str(manifest.get("title", "Ainur song"))
    except (KeyError, TypeError, ValueError) as e:
        raise BridgeError(f"manifest.json is missing or has a bad field: {e}",
                          file=str(render_dir / MANIFEST)) from None
    stems = tuple(f for f in files if f.part != "mix")
    mix = next((f for f in files if f.part == "mix"), None)
    return Placement(render_dir, title, sr, duration_s, stems, mix, sections, tempo or ((0.0, 120.0),),
                     sigs or ((1, 4, 4),), float(session_start_beat), float(session_start_s))

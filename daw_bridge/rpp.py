"""A REAPER project (``.RPP``) for a render: tempo map, markers, one track per stem.

RPP is REAPER's plain-text project format: nested ``<BLOCK ... >`` chunks of lines. This
writer emits what REAPER needs to open the render in place:

* ``TEMPO bpm num den`` and a ``<TEMPOENVEX`` envelope with one ``PT seconds bpm 1 [sig]``
  point per tempo or meter change (shape 1 = instant change; ``sig`` = 65536 * denominator +
  numerator on points where the meter changes);
* ``MARKER index seconds "name" 0`` per section;
* ``<TRACK`` per stem with one ``<ITEM`` at ``POSITION`` seconds holding ``<SOURCE WAVE``
  (or ``FLAC``) with a path relative to the project file.

Positions are song start + the file's start; a project for an existing session is offset by
the song's position there (``Placement.session_start_s``).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

from ainur_cli.errors import ExportError

from daw_bridge.placement import Placement


def quote(text: str) -> str:
    """An RPP string token: double quotes, else single quotes, else back-quotes (REAPER's
    rule); a string holding all three has its back-quotes replaced by single quotes."""
    text = text.replace("\r", " ").replace("\n", " ")
    for q in ('"', "'", "`"):
        if q not in text:
            return f"{q}{text}{q}"
    return "`" + text.replace("`", "'") + "`"


def _num(x: float) -> str:
    s = f"{x:.10f}".rstrip("0").rstrip(".")
    return s if s not in ("", "-0") else "0"


def _guid(seed: str) -> str:
    return "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, seed)).upper() + "}"


def tempo_points(p: Placement) -> list[tuple[float, float, tuple[int, int] | None]]:
    """``(session seconds, bpm, (num, den) or None)`` at every tempo or meter change."""
    meters = {round(b, 9): (n, d) for b, n, d in p.bar_start_beats()}
    tempos = {round(b, 9): bpm for b, bpm in p.tempo_map}
    out = []
    bpm = p.tempo_map[0][1]
    for beat in sorted(set(meters) | set(tempos)):
        bpm = tempos.get(beat, bpm)
        out.append((p.session_start_s + p.song_beat_to_s(beat), bpm, meters.get(beat)))
    return out


def rpp_text(p: Placement, *, project_dir: Path | None = None) -> str:
    """The project text; file paths are relative to ``project_dir`` (the render folder)."""
    base = Path(project_dir or p.render_dir)
    points = tempo_points(p)
    first_bpm = points[0][1]
    first_sig = points[0][2] or (4, 4)
    lines = ['<REAPER_PROJECT 0.1 "6.0/ainur" 0',
             "  RIPPLE 0",
             f"  TEMPO {_num(first_bpm)} {first_sig[0]} {first_sig[1]}",
             f"  SAMPLERATE {p.sample_rate} 0 0",
             "  <TEMPOENVEX",
             "    ACT 1 -1",
             "    VIS 1 0 1",
             "    DEFSHAPE 1 -1 -1"]
    for seconds, bpm, sig in points:
        tail = f" {sig[1] * 65536 + sig[0]}" if sig else ""
        lines.append(f"    PT {_num(seconds)} {_num(bpm)} 1{tail}")
    lines.append("  >")
    for i, s in enumerate(p.sections, start=1):
        lines.append(f"  MARKER {i} {_num(p.session_start_s + s.start_s)} {quote(s.name)} 0")
    for stem in p.stems:
        rel = os.path.relpath(stem.path, base)
        kind = "FLAC" if stem.path.suffix.lower() == ".flac" else "WAVE"
        lines += [f"  <TRACK {_guid(str(stem.path) + ':track')}",
                  f"    NAME {quote(stem.part)}",
                  f"    NCHAN {max(2, stem.channels + stem.channels % 2)}",
                  "    <ITEM",
                  f"      POSITION {_num(p.session_start_s + stem.start_s)}",
                  f"      LENGTH {_num(stem.duration_s)}",
                  "      SOFFS 0",
                  f"      NAME {quote(stem.path.name)}",
                  f"      IGUID {_guid(str(stem.path) + ':item')}",
                  f"      <SOURCE {kind}",
                  f"        FILE {quote(Path(rel).as_posix())}",
                  "      >",
                  "    >",
                  "  >"]
    lines.append(">")
    return "\n".join(lines) + "\n"


def write_rpp(p: Placement, path: Path | str | None = None) -> Path:
    """Write the project (default ``<render>/<render name>.RPP``) atomically; returns its path."""
    path = Path(path) if path is not None else p.render_dir / f"{p.render_dir.name}.RPP"
    text = rpp_text(p, project_dir=path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".ainur-rpp-", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        raise ExportError(f"cannot write the REAPER project: {e.strerror or e}", file=str(path)) from None
    return path

"""A REAPER project (``.RPP``) for a render: tempo map, section markers, one track per stem.

RPP is REAPER's plain-text project format: nested ``<BLOCK ... >`` chunks of lines, strings in
double quotes (or single/back quotes when the text holds double quotes). This writer emits:

* ``SAMPLERATE rate 1 0`` (the project sample rate, enforced) and ``TEMPO bpm num den``;
* a ``<TEMPOENVEX`` envelope with one point at every tempo or meter change of the project
  (the session's map before the song, then the song's): ``PT seconds bpm 1`` where only the
  tempo changes (shape 1 = square, an instant change), ``PT seconds bpm 1 sig 0 flags`` where
  the meter changes: ``sig`` = 65536 * denominator + numerator, 0 = not selected, ``flags`` &1
  = "set time signature", &4 = "allow a partial measure before this marker" (set when the
  change is not on a bar line of the meter before it);
* ``MARKER index seconds "name" 0`` per section, on the sample where the section's audio starts;
* ``<TRACK`` per stem (``NAME`` = the part) with one ``<ITEM`` at ``POSITION`` seconds, exact
  ``LENGTH`` (the file's frames / rate), ``<SOURCE WAVE`` or ``<SOURCE FLAC`` with ``FILE`` relative
  to the project's folder when the file is inside it; the mix on its own muted track last
  (``MUTESOLO 1 0 0``) unless left out.

Positions are in session seconds (``Placement.stem_position_s``), printed with 12 decimals (a
microsecond is 0.048 samples at 48 kHz). Track and item GUIDs are derived from the file paths,
so the same render gives the same project text.
"""

from __future__ import annotations

import uuid
from fractions import Fraction
from pathlib import Path

from daw_bridge.placement import Placement, StemFile, atomic_output


def quote(text: str) -> str:
    """An RPP string token: double quotes, else single quotes, else back-quotes (REAPER's
    rule); a string holding all three has its back-quotes replaced by single quotes."""
    text = text.replace("\r", " ").replace("\n", " ")
    for q in ('"', "'", "`"):
        if q not in text:
            return f"{q}{text}{q}"
    return "`" + text.replace("`", "'") + "`"


def num(x: float | Fraction) -> str:
    """A decimal number with up to 12 decimals, no trailing zeros."""
    s = f"{float(x):.12f}".rstrip("0").rstrip(".")
    return s if s not in ("", "-0") else "0"


def _guid(seed: str) -> str:
    return "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, seed)).upper() + "}"


def time_signature_code(numerator: int, denominator: int) -> int:
    """REAPER's packed time signature: 65536 * denominator + numerator."""
    return denominator * 65536 + numerator


SET_TIME_SIGNATURE = 1
ALLOW_PARTIAL_MEASURE = 4


def tempo_points(p: Placement) -> list[tuple[Fraction, Fraction, tuple[int, int] | None, int]]:
    """``(session seconds, bpm, (num, den) where the meter changes else None, flags)`` at
    every tempo or meter change of the project, the first at 0 (flags: see the module doc)."""
    proj = p.project
    meters = {m.beat: m for m in proj.meters}
    flags = {}
    for prev, m in zip(proj.meters, proj.meters[1:]):
        partial = (m.beat - prev.beat) % prev.bar_beats != 0
        flags[m.beat] = SET_TIME_SIGNATURE | (ALLOW_PARTIAL_MEASURE if partial else 0)
    tempos = {t.beat for t in proj.tempo}
    out = []
    for beat in sorted(set(meters) | tempos):
        m = meters.get(beat)
        out.append((proj.beat_to_seconds(beat), proj.tempo_at(beat),
                    (m.numerator, m.denominator) if m else None,
                    flags.get(beat, SET_TIME_SIGNATURE) if m else 0))
    return out


def _source_path(f: StemFile, base: Path) -> str:
    try:
        return f.path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(f.path.resolve())


def _track(p: Placement, f: StemFile, base: Path, muted: bool) -> list[str]:
    kind = "FLAC" if f.path.suffix.lower() == ".flac" else "WAVE"
    return [f"  <TRACK {_guid(str(f.path) + ':track')}",
            f"    NAME {quote(f.part)}",
            f"    MUTESOLO {1 if muted else 0} 0 0",
            f"    NCHAN {max(2, f.channels + f.channels % 2)}",
            "    <ITEM",
            f"      POSITION {num(p.stem_position_s(f))}",
            f"      LENGTH {num(Fraction(f.duration_samples, f.sample_rate))}",
            "      LOOP 0",
            "      SOFFS 0",
            f"      NAME {quote(f.path.name)}",
            f"      IGUID {_guid(str(f.path) + ':item')}",
            f"      <SOURCE {kind}",
            f"        FILE {quote(_source_path(f, base))}",
            "      >",
            "    >",
            "  >"]


def rpp_text(p: Placement, *, project_dir: Path | None = None, with_mix: bool = True) -> str:
    """The project text. File paths are relative to ``project_dir`` (default: the render
    folder) when inside it, else absolute. ``with_mix``: the mix on its own muted track."""
    base = Path(project_dir or p.render_dir)
    points = tempo_points(p)
    _, bpm0, sig0, _ = points[0]
    sig0 = sig0 or (4, 4)
    lines = ['<REAPER_PROJECT 0.1 "6.0/ainur" 0',
             "  RIPPLE 0",
             "  AUTOXFADE 0",
             f"  SAMPLERATE {p.sample_rate} 1 0",
             f"  TEMPO {num(bpm0)} {sig0[0]} {sig0[1]}",
             "  <TEMPOENVEX",
             "    ACT 1 -1",
             "    VIS 1 0 1",
             "    DEFSHAPE 1 -1 -1"]
    for seconds, bpm, sig, flags in points:
        tail = f" {time_signature_code(*sig)} 0 {flags}" if sig else ""
        lines.append(f"    PT {num(seconds)} {num(bpm)} 1{tail}")
    lines.append("  >")
    for i, s in enumerate(p.sections, start=1):
        lines.append(f"  MARKER {i} {num(p.section_position_s(s))} {quote(s.name)} 0")
    for f in p.stems:
        lines += _track(p, f, base, muted=False)
    if with_mix and p.mix is not None:
        lines += _track(p, p.mix, base, muted=True)
    lines.append(">")
    return "\n".join(lines) + "\n"


def rpp_path(p: Placement) -> Path:
    """The default project path: ``<render>/<render folder name>.RPP``."""
    return p.render_dir / f"{p.render_dir.name}.RPP"


def write_rpp(p: Placement, path: Path | str | None = None, *, with_mix: bool = True,
              force: bool = False) -> Path:
    """Write the project (default ``<render>/<render name>.RPP``) atomically: a temporary file
    beside it renamed into place. An existing project is replaced only with ``force``.

    :raises ExportError: the file exists (without ``force``) or cannot be written.
    """
    path = Path(path) if path is not None else rpp_path(p)
    text = rpp_text(p, project_dir=path.parent, with_mix=with_mix)
    with atomic_output(path, force=force, what="the REAPER project") as tmp:
        tmp.write_bytes(text.encode("utf-8"))
    return path


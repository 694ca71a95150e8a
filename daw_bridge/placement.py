"""What goes back into the DAW: the stems of a finished render and where the song starts.

A :class:`Placement` is built from a render's ``manifest.json`` (files with ``start_sample``,
``duration_samples`` and ``sample_rate``; sections; the song's tempo map and meters) plus the
song's position in the session, given as a bar, a beat or seconds (:func:`placement_from_manifest`).
Every project writer (``.RPP``, ``.dawproject``) and every DAW adapter places from it, so all of
them agree to the sample.

Units: a **beat** is a quarter note; *song* positions count from the song's first sample, *session*
(project) positions from the start of the DAW session. Positions are exact fractions; a session
position in samples is ``round(seconds * sample_rate)`` with halves up, as in the timeline.

* The song starts at session beat ``start_beat`` = session second ``start_s``. Before it the
  session has its own tempo map and meters (``session_tempo`` / ``session_meters``, read from
  the DAW or a DAW-exported MIDI file); without a session they are the song's first tempo and
  meter (a new project with empty bars before the song). The bar/beat/seconds maths is in
  :mod:`daw_bridge.song_position`.
* Audio is placed on whole samples: a file whose song position is ``start_sample`` starts at
  session sample ``Placement.start_sample + start_sample``; section markers likewise, so a marker
  sits on the sample where its section's audio starts. Tempo points keep their exact times.

The REAPER job file (read by ``daw_bridge/scripts/ainur_import.lua``; the REAPER adapter writes
it, puts its path in ExtState ``ainur``/``job`` over the web interface and runs the script):
UTF-8 text, one record per line, fields separated by one TAB, fields never contain TAB or line
breaks, numbers are decimal seconds (``.`` separator), paths are absolute::

    AINUR_JOB   1                                         first line, format version
    ID          <job id>                                  echoed in the acknowledgement
    ACTION      import | export
    UNDO        <undo point text>                         import, optional
    MARKER      <seconds>  <name>                         import: one per section
    TRACK       <seconds>  <track name>  <path>  [<length seconds>  [<mute 0|1>]]
                                                          import: a new track holding the file
                                                          at <seconds>, cut to <length>
    OUT         <path of the session file to write>       export

The script answers in ExtState ``ainur``/``ack`` with ``<id> TAB ok TAB <n> tracks, <m> markers``
or ``<id> TAB error TAB <message>`` (id empty when the job could not be read).
:func:`reaper_import_job` writes an import job for a placement; :func:`parse_ack` reads the answer.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

from ainur_cli.errors import BridgeError, ExportError

from daw_bridge.facts import MeterPoint, SessionFacts, TempoPoint, as_fraction
from daw_bridge.song_position import dedupe, meters_from_bars, section_position, song_start

MANIFEST = "manifest.json"
JOB_VERSION = "1"


@dataclass(frozen=True)
class StemFile:
    """One audio file of the render: ``part`` (``mix`` for the mix), absolute ``path``,
    ``rel_path`` inside the render, song position ``start_sample``, length ``duration_samples``."""

    part: str
    path: Path
    rel_path: str
    start_sample: int
    duration_samples: int
    channels: int
    sample_rate: int
    format: str = "wav"

    @property
    def start_s(self) -> float:
        """Song-relative start in seconds."""
        return self.start_sample / self.sample_rate

    @property
    def duration_s(self) -> float:
        return self.duration_samples / self.sample_rate


@dataclass(frozen=True)
class SectionMark:
    """A section start: ``name``, song ``start_beat`` and song ``start_sample``."""

    name: str
    start_beat: Fraction
    start_sample: int
    sample_rate: int

    @property
    def start_s(self) -> float:
        """Song-relative start in seconds (of its first sample)."""
        return self.start_sample / self.sample_rate


@dataclass(frozen=True)
class Placement:
    """A finished render and where it goes in a session (see the module docstring).

    ``song_tempo`` / ``song_meters`` are in song beats (first at 0); ``session_tempo`` /
    ``session_meters`` in session beats, the session's map before ``start_beat`` (first at 0).
    """

    render_dir: Path
    title: str
    sample_rate: int
    duration_samples: int
    stems: tuple[StemFile, ...]
    mix: StemFile | None
    sections: tuple[SectionMark, ...]
    song_tempo: tuple[TempoPoint, ...]
    song_meters: tuple[MeterPoint, ...]
    start_beat: Fraction = Fraction(0)
    start_s: Fraction = Fraction(0)
    session_tempo: tuple[TempoPoint, ...] = ()
    session_meters: tuple[MeterPoint, ...] = ()

    # -- the song and the project maps ---------------------------------------------------
    @cached_property
    def song(self) -> SessionFacts:
        """The song's own map (song beats ⇄ song seconds), exact."""
        return SessionFacts("song", str(self.render_dir), self.song_tempo, self.song_meters)

    @cached_property
    def project(self) -> SessionFacts:
        """The whole project map: the session's map before the song, the song's from
        ``start_beat`` on (session beats ⇄ session seconds)."""
        tempo = [t for t in self.session_tempo if t.beat < self.start_beat]
        tempo += [TempoPoint(self.start_beat + t.beat, t.tempo_bpm) for t in self.song_tempo]
        meters = [m for m in self.session_meters if m.beat < self.start_beat]
        meters += [MeterPoint(self.start_beat + m.beat, m.numerator, m.denominator)
                   for m in self.song_meters]
        return SessionFacts("project", str(self.render_dir), tuple(dedupe(tempo)),
                            tuple(dedupe(meters)))

    @property
    def session_start_beat(self) -> float:
        return float(self.start_beat)

    @property
    def session_start_s(self) -> float:
        return float(self.start_s)

    @property
    def start_sample(self) -> int:
        """Session sample of the song's first sample."""
        return math.floor(self.start_s * self.sample_rate + Fraction(1, 2))

    @property
    def duration_s(self) -> float:
        return self.duration_samples / self.sample_rate

    # -- positions -----------------------------------------------------------------------
    def session_seconds(self, song_sample: int) -> Fraction:
        """Exact session seconds of song sample ``song_sample`` (on the session's sample grid)."""
        return Fraction(self.start_sample + int(song_sample), self.sample_rate)

    def stem_position_s(self, stem: StemFile) -> Fraction:
        return self.session_seconds(stem.start_sample)

    def section_position_s(self, section: SectionMark) -> Fraction:
        return self.session_seconds(section.start_sample)

    def stem_start_beat(self, stem: StemFile) -> Fraction:
        """Session beat at which ``stem`` starts (musical position, through the song's map)."""
        return self.start_beat + self.song.seconds_to_beat(Fraction(stem.start_sample, stem.sample_rate))

    def stem_end_beat(self, stem: StemFile) -> Fraction:
        end = Fraction(stem.start_sample + stem.duration_samples, stem.sample_rate)
        return self.start_beat + self.song.seconds_to_beat(end)

    def song_beat_to_s(self, beat: float) -> float:
        """Song seconds at song ``beat``."""
        return float(self.song.beat_to_seconds(beat))

    def song_s_to_beat(self, seconds: float) -> float:
        """Song beat at song ``seconds``."""
        return float(self.song.seconds_to_beat(seconds))

    def files(self, with_mix: bool = False) -> tuple[StemFile, ...]:
        """The stems, and the mix last when ``with_mix``."""
        return self.stems + ((self.mix,) if with_mix and self.mix is not None else ())


# -- reading a render ----------------------------------------------------------------------

def load_manifest(render_dir: Path | str) -> dict:
    """The manifest of a finished render, or a BridgeError naming the folder."""
    render_dir = Path(render_dir)
    path = render_dir / MANIFEST
    if not render_dir.is_dir():
        raise BridgeError("no such render folder", file=str(render_dir),
                          allowed="a folder written by `ainur render`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BridgeError("not a finished render (no manifest.json)", file=str(render_dir),
                          allowed="a folder written by `ainur render`") from None
    except (OSError, ValueError) as e:
        raise BridgeError(f"cannot read manifest.json: {e}", file=str(path)) from None
    if not isinstance(data, dict):
        raise BridgeError("manifest.json is not an object", file=str(path))
    return data


def _inner_path(render_dir: Path, text: str, where: str) -> Path:
    rel = PurePosixPath(text)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or "\\" in text:
        raise BridgeError("a file path in manifest.json leaves the render folder",
                          file=str(render_dir / MANIFEST), field=where, value=text,
                          allowed="a path inside the render folder, e.g. stems/drums.wav")
    return render_dir.joinpath(*rel.parts)


def _read_manifest(manifest: dict[str, Any], render_dir: Path):
    sr = int(manifest["sample_rate"])
    if sr <= 0:
        raise ValueError(f"sample_rate {sr}")
    files = []
    for i, f in enumerate(manifest["files"]):
        path = _inner_path(render_dir, str(f["path"]), f"files[{i}].path")
        files.append(StemFile(str(f["part"]), path, str(f["path"]), int(f.get("start_sample", 0)),
                              int(f["duration_samples"]), int(f.get("channels", 2)),
                              int(f.get("sample_rate", sr)), str(f.get("format", path.suffix[1:]))))
    sections = tuple(SectionMark(str(s["name"]), as_fraction(float(s["start_beat"])),
                                 int(s["start_sample"]), sr) for s in manifest.get("sections", []))
    tempo = tuple(TempoPoint(as_fraction(float(t["beat"])), Fraction(repr(float(t["tempo_bpm"]))))
                  for t in manifest["tempo_map"]) or (TempoPoint(Fraction(0), Fraction(120)),)
    meters = meters_from_bars([(int(t["bar"]), int(t["numerator"]), int(t["denominator"]))
                               for t in manifest["time_signatures"]]) or (MeterPoint(Fraction(0), 4, 4),)
    if tempo[0].beat != 0 or any(t.tempo_bpm <= 0 for t in tempo):
        raise ValueError("tempo_map must start at beat 0 with positive tempos")
    return (sr, files, sections, tempo, meters, int(manifest["duration_samples"]),
            str(manifest.get("title") or render_dir.name))


def check_files(p: Placement) -> None:
    """Every file of the placement exists and holds the frames, rate and channels the
    manifest says (read from its header). :raises BridgeError: naming the file."""
    import soundfile as sf

    for f in p.files(with_mix=True):
        if not f.path.is_file():
            raise BridgeError("a stem file of the render is missing", file=str(f.path),
                              field=f"files[{f.part}]",
                              allowed="the render folder as `ainur render` wrote it")
        try:
            info = sf.info(str(f.path))
        except (RuntimeError, OSError) as e:
            raise BridgeError(f"cannot read the audio file: {e}", file=str(f.path)) from None
        got = (int(info.frames), int(info.samplerate), int(info.channels))
        want = (f.duration_samples, f.sample_rate, f.channels)
        if got != want:
            raise BridgeError("the audio file does not match manifest.json", file=str(f.path),
                              value=f"{got[0]} frames, {got[1]} Hz, {got[2]} ch",
                              allowed=f"{want[0]} frames, {want[1]} Hz, {want[2]} ch")


def placement_from_manifest(manifest: dict[str, Any], render_dir: Path | str, *,
                            at_bar: int | None = None,
                            session_start_beat: float | Fraction | None = None,
                            session_start_s: float | Fraction | None = None,
                            session: SessionFacts | None = None,
                            verify_files: bool = True) -> Placement:
    """A :class:`Placement` for the render in ``render_dir`` (stems = every file but the mix).

    The song starts at 1-based session bar ``at_bar``, or session beat ``session_start_beat``,
    or session second ``session_start_s`` (at most one of the three, except that beat and
    seconds may come together when no ``session`` is given: then the session before the song
    has the one tempo that joins them). Bars, beats and seconds are converted through
    ``session`` (a DAW's tempo map and meters) when given, else through the song's first
    tempo and meter. Default: the session start, or for a section render (a manifest with a
    ``song_position`` block) the section's place in its song.

    :raises BridgeError: a manifest with missing or bad fields, a file path leaving the
        folder, a missing or mismatched audio file (``verify_files``), a bad position.
    """
    render_dir = Path(render_dir).resolve()
    try:
        sr, files, sections, tempo, meters, duration, title = _read_manifest(manifest, render_dir)
    except BridgeError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise BridgeError(f"manifest.json is missing or has a bad field: {e}",
                          file=str(render_dir / MANIFEST)) from None
    if at_bar is None and session_start_beat is None and session_start_s is None:
        section = section_position(manifest, sr, render_dir / MANIFEST)
        if section is not None:
            session_start_beat, seconds, song_map = section
            if session is None and song_map is not None:
                session = song_map          # the full song's bars and tempo before the section
            elif session is None:
                session_start_s = seconds
    start_beat, start_s, s_tempo, s_meters = song_start(
        tempo[0].tempo_bpm, meters[0], at_bar, session_start_beat, session_start_s, session)
    stems = tuple(f for f in files if f.part != "mix")
    mix = next((f for f in files if f.part == "mix"), None)
    p = Placement(render_dir, title, sr, duration, stems, mix, sections, tempo, meters,
                  start_beat, start_s, s_tempo, s_meters)
    if verify_files:
        check_files(p)
    return p


# -- writing project files ---------------------------------------------------------------

@contextmanager
def atomic_output(path: Path, *, force: bool, what: str) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block succeeds it is renamed onto
    ``path``, otherwise removed (nothing half-written is left). An existing ``path`` is
    replaced only with ``force``.

    :raises ExportError: ``path`` exists (without ``force``) or cannot be written.
    """
    path = Path(path)
    if path.exists() and not force:
        raise ExportError(f"{what} is already there", file=str(path),
                          allowed="--force to replace it")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
        os.close(fd)
    except OSError as e:
        raise ExportError(f"cannot write {what}: {e.strerror or e}", file=str(path),
                          allowed="a folder you can write to") from None
    tmp = Path(name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        if path.exists() and not force:
            raise ExportError(f"{what} appeared while it was being written", file=str(path),
                              allowed="--force to replace it")
        os.replace(tmp, path)
    except OSError as e:
        raise ExportError(f"cannot write {what}: {e.strerror or e}", file=str(path),
                          allowed="a folder you can write to") from None
    finally:
        tmp.unlink(missing_ok=True)


# -- the REAPER job file -----------------------------------------------------------------

def job_field(text: str) -> str:
    """A job-file field: tabs and line breaks become spaces."""
    return " ".join(str(text).replace("\t", " ").splitlines())


def _seconds(x: Fraction) -> str:
    return f"{float(x):.12f}"


def reaper_import_job(p: Placement, job_id: str, *, track_prefix: str = "Ainur ",
                      with_mix: bool = False, undo: str | None = None) -> str:
    """The text of an import job (format: module docstring): one MARKER per section, one
    TRACK per stem (and the mix, muted, when ``with_mix``), absolute paths."""
    lines = [f"AINUR_JOB\t{JOB_VERSION}", f"ID\t{job_field(job_id)}", "ACTION\timport",
             f"UNDO\t{job_field(undo or f'Ainur: import stems of {p.title}')}"]
    for s in p.sections:
        lines.append(f"MARKER\t{_seconds(p.section_position_s(s))}\t{job_field(s.name)}")
    for f in p.files(with_mix):
        lines.append("\t".join(["TRACK", _seconds(p.stem_position_s(f)),
                                job_field(track_prefix + f.part), job_field(str(f.path)),
                                _seconds(Fraction(f.duration_samples, f.sample_rate)),
                                "1" if f.part == "mix" else "0"]))
    return "\n".join(lines) + "\n"


def parse_ack(text: str) -> tuple[str, bool, str]:
    """``(job id, ok, message)`` from the script's ``ainur``/``ack`` ExtState value.

    :raises BridgeError: text that is not an acknowledgement.
    """
    parts = (text or "").split("\t", 2)
    if len(parts) != 3 or parts[1] not in ("ok", "error"):
        raise BridgeError("the Ainur ReaScript answered something that is not an "
                          "acknowledgement", field="ainur/ack", value=text,
                          allowed="<id> TAB ok|error TAB <message>")
    return parts[0], parts[1] == "ok", parts[2]

"""Stems into a closed Ardour session: Ainur edits the file, Ardour's Lua places and saves.

1. :class:`~daw_bridge.ardour_session.SessionEdit` adds, to ``<snapshot>.ardour``, one external
   ``<Source>`` per stem channel (the render's file itself, not a copy; its BWF-style natural
   position is the session position) with a whole-file ``<Region>`` over them, and a marker
   per section (unless one of that name is already on that sample). The file before is kept
   as ``<snapshot>.ardour.ainur-backup`` (``-2``, ``-3``… next time).
2. ``ardour7-lua daw_bridge/scripts/ardour_import.lua <folder> <snapshot> <job>`` loads the
   session (dummy audio backend), creates one audio track ``<prefix><part>`` per stem, puts a
   copy of its region on the track's playlist at the stem's session sample and saves; it
   reports each region as Ardour holds it, with the peak of the audio it loaded.
3. If anything fails the session file is put back as it was.

Session samples are ``round(session seconds * session rate)``, half up, as everywhere in the
bridge; the stems must have the session's sample rate (Ardour plays embedded files as they are).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ainur_cli.errors import BridgeError

from daw_bridge.adapter import PlaceResult
from daw_bridge.ardour_session import SessionEdit, StemSource, session_sample
from daw_bridge.placement import Placement

LUA_COMMANDS = ("ardour8-lua", "ardour7-lua", "ardour-lua")
IMPORT_SCRIPT = Path(__file__).resolve().parent / "scripts" / "ardour_import.lua"


def find_lua(command: str | None = None) -> str:
    """The Lua session tool: ``command``, else the first of :data:`LUA_COMMANDS` on PATH."""
    for cmd in ((command,) if command else LUA_COMMANDS):
        found = shutil.which(cmd)
        if found:
            return found
    raise BridgeError("Ardour's Lua session tool is not installed", field="lua_command",
                      value=command or ", ".join(LUA_COMMANDS),
                      allowed="ardour7-lua (Debian/Ubuntu package 'ardour')")


def import_into_session(p: Placement, file: Path, *, lua_command: str | None = None,
                        track_prefix: str = "Ainur ", timeout_s: float = 120.0) -> PlaceResult:
    """Put ``p``'s stems on new tracks of the closed session ``file`` (method ``ardour-lua``).

    :raises BridgeError: no Lua tool, stems at another sample rate, Ardour failing (then the
        session file is restored).
    """
    lua = find_lua(lua_command)
    edit = SessionEdit(file)
    file, rate = edit.path, edit.clock.sr
    wrong = [f for f in p.stems if f.sample_rate != rate]
    if wrong:
        raise BridgeError("the stems' sample rate is not the Ardour session's (Ardour plays "
                          "embedded files without converting them)", file=str(wrong[0].path),
                          value=wrong[0].sample_rate,
                          allowed=f"a render at {rate} Hz (output.sample_rate: {rate})")
    markers = [(s.name, session_sample(p.section_position_s(s), rate)) for s in p.sections]
    added = [m for m in markers if edit.add_marker(*m)]
    jobs = []
    for f in p.stems:
        pos = session_sample(p.stem_position_s(f), rate)
        region = edit.add_stem(StemSource(f.path.resolve(), f.part, f.channels,
                                          f.duration_samples, pos))
        name = " ".join(f"{track_prefix}{f.part}".replace("\t", " ").split())
        jobs.append(f"REGION\t{region}\t{name}\t{pos}\t{f.channels}")
    backup = _free_path(file.with_name(file.name + ".ainur-backup"))
    shutil.copy2(file, backup)
    with tempfile.TemporaryDirectory(prefix="ainur-ardour-") as tmp:
        job = Path(tmp) / "job.txt"
        job.write_text("\n".join(jobs) + "\n", encoding="utf-8")
        try:
            edit.save()
            placed = run_import(lua, file, job, timeout_s)
        except BaseException:
            os.replace(backup, file)  # leave the session as it was
            raise
    tracks = tuple(t for t, _, _, _ in placed)
    return PlaceResult(
        "ardour", True, "ardour-lua", tracks=tracks, files=tuple(str(f.path) for f in p.stems),
        instructions=f"open {file} in Ardour: {len(tracks)} tracks with the stems and "
                     f"{len(added)} new section markers",
        details={"session": str(file), "backup": str(backup), "markers_added": added,
                 "regions": [{"track": t, "position_sample": pos, "length_samples": n,
                              "peak": peak} for t, pos, n, peak in placed],
                 "sample_rate": rate})


def run_import(lua: str, file: Path, job: Path, timeout_s: float) -> list[tuple[str, int, int, float]]:
    """Run the import script; ``(track, position sample, length samples, peak)`` per stem as
    Ardour reports them. :raises BridgeError: with Ardour's own error lines."""
    cmd = [lua, str(IMPORT_SCRIPT), str(file.parent), file.stem, str(job)]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                             stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise BridgeError(f"{Path(lua).name} did not finish the import within {timeout_s:g} s",
                          file=str(file)) from None
    except OSError as e:
        raise BridgeError(f"cannot run {lua}: {e.strerror or e}", field="lua_command") from None
    lines = run.stdout.splitlines()
    errors = [ln.split("\t", 1)[-1] for ln in lines if ln.startswith("AINUR-ERROR")]
    if errors or not any(ln.startswith("AINUR-DONE") for ln in lines):
        said = [ln[len("[ERROR]: "):] for ln in lines if ln.startswith("[ERROR]: ")][:2]
        tail = " | ".join(errors + said or (run.stdout + run.stderr).strip().splitlines()[-3:])
        raise BridgeError(f"Ardour could not import the stems (the session file is left as it "
                          f"was): {tail}", file=str(file),
                          allowed="the render's stems: WAV files Ardour reads, at the session's "
                                  "sample rate")
    placed = []
    for ln in lines:
        if ln.startswith("AINUR-PLACED\t"):
            _, track, pos, length, peak = ln.split("\t")
            placed.append((track, int(pos), int(length), float(peak)))
    return placed


def _free_path(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3``…: the first that does not exist (an earlier backup
    is never overwritten)."""
    n, candidate = 1, path
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate

"""The shipped REAPER ReaScript importer, run by a real Lua 5.4 interpreter (Debian ``lua5.4``)
against a simulator of the ReaScript API (tests/bridge/reaper_api_sim.lua, written from
REAPER's documented function signatures). The job files are the ones Ainur writes
(:func:`daw_bridge.placement.reaper_import_job`) for a real render."""

from __future__ import annotations

import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest
import soundfile

from daw_bridge.placement import load_manifest, parse_ack, placement_from_manifest, reaper_import_job
from tests.bridge.placement_fixtures import (SONG_BAR, render_copy, session_facts, session_start,
                                             spec_grid, to_sample)

HERE = Path(__file__).resolve().parent
SCRIPT = HERE.parents[1] / "daw_bridge" / "scripts" / "ainur_import.lua"
SIM = HERE / "reaper_api_sim.lua"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"SKIPPED LOUDLY: `{name}` is not installed; `bash scripts/install-system-deps.sh` "
                    "installs Debian's lua5.4 (the importer cannot be run without it)")
    return path


def lua_literal(value) -> str:
    """A Lua table constructor for JSON-like data."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{lua_literal(k)}] = {lua_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(lua_literal(v) for v in value) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if value is None:
        return "nil"
    return '"' + "".join(c if c.isalnum() or c in " ._/-:" else f"\\{ord(c):03d}"
                         for c in str(value).encode("utf-8").decode("latin-1")) + '"'


def run_script(tmp_path: Path, setup: dict) -> dict:
    """Run the importer in the simulator set up with ``setup``; the project afterwards."""
    lua = _tool("lua5.4")
    driver = tmp_path / "driver.lua"
    driver.write_text(f"local sim = dofile({lua_literal(str(SIM))})\n"
                      f"sim.setup({lua_literal(setup)})\n"
                      f"dofile({lua_literal(str(SCRIPT))})\n"
                      "io.write(sim.dump())\n", encoding="utf-8")
    proc = subprocess.run([lua, str(driver)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def render(short_render, tmp_path_factory):
    return render_copy(short_render, tmp_path_factory.mktemp("lua"))


@pytest.fixture(scope="module")
def placement(render):
    return placement_from_manifest(load_manifest(render), render, at_bar=SONG_BAR,
                                   session=session_facts())


def test_script_compiles():
    luac = _tool("luac5.4")
    proc = subprocess.run([luac, "-p", str(SCRIPT)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_import_puts_every_stem_on_a_new_track_in_one_undo_block(tmp_path, placement):
    p = placement
    job = tmp_path / "job.txt"
    job.write_text(reaper_import_job(p, "job-1", with_mix=True), encoding="utf-8")
    existing = {"isrgn": False, "pos": 1.5, "rgnend": 0, "name": "Count-in", "number": 1}
    out = run_script(tmp_path, {"tracks": [{"name": "Guitar"}], "markers": [existing],
                                "cursor": 3.25, "ext": {"ainur/job": str(job)}})
    files = p.files(with_mix=True)
    job_id, ok, message = parse_ack(out["ext"]["ainur/ack"])
    assert (job_id, ok) == ("job-1", True)
    assert message == f"{len(files)} tracks, {len(p.sections)} markers"
    # the user's track stays first; one new named track per file, the mix muted
    tracks = out["tracks"]
    assert [t["name"] for t in tracks] == ["Guitar"] + [f"Ainur {f.part}" for f in files]
    assert tracks[0]["items"] == []
    sr = p.sample_rate
    start = to_sample(session_start()[1], sr)
    for t, f in zip(tracks[1:], files):
        assert t["mute"] == (1 if f.part == "mix" else 0)
        assert len(t["items"]) == 1
        item = t["items"][0]
        assert item["source"] == str(f.path)
        assert item["position"] * sr == pytest.approx(start + f.start_sample, abs=1e-6)
        assert item["length"] * sr == pytest.approx(soundfile.info(str(f.path)).frames, abs=1e-6)
    # section markers after the user's marker, on the sections' samples (spec computed here)
    grid = spec_grid((p.render_dir.parent / "short.yaml").read_text(encoding="utf-8"))
    markers = out["markers"]
    assert markers[0] == existing
    assert [m["name"] for m in markers[1:]] == [name for name, _, _ in grid["sections"]]
    for m, (_, _, seconds) in zip(markers[1:], grid["sections"]):
        assert not m["isrgn"]
        assert m["pos"] * sr == pytest.approx(start + to_sample(seconds, sr), abs=1e-6)
    assert [m["number"] for m in markers] == list(range(1, len(markers) + 1))
    # one undo block, every change inside it with UI refresh held; all released afterwards
    assert out["undo_blocks"] == [{"description": f"Ainur: import stems of {p.title}", "flags": -1}]
    assert out["changes"] and all(c["undo_depth"] == 1 and c["prevent"] == 1 for c in out["changes"])
    assert (out["undo_depth"], out["prevent"], out["max_prevent"]) == (0, 0, 1)
    assert out["ui_updates"] >= 1
    assert out["cursor"] == 3.25  # the edit cursor is where the user left it


def test_job_lines_without_length_take_the_files_own_length(tmp_path, placement):
    """The shortest TRACK record (position, name, path), as older bridges write it."""
    f = placement.stems[0]
    job = tmp_path / "job.txt"
    job.write_text(f"AINUR_JOB\t1\nID\tj2\nACTION\timport\nTRACK\t12.5\tDrums\t{f.path}\n",
                   encoding="utf-8")
    out = run_script(tmp_path, {"ext": {"ainur/job": str(job)}})
    assert parse_ack(out["ext"]["ainur/ack"]) == ("j2", True, "1 tracks, 0 markers")
    item = out["tracks"][0]["items"][0]
    assert item["position"] == 12.5
    assert item["length"] * f.sample_rate == pytest.approx(f.duration_samples, abs=1e-6)
    assert out["undo_blocks"][0]["description"] == "Ainur: import stems"


def test_flac_and_rf64_headers_give_the_item_length(tmp_path, placement):
    """Without a length field the item is as long as REAPER reads the file: FLAC (STREAMINFO)
    and RF64 WAV headers, written here by libsndfile."""
    import numpy as np

    rate = 48000
    audio = np.zeros((rate + 123, 2), dtype=np.float32)
    flac, rf64 = tmp_path / "a.flac", tmp_path / "b.wav"
    soundfile.write(str(flac), audio, rate, subtype="PCM_24")
    soundfile.write(str(rf64), audio, rate, subtype="PCM_16", format="RF64")
    job = tmp_path / "job.txt"
    job.write_text(f"AINUR_JOB\t1\nID\tj6\nACTION\timport\nTRACK\t2\tF\t{flac}\n"
                   f"TRACK\t3\tR\t{rf64}\n", encoding="utf-8")
    out = run_script(tmp_path, {"ext": {"ainur/job": str(job)}})
    assert parse_ack(out["ext"]["ainur/ack"]) == ("j6", True, "2 tracks, 0 markers")
    for t, pos in zip(out["tracks"], (2, 3)):
        item = t["items"][0]
        assert item["position"] == pos
        assert item["length"] * rate == pytest.approx(rate + 123, abs=1e-6)


@pytest.mark.parametrize("job_text, message", [
    (None, "ExtState ainur/job is empty"),
    ("", "the job file is empty"),
    ("HELLO\n", "not an Ainur job file"),
    ("AINUR_JOB\t2\nID\tj\n", "job format version 2 is not supported"),
    ("AINUR_JOB\t1\nID\tj3\nACTION\tdance\n", "unknown ACTION dance"),
    ("AINUR_JOB\t1\nID\tj3\nACTION\timport\n", "nothing to import"),
    ("AINUR_JOB\t1\nID\tj3\nACTION\timport\nMARKER\tsoon\tIntro\n", "line 4: MARKER needs a position"),
    ("AINUR_JOB\t1\nID\tj3\nACTION\timport\nTRACK\t1.0\tX\t/no/such/file.wav\n",
     "audio file not found: /no/such/file.wav"),
    ("AINUR_JOB\t1\nID\tj3\nACTION\timport\nTRACK\t-1\tX\t/no/such/file.wav\n",
     "line 4: TRACK needs a position >= 0"),
])
def test_bad_jobs_are_refused_with_an_error_ack_and_no_change(tmp_path, job_text, message):
    ext = {}
    if job_text is not None:
        job = tmp_path / "job.txt"
        job.write_text(job_text, encoding="utf-8")
        ext["ainur/job"] = str(job)
    out = run_script(tmp_path, {"tracks": [{"name": "Guitar"}], "ext": ext})
    job_id, ok, text = parse_ack(out["ext"]["ainur/ack"])
    assert not ok and message in text
    assert job_id == ("j3" if "j3" in (job_text or "") else "")
    assert out["changes"] == [] and out["undo_blocks"] == []
    assert [t["name"] for t in out["tracks"]] == ["Guitar"]


def test_a_file_that_reaper_cannot_insert_ends_the_undo_block_and_says_so(tmp_path, placement):
    good = placement.stems[0].path
    bad = tmp_path / "not-audio.wav"
    bad.write_bytes(b"this is not a WAV file")
    job = tmp_path / "job.txt"
    job.write_text(f"AINUR_JOB\t1\nID\tj4\nACTION\timport\nTRACK\t0\tA\t{good}\nTRACK\t0\tB\t{bad}\n",
                   encoding="utf-8")
    out = run_script(tmp_path, {"ext": {"ainur/job": str(job)}, "cursor": 1.0})
    job_id, ok, text = parse_ack(out["ext"]["ainur/ack"])
    assert (job_id, ok) == ("j4", False)
    assert "did not insert" in text and "Undo removes them" in text
    assert len(out["undo_blocks"]) == 1 and (out["undo_depth"], out["prevent"]) == (0, 0)
    assert out["cursor"] == 1.0


def test_export_writes_the_session_the_reaper_adapter_reads(tmp_path):
    """ACTION export: the tempo map, markers, regions and tracks, read back by the REAPER
    adapter's parser into beats (100 bpm 4/4, then 140 bpm 6/8 from 19.2 s = beat 32)."""
    from daw_bridge.reaper import parse_session_export

    out_file = tmp_path / "session.txt"
    job = tmp_path / "job.txt"
    job.write_text(f"AINUR_JOB\t1\nID\tj5\nACTION\texport\nOUT\t{out_file}\n", encoding="utf-8")
    tempo = {"bpm": 100, "num": 4, "den": 4,
             "points": [{"pos": 0.0, "bpm": 100, "num": 4, "den": 4},
                        {"pos": 19.2, "bpm": 140, "num": 6, "den": 8}]}
    markers = [{"isrgn": False, "pos": 6.0, "name": "Verse\t1", "number": 1},
               {"isrgn": True, "pos": 19.2, "rgnend": 29.485714285714285, "name": "Bridge",
                "number": 1}]
    out = run_script(tmp_path, {"tracks": [{"name": "Vox"}, {"name": "Keys"}], "markers": markers,
                                "tempo": tempo, "ext": {"ainur/job": str(job)}})
    assert parse_ack(out["ext"]["ainur/ack"]) == ("j5", True, f"written {out_file}")
    assert out["changes"] == []
    facts = parse_session_export(out_file.read_text(encoding="utf-8"), "sim")
    assert [(t.beat, t.tempo_bpm) for t in facts.tempo] == [(0, 100), (32, 140)]
    assert [(m.beat, m.numerator, m.denominator) for m in facts.meters] == [(0, 4, 4), (32, 6, 8)]
    assert [(m.name, m.beat, m.end_beat) for m in facts.markers] == [
        ("Verse 1", 10, None), ("Bridge", 32, Fraction(56))]
    assert facts.track_names == ("Vox", "Keys")

"""The REAPER project writer, read back with the independent ``rpp`` package (PyPI).

Every position is checked to the sample against the manifest and against bar-by-bar sums
computed from the spec's YAML and the session's bars (tests/bridge/placement_fixtures.py).
"""

from __future__ import annotations

import json
import os
import shutil
from fractions import Fraction
from pathlib import Path

import pytest
import rpp
import soundfile

from ainur_cli.errors import ExportError
from daw_bridge.placement import load_manifest, placement_from_manifest
from daw_bridge.rpp import quote, rpp_text, write_rpp
from tests.bridge.placement_fixtures import (SONG_BAR, render_copy, session_facts, session_start,
                                             spec_grid, to_sample, write_offset_render)


@pytest.fixture(scope="module")
def render(short_render, tmp_path_factory):
    return render_copy(short_render, tmp_path_factory.mktemp("rpp"))


@pytest.fixture(scope="module")
def grid(render):
    return spec_grid((render.parent / "short.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def project(render):
    """The .RPP of the real render placed at bar 17 of a session with its own tempo map."""
    p = placement_from_manifest(load_manifest(render), render, at_bar=SONG_BAR,
                                session=session_facts())
    path = write_rpp(p)
    return p, path, rpp.loads(path.read_text(encoding="utf-8"))


def _sample(text: str, sample_rate: int) -> int:
    """A position in seconds as a whole sample (fails when it is not on one)."""
    x = float(text) * sample_rate
    assert abs(x - round(x)) < 1e-6, f"{text} s is not on a sample at {sample_rate} Hz"
    return round(x)


def test_project_header_and_tempo_map(project, grid):
    p, path, root = project
    assert root.tag == "REAPER_PROJECT"
    assert path == p.render_dir / f"{p.render_dir.name}.RPP"
    assert root.find("SAMPLERATE")[1:] == [str(grid["sample_rate"]), "1", "0"]
    assert root.find("TEMPO")[1:] == ["100", "4", "4"]  # the session's first bar
    start_beat, start_s = session_start()
    # expected points: the session's own two, then the song's tempo/meter changes
    song_points: dict[Fraction, list] = {}
    for beat, bpm in grid["tempo"]:
        song_points.setdefault(beat, [None, None])[0] = bpm
    for beat, num, den in grid["meters"]:
        song_points.setdefault(beat, [None, None])[1] = (num, den)
    bar_seconds = {b: s for b, s in grid["bars"]}
    want = [(Fraction(0), Fraction(100), (4, 4)), (Fraction(96, 5), Fraction(140), (6, 8))]
    bpm = None
    for beat in sorted(song_points):
        t, sig = song_points[beat]
        bpm = t or bpm
        want.append((start_s + bar_seconds[beat], bpm, sig))
    points = root.find("TEMPOENVEX").findall("PT")
    assert len(points) == len(want)
    for pt, (seconds, bpm, sig) in zip(points, want):
        assert abs(float(pt[1]) - seconds) < 1e-9
        assert Fraction(pt[2]) == bpm
        assert pt[3] == "1"  # square: an instant change
        if sig is None:
            assert len(pt) == 4  # no time signature where the meter does not change
        else:  # packed signature, not selected, "set time signature" (on a bar line)
            assert pt[4:] == [str(65536 * sig[1] + sig[0]), "0", "1"]


def test_markers_on_the_section_samples(project, grid):
    p, _, root = project
    sr = p.sample_rate
    start = to_sample(session_start()[1], sr)
    markers = root.findall("MARKER")
    assert [m[3] for m in markers] == [name for name, _, _ in grid["sections"]]
    assert [m[1] for m in markers] == [str(i) for i in range(1, len(markers) + 1)]
    manifest = load_manifest(p.render_dir)
    for m, (_, _, seconds), sec in zip(markers, grid["sections"], manifest["sections"]):
        assert _sample(m[2], sr) == start + sec["start_sample"] == start + to_sample(seconds, sr)
        assert m[4] == "0"


def test_one_track_per_stem_at_its_position_with_its_exact_length(project):
    p, path, root = project
    sr = p.sample_rate
    manifest = load_manifest(p.render_dir)
    stems = [f for f in manifest["files"] if f["part"] != "mix"]
    mix = next(f for f in manifest["files"] if f["part"] == "mix")
    tracks = root.findall("TRACK")
    assert [t.find("NAME")[1] for t in tracks] == [f["part"] for f in stems] + ["mix"]
    start = to_sample(session_start()[1], sr)
    for t, f in zip(tracks, stems + [mix]):
        assert t.find("MUTESOLO")[1] == ("1" if f["part"] == "mix" else "0")
        items = t.findall("ITEM")
        assert len(items) == 1
        item = items[0]
        assert _sample(item.find("POSITION")[1], sr) == start + f["start_sample"]
        source = item.find("SOURCE")
        assert source.attrib == ["WAVE"]
        file_path = path.parent / source.find("FILE")[1]
        assert not Path(source.find("FILE")[1]).is_absolute()  # relative to the project
        assert file_path.resolve() == (p.render_dir / f["path"]).resolve()
        assert _sample(item.find("LENGTH")[1], sr) == soundfile.info(str(file_path)).frames


def test_offset_stems_and_flac_sources(tmp_path):
    render = write_offset_render(tmp_path / "offsets")
    m = json.loads((render / "manifest.json").read_text())
    # a FLAC stem: converted by soundfile, the manifest updated
    wav = render / "stems" / "bass.wav"
    audio, sr = soundfile.read(str(wav), dtype="float32")
    soundfile.write(str(render / "stems" / "bass.flac"), audio, sr, subtype="PCM_16")
    wav.unlink()
    m["files"][1].update(path="stems/bass.flac", format="flac")
    (render / "manifest.json").write_text(json.dumps(m))
    p = placement_from_manifest(load_manifest(render), render, session_start_s=2.0)
    root = rpp.loads(rpp_text(p, with_mix=False))
    tracks = root.findall("TRACK")
    assert [t.find("NAME")[1] for t in tracks] == ["drums", "bass", "vocals"]
    assert [t.find("ITEM").find("SOURCE").attrib[0] for t in tracks] == ["WAVE", "FLAC", "WAVE"]
    for t, f in zip(tracks, m["files"]):
        assert _sample(t.find("ITEM").find("POSITION")[1], sr) == 2 * sr + f["start_sample"]
    # the song's own tempo change (beat 8, 90 bpm) lands 2 s + 4 s into the project
    pts = root.find("TEMPOENVEX").findall("PT")
    assert [(float(x[1]), float(x[2])) for x in pts] == [(0.0, 120.0), (6.0, 90.0)]


def test_a_meter_change_off_the_bar_grid_allows_a_partial_measure(tmp_path):
    """A song placed at beat 6 of a 4/4 session: its meter starts mid-bar (1.5 bars in)."""
    render = write_offset_render(tmp_path / "offsets")
    p = placement_from_manifest(load_manifest(render), render, session_start_beat=6,
                                session=session_facts())
    pts = rpp.loads(rpp_text(p)).find("TEMPOENVEX").findall("PT")
    assert [x[4:] for x in pts] == [["262148", "0", "1"], ["262148", "0", "5"], []]
    assert float(pts[1][1]) == 6 * 60 / 100  # the session's 100 bpm before the song


def test_names_with_quotes_round_trip_through_the_rpp_reader():
    for name in ['Verse "2"', "Chorus 'big'", """Bridge "a" 'b' `c`""", "Plain"]:
        parsed = rpp.loads(f"<REAPER_PROJECT\n  MARKER 1 0 {quote(name)} 0\n>\n")
        got = parsed.find("MARKER")[3]
        assert got == name or (got == name.replace("`", "'") and "`" in name)


def test_project_file_elsewhere_gets_paths_that_resolve(project, tmp_path):
    p, _, _ = project
    elsewhere = tmp_path / "sessions" / "song.RPP"
    elsewhere.parent.mkdir()
    write_rpp(p, elsewhere)
    root = rpp.loads(elsewhere.read_text(encoding="utf-8"))
    for t, f in zip(root.findall("TRACK"), p.files(with_mix=True)):
        text = t.find("ITEM").find("SOURCE").find("FILE")[1]
        assert Path(text).is_absolute() and Path(text) == f.path.resolve()


def test_never_overwrites_silently_and_never_half_writes(project, tmp_path):
    p, path, _ = project
    before = path.read_bytes()
    with pytest.raises(ExportError) as e:
        write_rpp(p)
    assert "already there" in e.value.format() and "--force" in e.value.format()
    assert path.read_bytes() == before
    assert write_rpp(p, force=True) == path and path.read_bytes() == before  # deterministic
    # a target that cannot be replaced (a folder): an error, and no temporary file left
    blocked = tmp_path / "blocked.RPP"
    blocked.mkdir()
    with pytest.raises(ExportError, match="cannot write the REAPER project"):
        write_rpp(p, blocked, force=True)
    assert sorted(os.listdir(tmp_path)) == ["blocked.RPP"]
    leftovers = [n for n in os.listdir(p.render_dir) if n.startswith(".")]
    assert leftovers == []


def test_copied_render_folder_still_opens(project, tmp_path):
    """Relative FILE paths: the render folder can move (a copy resolves to its own stems)."""
    p, path, _ = project
    moved = tmp_path / "moved"
    shutil.copytree(p.render_dir, moved)
    root = rpp.loads((moved / path.name).read_text(encoding="utf-8"))
    for t in root.findall("TRACK"):
        assert (moved / t.find("ITEM").find("SOURCE").find("FILE")[1]).is_file()

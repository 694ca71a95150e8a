"""The Placement model: a real render's manifest + the song's position in a session.

Positions are checked against the manifest and against bar-by-bar sums computed here from
the spec's YAML and the session's bars (not through Ainur's timeline).
"""

from __future__ import annotations

import json
import shutil
from fractions import Fraction

import pytest
import soundfile

from ainur_cli.errors import BridgeError, ExportError
from daw_bridge.facts import MeterPoint
from daw_bridge.placement import (atomic_output, load_manifest, parse_ack,
                                  placement_from_manifest, reaper_import_job)
from daw_bridge.song_position import bar_to_beat
from tests.bridge.placement_fixtures import (OFFSET_STEMS, SONG_BAR, render_copy,
                                             session_facts, session_start, spec_grid, to_sample,
                                             write_offset_render)


@pytest.fixture(scope="module")
def render(short_render, tmp_path_factory):
    return render_copy(short_render, tmp_path_factory.mktemp("placement"))


@pytest.fixture(scope="module")
def grid(render):
    return spec_grid((render.parent / "short.yaml").read_text(encoding="utf-8"))


def test_stems_sections_and_maps_come_from_the_manifest(render, grid):
    m = load_manifest(render)
    p = placement_from_manifest(m, render)
    parts = [f["part"] for f in m["files"]]
    assert [s.part for s in p.stems] == [x for x in parts if x != "mix"]
    assert p.mix is not None and p.mix.path == render / "mix.wav"
    assert "vocals" in [s.part for s in p.stems]
    for s in p.files(with_mix=True):
        info = soundfile.info(str(s.path))
        assert (s.duration_samples, s.sample_rate, s.channels) == (info.frames, info.samplerate,
                                                                   info.channels)
    assert p.sample_rate == grid["sample_rate"]
    # tempo and meter changes, in song beats, as the spec says
    assert [(t.beat, t.tempo_bpm) for t in p.song_tempo] == grid["tempo"]
    assert [(x.beat, x.numerator, x.denominator) for x in p.song_meters] == grid["meters"]
    assert [(s.name, s.start_beat) for s in p.sections] == [(n, b) for n, b, _ in grid["sections"]]
    for s, (_, _, seconds) in zip(p.sections, grid["sections"]):
        assert s.start_sample == to_sample(seconds, p.sample_rate)
        # the song map converts exactly
        assert p.song.beat_to_seconds(s.start_beat) == seconds
    # a new project: the song at the session start
    assert (p.start_beat, p.start_s, p.start_sample) == (0, 0, 0)
    # every WAV's Broadcast-WAV time reference (read from its bytes) says the same position
    from ainur_cli.export.audio import read_bext

    for f in p.files(with_mix=True):
        assert read_bext(f.path)["time_reference"] == f.start_sample


def test_song_at_bar_17_after_the_sessions_own_tempo_changes(render, grid):
    p = placement_from_manifest(load_manifest(render), render, at_bar=SONG_BAR,
                                session=session_facts())
    beat, seconds = session_start()
    assert (p.start_beat, p.start_s) == (beat, seconds)
    assert p.start_sample == to_sample(seconds, p.sample_rate)
    for f in p.stems:
        assert p.stem_position_s(f) * p.sample_rate == p.start_sample + f.start_sample
        assert p.stem_start_beat(f) == beat
    for s, (_, sbeat, sseconds) in zip(p.sections, grid["sections"]):
        sample = p.section_position_s(s) * p.sample_rate
        assert sample.denominator == 1
        # on the sample where the section's audio starts, within half a sample of the
        # exact musical time (the song start itself is rounded to a sample once)
        assert sample == p.start_sample + to_sample(sseconds, p.sample_rate)
        assert abs(sample - (seconds + sseconds) * p.sample_rate) <= 1
        assert p.project.beat_to_seconds(beat + sbeat) == seconds + sseconds
    # the project map: the session's bars first, then the song's changes shifted
    proj = p.project
    assert [(t.beat, t.tempo_bpm) for t in proj.tempo] == [
        (Fraction(0), 100), (Fraction(32), 140)] + [(beat + b, bpm) for b, bpm in grid["tempo"]]
    assert [(m.beat, m.numerator, m.denominator) for m in proj.meters] == [
        (Fraction(0), 4, 4), (Fraction(32), 6, 8)] + [(beat + b, n, d) for b, n, d in grid["meters"]]


def test_without_a_session_the_song_map_extends_backwards(render, grid):
    m = load_manifest(render)
    bpm0 = grid["tempo"][0][1]
    num, den = grid["meters"][0][1:]
    p = placement_from_manifest(m, render, at_bar=SONG_BAR)
    assert p.start_beat == (SONG_BAR - 1) * Fraction(num * 4, den)
    assert p.start_s == p.start_beat * 60 / bpm0
    q = placement_from_manifest(m, render, session_start_beat=10.5)
    assert (q.start_beat, q.start_s) == (Fraction(21, 2), Fraction(21, 2) * 60 / bpm0)
    r = placement_from_manifest(m, render, session_start_s=7.25)
    assert (r.start_beat, r.start_s) == (Fraction(29, 4) * bpm0 / 60, Fraction(29, 4))
    # seconds through a session map with tempo changes
    s = placement_from_manifest(m, render, session_start_s=float(session_start()[1]),
                                session=session_facts())
    assert s.start_beat == session_start()[0]
    # beat and seconds together (what `ainur serve` knows): the session before is one tempo
    t = placement_from_manifest(m, render, session_start_beat=56, session_start_s=28.0)
    assert t.project.tempo[0].tempo_bpm == 120 and t.project.beat_to_seconds(56) == 28


def test_stems_at_different_song_positions(tmp_path):
    render = write_offset_render(tmp_path / "offsets")
    p = placement_from_manifest(load_manifest(render), render, at_bar=3)
    assert p.start_s == 4 and p.start_beat == 8
    for f, (part, start) in zip(p.stems, OFFSET_STEMS):
        assert f.part == part
        assert p.stem_position_s(f) == 4 + Fraction(start, p.sample_rate)
        # 88200 samples at 22050 Hz = 4 s: beat 8 of the song (120 bpm), + the song's beat 8
        song_s = Fraction(start, p.sample_rate)
        want = song_s * 2 if song_s <= 4 else 8 + (song_s - 4) * Fraction(90, 60)
        assert p.stem_start_beat(f) == 8 + want


def test_bar_to_beat_counts_partial_bars_like_a_daw():
    meters = (MeterPoint(Fraction(0), 4, 4), MeterPoint(Fraction(6), 3, 4))  # 1.5 bars of 4/4
    assert bar_to_beat(meters, 1) == 0
    assert bar_to_beat(meters, 2) == 4
    assert bar_to_beat(meters, 3) == 6     # the partial bar 2 counts as a bar
    assert bar_to_beat(meters, 4) == 9


@pytest.mark.parametrize("kwargs, field", [
    ({"at_bar": 0}, "--at-bar"), ({"at_bar": 2.5}, "--at-bar"), ({"at_bar": True}, "--at-bar"),
    ({"session_start_beat": -1.0}, "--at-beat"), ({"session_start_s": float("nan")}, "--at-s"),
    ({"at_bar": 3, "session_start_s": 2.0}, "--at-bar and --at-s"),
    ({"session_start_beat": 4.0, "session_start_s": 0.0}, "--at-beat/--at-s"),
])
def test_bad_positions_are_named(render, kwargs, field):
    with pytest.raises(BridgeError) as e:
        placement_from_manifest(load_manifest(render), render, **kwargs)
    assert e.value.field == field and e.value.exit_code == 2


def _broken(render, tmp_path, edit):
    dst = tmp_path / "broken"
    shutil.copytree(render, dst)
    m = json.loads((dst / "manifest.json").read_text())
    edit(m, dst)
    (dst / "manifest.json").write_text(json.dumps(m))
    return dst


def test_a_folder_that_is_not_a_finished_render(tmp_path, render):
    with pytest.raises(BridgeError, match="no such render folder"):
        load_manifest(tmp_path / "nowhere")
    with pytest.raises(BridgeError, match="not a finished render"):
        load_manifest(render / "stems")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "manifest.json").write_text("{not json")
    with pytest.raises(BridgeError, match="cannot read manifest.json"):
        load_manifest(tmp_path / "bad")


@pytest.mark.parametrize("what, edit, message", [
    ("missing stem", lambda m, d: (d / m["files"][1]["path"]).unlink(), "stem file of the render is missing"),
    ("short stem", lambda m, d: m["files"][1].update(duration_samples=m["files"][1]["duration_samples"] + 1),
     "does not match manifest.json"),
    ("escape", lambda m, d: m["files"][1].update(path="../../etc/passwd"), "leaves the render folder"),
    ("absolute", lambda m, d: m["files"][1].update(path="/etc/passwd"), "leaves the render folder"),
    ("no tempo", lambda m, d: m.pop("tempo_map"), "missing or has a bad field: 'tempo_map'"),
    ("bad rate", lambda m, d: m.update(sample_rate="fast"), "bad field"),
])
def test_broken_renders_give_one_clear_error(render, tmp_path, what, edit, message):
    dst = _broken(render, tmp_path, edit)
    with pytest.raises(BridgeError) as e:
        placement_from_manifest(load_manifest(dst), dst)
    assert message in e.value.format()
    assert str(dst) in e.value.format()


def test_reaper_import_job_format(render):
    p = placement_from_manifest(load_manifest(render), render, at_bar=SONG_BAR,
                                session=session_facts())
    text = reaper_import_job(p, "job\t7", with_mix=True)
    lines = [ln.split("\t") for ln in text.splitlines()]
    assert lines[0] == ["AINUR_JOB", "1"] and lines[1] == ["ID", "job 7"]
    assert lines[2] == ["ACTION", "import"] and lines[3][0] == "UNDO"
    markers = [ln for ln in lines if ln[0] == "MARKER"]
    tracks = [ln for ln in lines if ln[0] == "TRACK"]
    assert [m[2] for m in markers] == [s.name for s in p.sections]
    for m, s in zip(markers, p.sections):
        assert round(float(m[1]) * p.sample_rate) == p.start_sample + s.start_sample
    assert [t[2] for t in tracks] == [f"Ainur {f.part}" for f in p.files(with_mix=True)]
    for t, f in zip(tracks, p.files(with_mix=True)):
        assert len(t) == 6 and t[3] == str(f.path)
        assert round(float(t[1]) * p.sample_rate) == p.start_sample + f.start_sample
        assert round(float(t[4]) * f.sample_rate) == f.duration_samples
        assert t[5] == ("1" if f.part == "mix" else "0")


def test_parse_ack():
    assert parse_ack("j1\tok\t3 tracks, 2 markers") == ("j1", True, "3 tracks, 2 markers")
    assert parse_ack("\terror\tno job") == ("", False, "no job")
    with pytest.raises(BridgeError):
        parse_ack("garbage")


def test_atomic_output_leaves_nothing_half_written(tmp_path):
    target = tmp_path / "x.RPP"
    with pytest.raises(RuntimeError):
        with atomic_output(target, force=False, what="the project") as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash while writing")
    assert list(tmp_path.iterdir()) == []
    with atomic_output(target, force=False, what="the project") as tmp:
        tmp.write_text("done")
    assert target.read_text() == "done"
    with pytest.raises(ExportError, match="already there"):
        with atomic_output(target, force=False, what="the project") as tmp:
            tmp.write_text("again")
    assert target.read_text() == "done" and list(tmp_path.iterdir()) == [target]


def test_a_section_render_is_placed_at_its_place_in_the_song(tmp_path):
    render = write_offset_render(tmp_path / "section")
    m = json.loads((render / "manifest.json").read_text())
    m["song_position"] = {"start_beat": 24.0, "start_sample": 12 * 22050, "end_sample": 0}
    (render / "manifest.json").write_text(json.dumps(m))
    p = placement_from_manifest(load_manifest(render), render)
    assert (p.start_beat, p.start_s, p.start_sample) == (24, 12, 12 * 22050)
    # an explicit position wins
    assert placement_from_manifest(load_manifest(render), render, at_bar=1).start_s == 0
    # with the full song's map in the block (as `ainur serve` writes it): the song's bars
    # and tempo before the section (8 beats at 120 bpm, then 90 bpm: beat 24 = 4 + 16*60/90 s)
    m["song_position"].update(song_tempo_map=[{"beat": 0.0, "tempo_bpm": 120.0},
                                              {"beat": 8.0, "tempo_bpm": 90.0}],
                              song_time_signatures=[{"beat": 0.0, "numerator": 4, "denominator": 4}])
    (render / "manifest.json").write_text(json.dumps(m))
    q = placement_from_manifest(load_manifest(render), render)
    assert q.start_beat == 24 and q.start_s == 4 + Fraction(16 * 60, 90)
    assert [(t.beat, t.tempo_bpm) for t in q.project.tempo] == [(0, 120), (8, 90), (24, 120), (32, 90)]
    m["song_position"] = {"start_beat": "soon"}
    (render / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(BridgeError, match="bad song_position block"):
        placement_from_manifest(load_manifest(render), render)


def test_session_notes_say_where_the_sessions_map_differs_from_the_songs(render):
    from daw_bridge.song_position import session_notes

    p = placement_from_manifest(load_manifest(render), render, at_bar=SONG_BAR,
                                session=session_facts())
    notes = session_notes(p, session_facts())
    assert len(notes) == 2 and "140 bpm at beat 56" in notes[0] and "6/8 at beat 56" in notes[1]
    assert session_notes(p, p.project) == []  # a session whose map is the song's own

"""The REAPER adapter end to end against the REAPER simulator (real HTTP and UDP on loopback)."""

from __future__ import annotations

import socket
import time
from collections import Counter
from fractions import Fraction

import pytest

from ainur_cli.errors import BridgeError
from daw_bridge.facts import MeterPoint
from daw_bridge.placement import load_manifest, placement_from_manifest
from daw_bridge.reaper import ReaperAdapter, full_beats_to_qn, parse_session_export
from daw_bridge.session_spec import song_from_facts
from tests.bridge.sim_reaper import ReaperProject, ReaperSim, RTrack, TempoMarker, lua_missing
from tests.bridge.test_adapter import write_render


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def mapped_project() -> ReaperProject:
    """120 bpm 4/4, then 90 bpm 3/4 from 8 s (quarter note 16 = bar 5); markers on bars."""
    p = ReaperProject(tempo=[TempoMarker(0.0, 120.0, 4, 4), TempoMarker(8.0, 90.0, 3, 4)],
                      tracks=[RTrack("Guide vox", lyrics=[(Fraction(8), "Walk"),
                                                          (Fraction(9), "ing")]),
                              RTrack("Click")])
    for pos, name in ((0.0, "Intro"), (4.0, "Verse 1"), (8.0, "CHORUS"), (14.0, "Bridge"),
                      (18.0, "End")):
        p.add_marker(pos, name)
    return p


def adapter_for(sim: ReaperSim, **kw) -> ReaperAdapter:
    opts = dict(web_port=sim.web_port, osc_port=sim.osc_port, feedback_port=sim.feedback_port,
                timeout_s=1.0, script_timeout_s=3.0)
    opts.update(kw)
    return ReaperAdapter(**opts)


@pytest.fixture
def sim():
    s = ReaperSim(mapped_project(), feedback_port=free_port())
    with s:
        yield s


@pytest.fixture(params=["lua", "python"])
def scripted(request, sim, tmp_path):
    """The adapter with the script registered: the real ``ainur_import.lua`` under Lua 5.4
    (against the ReaScript API simulator), or the simulator's Python reading of the job."""
    if request.param == "lua" and lua_missing():
        pytest.skip(f"cannot run the real REAPER Lua importer: {lua_missing()}")
    sim.importer = request.param
    cid = sim.register_script()
    yield adapter_for(sim, command_id=cid, job_dir=tmp_path / "jobs")
    assert sim.lua_errors == []


def test_health(sim):
    h = adapter_for(sim).health()
    assert h.ok and str(sim.web_port) in h.message and "no script" in h.message
    assert "120 bpm" in h.message
    h = adapter_for(sim, feedback_port=free_port(), timeout_s=0.3).health()  # OSC is silent
    assert not h.ok and "answered at" in h.message and "/tempo/raw" in h.message
    assert "device port" in h.message


def test_no_reaper_gives_a_clear_health_message_fast():
    a = ReaperAdapter(web_port=free_port(socket.SOCK_STREAM), timeout_s=0.5)
    t0 = time.monotonic()
    h = a.health()
    assert time.monotonic() - t0 < 1.0
    assert not h.ok and "does not answer at http://127.0.0.1:" in h.message
    assert "Web browser interface" in h.message


def test_hung_reaper_times_out(tmp_path):
    with ReaperSim(hang_http=True, osc=False) as s:
        a = adapter_for(s, timeout_s=0.4)
        t0 = time.monotonic()
        h = a.health()
        assert time.monotonic() - t0 < 1.5
    assert not h.ok and f":{s.web_port}" in h.message and "0.4 s" in h.message


def test_read_without_script_one_tempo_meter_lyrics():
    # 96 bpm, 6/8 (3 quarter notes a bar): markers on bars 2, 6 and 10.
    p = ReaperProject(tempo=[TempoMarker(0.0, 96.0, 6, 8)],
                      tracks=[RTrack("Vox", lyrics=[(Fraction(3), "hel"), (Fraction(9, 2), "lo")])])
    p.add_marker(1.875, "Intro")
    p.add_marker(9.375, "Verse 1")
    p.add_marker(16.875, "Chorus", region=True, end_s=24.375)
    p.add_marker(24.375, "End")
    with ReaperSim(p, feedback_port=free_port()) as s:
        facts = adapter_for(s).read_session()
        assert s.actions_run == ["41743"] and s.marker_count == 0   # OSC asked for the tempo
    assert [(t.beat, t.tempo_bpm) for t in facts.tempo] == [(0, 96)]
    assert [(m.beat, m.numerator, m.denominator) for m in facts.meters] == [(0, 6, 8)]
    assert [(m.name, m.beat, m.end_beat) for m in facts.markers] == [
        ("Intro", 3, None), ("Verse 1", 15, None), ("Chorus", 27, 39), ("End", 39, None)]
    assert [(e.beat, e.text) for e in facts.lyrics] == [(3, "hel"), (Fraction(9, 2), "lo")]
    assert facts.track_names == ("Vox",)
    assert any("without the Ainur script" in n for n in facts.notes)


def test_names_with_tabs_newlines_and_unicode(tmp_path):
    p = ReaperProject(tracks=[RTrack("Vox\tlead \\ ä")])
    p.add_marker(2.0, "Verse\t2\nlong – ü")
    with ReaperSim(p, feedback_port=free_port()) as s:
        facts = adapter_for(s).read_session()
    assert [(m.name, m.beat) for m in facts.markers] == [("Verse\t2\nlong – ü", 4)]
    assert facts.track_names == ("Vox\tlead \\ ä",)


def test_an_old_error_ack_is_not_taken_for_this_job(sim, scripted):
    sim.ext_state[("ainur", "ack")] = "\terror\tno job: ExtState ainur/job is empty"
    assert scripted.read_session().tempo[0].tempo_bpm == 120


def test_read_with_script_has_the_tempo_map(sim, scripted):
    facts = scripted.read_session()
    assert [(t.beat, t.tempo_bpm) for t in facts.tempo] == [(0, 120), (16, 90)]
    assert [(m.beat, m.numerator, m.denominator) for m in facts.meters] == [(0, 4, 4), (16, 3, 4)]
    assert [(m.name, m.beat) for m in facts.markers] == [
        ("Intro", 0), ("Verse 1", 8), ("CHORUS", 16), ("Bridge", 25), ("End", 31)]
    assert facts.beat_to_seconds(25) == 14 and facts.seconds_to_beat(18) == 31
    assert [(e.beat, e.text) for e in facts.lyrics] == [(8, "Walk"), (9, "ing")]
    assert facts.track_names == ("Guide vox", "Click")
    assert facts.length_beats == 31
    assert list(scripted.job_dir.iterdir()) == []              # job and session files removed
    assert sim.ext_state[("ainur", "ack")].split("\t")[1] == "ok"

    song = song_from_facts(facts, preset="pop")
    assert [s.name for s in song.spec.sections] == ["Intro", "Verse 1", "CHORUS", "Bridge"]
    assert [s.bars for s in song.spec.sections] == [2, 2, 3, 2]
    assert song.start_beat == 0 and song.end_beat == 31


def test_place_with_script_puts_stems_at_their_seconds(sim, scripted, tmp_path):
    facts = scripted.read_session()
    render = write_render(tmp_path / "render", tempo_bpm=90.0, numerator=3,
                          sections=(("CHORUS", 0.0), ("Bridge", 9.0)))
    p = placement_from_manifest(load_manifest(render), render, session_start_beat=16,
                                session=facts)
    assert p.start_s == 8
    before = len(sim.project.tracks)
    marks_before = Counter((m.name, m.pos_s) for m in sim.project.markers)
    result = scripted.place(p)
    assert result.placed and result.method == "reascript", result
    new = sim.project.tracks[before:]
    assert [t.name for t in new] == ["Ainur drums", "Ainur bass", "Ainur vocals"]
    for track, stem in zip(new, p.stems):
        (item,) = track.items
        assert item.path == str(stem.path)
        want = 8 + round(stem.start_s * 22050) / 22050
        assert item.position_s == pytest.approx(want, abs=1e-9)
    added = Counter((m.name, m.pos_s) for m in sim.project.markers) - marks_before
    assert added == Counter({("CHORUS", 8.0): 1, ("Bridge", 14.0): 1})
    assert sim.project.undo_points == ["Ainur: import stems of Bridge Test"]


def test_place_without_script_writes_an_rpp(sim, tmp_path):
    render = write_render(tmp_path / "render")
    p = placement_from_manifest(load_manifest(render), render)
    result = adapter_for(sim).place(p)
    assert not result.placed and result.method == "project-files"
    assert result.files[0].endswith(".RPP") and "--reaper-command" in result.instructions
    assert sim.project.tracks[-1].name == "Click"              # nothing touched in REAPER


def test_script_errors_are_bridge_errors(sim, scripted, tmp_path):
    render = write_render(tmp_path / "render")
    p = placement_from_manifest(load_manifest(render), render)
    (render / "stems" / "bass.wav").unlink()
    with pytest.raises(BridgeError) as e:
        scripted.place(p)
    assert "audio file not found" in e.value.format() and "bass.wav" in e.value.format()
    assert [t.name for t in sim.project.tracks] == ["Guide vox", "Click"]  # nothing half-done


def test_unregistered_script_times_out_clearly(sim, tmp_path):
    a = adapter_for(sim, command_id="_RSnot_registered", job_dir=tmp_path, script_timeout_s=0.5)
    t0 = time.monotonic()
    with pytest.raises(BridgeError) as e:
        a.read_session()
    assert time.monotonic() - t0 < 2.0
    assert "did not acknowledge within 0.5 s" in e.value.format()
    assert "_RSnot_registered" in e.value.format()


def test_silent_osc_names_the_feedback_port(sim):
    a = adapter_for(sim, feedback_port=free_port(), timeout_s=0.3)  # REAPER sends elsewhere
    with pytest.raises(BridgeError) as e:
        a.read_session()
    assert "/tempo/raw" in e.value.format() and str(a.feedback_port) in e.value.format()


def test_osc_only(sim):
    facts = adapter_for(sim, web_port=None).read_session()
    assert facts.tempo[0].tempo_bpm == 120 and facts.meter_known is False
    assert [(m.name, m.beat) for m in facts.markers] == [
        ("Intro", 0), ("Verse 1", 8), ("CHORUS", 16), ("Bridge", 28), ("End", 36)]
    assert adapter_for(sim, web_port=None).health().ok


def test_osc_only_reads_every_marker_of_a_long_feedback_burst():
    p = ReaperProject(tempo=[TempoMarker(0.0, 100.0, 4, 4)])
    for k in range(60):
        p.add_marker(k * 2.4, f"Part {k + 1}")              # one marker per bar at 100 bpm
    with ReaperSim(p, feedback_port=free_port()) as s:
        facts = adapter_for(s, web_port=None).read_session()
    assert [(m.name, m.beat) for m in facts.markers] == [(f"Part {k + 1}", 4 * k)
                                                         for k in range(60)]


def test_threads_sharing_the_adapter_take_turns(sim):
    """ainur serve checks health on one thread while a job reads the session on another:
    the feedback port can be bound by one conversation at a time."""
    import threading

    a = adapter_for(sim)
    results: list = []

    def read():
        try:
            results.append(len(a.read_session().markers))
        except BridgeError as e:
            results.append(e.format())

    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == [5, 5, 5]


def test_health_does_not_wait_for_a_slow_script(sim, tmp_path):
    import threading

    sim.action_delay_s = 1.5                                    # REAPER busy running the script
    a = adapter_for(sim, command_id=sim.register_script(), job_dir=tmp_path)
    reader = threading.Thread(target=a.read_session)
    reader.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    h = a.health()
    took = time.monotonic() - t0
    reader.join(10)
    assert h.ok and "busy" in h.message and took < 1.2


def test_garbage_from_reaper_is_a_bridge_error_not_a_crash():
    with ReaperSim(mapped_project(), feedback_port=free_port(), http_garbage=True) as s:
        with pytest.raises(BridgeError):
            adapter_for(s).read_session()
        assert not adapter_for(s).health().ok


def test_garbage_feedback_is_ignored():
    with ReaperSim(mapped_project(), feedback_port=free_port(), garbage_feedback=True) as s:
        facts = adapter_for(s).read_session()
    assert facts.tempo[0].tempo_bpm == 120


def test_web_login(tmp_path):
    with ReaperSim(mapped_project(), feedback_port=free_port(), web_auth="me:secret") as s:
        with pytest.raises(BridgeError) as e:
            adapter_for(s).read_session()
        assert "--reaper-web-auth" in e.value.format()
        assert adapter_for(s, web_auth="me:secret").health().ok


def test_session_file_parser_rejects_cut_off_files():
    good = "AINUR_SESSION\t1\nTEMPO\t0\t0\t100\t4\t4\t0\nEND\n"
    assert parse_session_export(good, "x").tempo[0].tempo_bpm == 100
    with pytest.raises(BridgeError):
        parse_session_export(good.replace("END\n", ""), "x")
    with pytest.raises(BridgeError):
        parse_session_export("AINUR_SESSION\t1\nTEMPO\t0\t0\tfast\t4\t4\t0\nEND\n", "x")
    ramp = parse_session_export(good.replace("4\t4\t0\n", "4\t4\t1\n"), "x")
    assert any("gradual" in n for n in ramp.notes)


def test_full_beats_to_quarter_notes():
    meters = (MeterPoint(Fraction(0), 4, 4), MeterPoint(Fraction(8), 6, 8))
    assert full_beats_to_qn(Fraction(8), meters) == 8
    assert full_beats_to_qn(Fraction(14), meters) == 11     # 6 eighths after beat 8


def vocal_project() -> ReaperProject:
    """120 bpm 4/4; a "Lead Vocal" track with lyric events and MIDI items under them (a
    melisma note, a muted note, and a chorus item that loops its 4-beat source), and a
    "Piano" track whose item strikes every beat (it meets the lyrics too)."""
    from tests.bridge.sim_reaper import MidiItem, MidiNote

    q = Fraction
    verse = MidiItem(0.0, 4.0, [MidiNote(q(0), q(1), 64, 90), MidiNote(q(1), q(2), 62, 80),
                                MidiNote(q(2), q(3), 60, 84), MidiNote(q(3), q(7, 2), 62, 70),
                                MidiNote(q(4), q(6), 64, 100),
                                MidiNote(q(6), q(7), 70, 90, muted=True)])
    chorus = MidiItem(8.0, 4.0, [MidiNote(q(0), q(1), 67, 96), MidiNote(q(1), q(2), 69, 96)],
                      loop_qn=q(4))
    vocal = RTrack("Lead Vocal", lyrics=[(q(0), "Hold"), (q(1), "on"), (q(2), "to"), (q(4), "me"),
                                         (q(16), "Sing"), (q(17), "it"), (q(20), "loud"),
                                         (q(21), "now")], midi=[verse, chorus])
    piano = RTrack("Piano", midi=[MidiItem(0.0, 16.0, [MidiNote(q(b), q(b + 1), 48 + b % 5, 60)
                                                        for b in range(32)])])
    p = ReaperProject(tempo=[TempoMarker(0.0, 120.0, 4, 4)], tracks=[piano, vocal])
    for pos, name in ((0.0, "Verse"), (8.0, "Chorus"), (16.0, "End")):
        p.add_marker(pos, name)
    return p


@pytest.mark.parametrize("importer", ["lua", "python"])
def test_read_with_script_puts_the_lyrics_on_the_vocal_tracks_notes(importer, tmp_path):
    """With the script, the export's NOTE records and the web interface's lyric events give
    each syllable its notes (the Lead Vocal's, not the Piano's): a legato note without a
    lyric continues "to", a muted note is not sung, a looped item sings its source again.
    The song built from the session sings those notes."""
    if importer == "lua" and lua_missing():
        pytest.skip(f"cannot run the real REAPER Lua importer: {lua_missing()}")
    s = ReaperSim(vocal_project(), feedback_port=free_port(), importer=importer)
    with s:
        cid = s.register_script()
        facts = adapter_for(s, command_id=cid, job_dir=tmp_path / "jobs").read_session()
        assert s.lua_errors == []
    sung = [(e.text, [(n.start_beat, n.end_beat, n.pitch) for n in e.notes]) for e in facts.lyrics]
    assert sung == [("Hold", [(0, 1, 64)]), ("on", [(1, 2, 62)]),
                    ("to", [(2, 3, 60), (3, Fraction(7, 2), 62)]), ("me", [(4, 6, 64)]),
                    ("Sing", [(16, 17, 67)]), ("it", [(17, 18, 69)]),
                    ("loud", [(20, 21, 67)]), ("now", [(21, 22, 69)])]
    song = song_from_facts(facts, preset="pop")
    lines = [ln for sec in song.spec.sections for ln in (sec.lyrics or ())]
    assert [str(ln) for ln in lines] == ["Hold on to me", "Sing it loud now"]
    given = [(n.start_beat, n.pitch) for ln in lines for w in ln.topline for n in w.notes]
    assert given == [(0, 64), (1, 62), (2, 60), (3, 62), (4, 64), (16, 67), (17, 69), (20, 67), (21, 69)]


def backing_vox(lyrics=()) -> "RTrack":
    """A "Backing Vox" track for vocal_project(): two MIDI items (67 64 67 in the verse's
    first bar, 71 and 72 at the chorus), with ``lyrics`` (``(beat, text)``) of its own."""
    from tests.bridge.sim_reaper import MidiItem, MidiNote

    q = Fraction
    return RTrack("Backing Vox", lyrics=list(lyrics), midi=[
        MidiItem(0.0, 4.0, [MidiNote(q(0), q(2), 67, 80), MidiNote(q(2), q(4), 64, 80),
                            MidiNote(q(4), q(6), 67, 80)]),
        MidiItem(8.0, 4.0, [MidiNote(q(0), q(2), 71, 80), MidiNote(q(4), q(6), 72, 80)])])


@pytest.mark.parametrize("importer", ["lua", "python"])
def test_a_backing_vox_track_is_the_written_harmony(importer, tmp_path):
    """A "Backing Vox" track (named like a harmony) beside the vocal project: its notes are
    the written harmony, and each syllable of the lead (sung on the Lead Vocal's notes) gets
    the pitch it sounds there, "to"'s melisma note too; the song's harmony voice sings them.
    ``harmony_track`` may name another track, not the lead's."""
    from ainur_cli.api import resolve_song
    from ainur_cli.compose.song import compose_song
    from ainur_cli.vocals import harmony_parts, vocal_settings

    if importer == "lua" and lua_missing():
        pytest.skip(f"cannot run the real REAPER Lua importer: {lua_missing()}")
    project = vocal_project()
    project.tracks.append(backing_vox())
    s = ReaperSim(project, feedback_port=free_port(), importer=importer)
    with s:
        cid = s.register_script()
        facts = adapter_for(s, command_id=cid, job_dir=tmp_path / "jobs").read_session()
        piano = adapter_for(s, command_id=cid, job_dir=tmp_path / "jobs",
                            harmony_track="piano").read_session()
        with pytest.raises(BridgeError, match="the harmony track is the vocal melody's track"):
            adapter_for(s, command_id=cid, job_dir=tmp_path / "jobs",
                        harmony_track="Lead Vocal").read_session()
        assert s.lua_errors == []
    assert facts.harmony_source == "the REAPER track 'Backing Vox'"
    assert [(a, b, p) for a, b, p, _ in facts.harmony_notes] == \
        [(0, 2, 67), (2, 4, 64), (4, 6, 67), (16, 18, 71), (20, 22, 72)]
    assert piano.harmony_source == "the REAPER track 'Piano'" and len(piano.harmony_notes) == 32
    song = song_from_facts(facts, preset="pop")
    lines = [ln for sec in song.spec.sections for ln in (sec.lyrics or ())]
    assert [str(ln) for ln in lines] == ["Hold on to me", "Sing it loud now"]
    plan = resolve_song(song.spec).plan
    comp = compose_song(key=plan.spec.key, seed=plan.spec.seed, style=plan.style,
                        timeline=plan.timeline, sections=plan.sections)
    (part,) = harmony_parts(comp, plan.timeline, vocal_settings(plan.style.vocals))
    assert [(n.start_beat, n.pitch) for n in part.notes] == \
        [(0, 67), (1, 67), (2, 64), (3, 64), (4, 67), (16, 71), (17, 71), (20, 72), (21, 72)]


@pytest.mark.parametrize("importer", ["lua", "python"])
def test_a_backing_vox_track_with_its_own_lyrics_sings_them(importer, tmp_path):
    """The "Backing Vox" track of the test above with lyric events of its own on its notes
    ("ooh ah ooh" in the verse, "yeah yeah" in the chorus): they are its words, each sung on
    its own note (sections' ``harmony_lyrics``), not the lead's words at its pitches."""
    from ainur_cli.api import resolve_song
    from ainur_cli.compose.song import compose_plan
    from ainur_cli.vocals import harmony_parts, vocal_settings

    if importer == "lua" and lua_missing():
        pytest.skip(f"cannot run the real REAPER Lua importer: {lua_missing()}")
    q = Fraction
    project = vocal_project()
    project.tracks.append(backing_vox([(q(0), "ooh"), (q(2), "ah"), (q(4), "ooh"),
                                       (q(16), "yeah"), (q(20), "yeah")]))
    s = ReaperSim(project, feedback_port=free_port(), importer=importer)
    with s:
        cid = s.register_script()
        facts = adapter_for(s, command_id=cid, job_dir=tmp_path / "jobs").read_session()
        assert s.lua_errors == []
    assert [e.text for e in facts.lyrics] == ["Hold", "on", "to", "me", "Sing", "it", "loud",
                                              "now"]
    assert [(t, e.beat, e.text) for t, e in facts.other_lyrics] == [
        (3, 0, "ooh"), (3, 2, "ah"), (3, 4, "ooh"), (3, 16, "yeah"), (3, 20, "yeah")]
    song = song_from_facts(facts, preset="pop")
    # lines as the lead's events make them (a 4-beat gap starts a new line)
    assert [s.harmony_lyrics for s in song.spec.sections] == [("ooh ah ooh",), ("yeah", "yeah")]
    assert any("the lyric events of track 3 sit on the REAPER track 'Backing Vox''s notes"
               in n for n in song.info)
    plan = resolve_song(song.spec).plan
    (part,) = harmony_parts(compose_plan(plan), plan.timeline, vocal_settings(plan.style.vocals))
    assert [(n.start_beat, n.pitch, n.lyric) for n in part.notes] == [
        (0, 67, "ooh"), (2, 64, "ah"), (4, 67, "ooh"), (16, 71, "yeah"), (20, 72, "yeah")]

"""Ableton Live Sets read from the file (``ainur render --from-ableton``, ``ainur serve --daw
ableton --ableton-set``): real sets saved by Live 9, 10, 11 and 12 (tests/data/ableton,
see its README), and a vocal track written into the real Live 11 set in Live's own clip
elements (its "Kick" track's clip, copied and edited).

What Live does is checked against figures measured in Live, not against this reader: a tempo
ramp from 60 to 120 bpm over four beats lasts 2.836 s in Live (dawtool's measurement), and the
marker times of dawtool's Live emulation for a set of steep, unaligned tempo automation.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import pytest

from ainur_cli.errors import BridgeError
from daw_bridge.ableton_set import read_live_set, time_signature

DATA = Path(__file__).resolve().parents[1] / "data" / "ableton"


def seconds(facts, beats) -> list[float]:
    return [float(facts.beat_to_seconds(b)) for b in beats]


@pytest.mark.parametrize("name", ["L12-automation.als", "automation.als"])
def test_a_tempo_ramp_lasts_as_long_as_in_live(name):
    """Live 12 (``MainTrack``) and Live 10 (``MasterTrack``) sets: 60 bpm, a ramp to 120 bpm
    from beat 4 to 8, then to 200 bpm at beat 12; locators A B D C Z E. Live plays the first
    ramp in 2.836 s (the exact straight line would take 4 ln 2 = 2.773 s)."""
    s = read_live_set(DATA / name)
    facts = s.facts()
    assert s.creator in ("Ableton Live 12.0b16", "Ableton Live 10.1.7")
    assert facts.beat_to_seconds(4) == 4
    assert abs(float(facts.beat_to_seconds(8)) - (4 + 2.836)) < 0.0005
    assert [m.name for m in facts.markers] == ["A", "B", "D", "C", "Z", "E"]
    assert [m.beat for m in facts.markers] == [0, 4, 6, 8, 10, 14]
    assert facts.tempo[0].tempo_bpm == 60 and facts.tempo[-1].tempo_bpm == 200
    assert [(float(b), float(a), float(z)) for b, a, z in s.ramps] == [(4, 60, 120), (8, 120, 200)]
    assert all("sixteenth" in n for n in facts.notes) and len(facts.notes) == 2
    assert [(m.numerator, m.denominator) for m in facts.meters] == [(4, 4)]


def test_steep_unaligned_tempo_automation_matches_lives_marker_times():
    """19 tempo points off the sixteenth grid (34.5 to 200 bpm): the locators' times are those
    of dawtool's emulation of Live (its test of this file), to a microsecond."""
    facts = read_live_set(DATA / "L12-automation-intense-unaligned.als").facts()
    live = [0.0, 0.7452763515350631, 2.335821771598745, 4.173841066076857, 5.706896019728953,
            6.905534691333889, 7.692021891450212, 8.974199935476374, 10.705147339679828]
    assert [m.name for m in facts.markers] == ["A", "X", "B", "D", "C", "Z", "1", "E", "YY"]
    got = seconds(facts, [m.beat for m in facts.markers])
    assert max(abs(a - b) for a, b in zip(got, live)) < 1e-6, got


def test_a_constant_tempo_set_and_its_locators():
    """Live 10 at 140 bpm: the locators (one named in Chinese) at dawtool's times."""
    facts = read_live_set(DATA / "example-140.als").facts()
    assert facts.tempo[0].tempo_bpm == 140 and len(facts.tempo) == 1
    assert facts.markers[0].name == "mirvs - his track你好"
    assert [round(t, 6) for t in seconds(facts, [m.beat for m in facts.markers])] == \
        [0.0, 171.428571, 185.142857, 277.714286, 397.714286, 3620.571429]
    assert facts.notes == ()


def test_a_clip_plays_only_up_to_its_end_marker():
    """Live 11's "Kick" track: its first four clips are two beats long but hold five notes over
    eight beats; each plays only its first note (Live shows the rest past the clip's end)."""
    s = read_live_set(DATA / "live11-kick.als")
    assert s.creator == "Ableton Live 11.0" and s.tempo[0].tempo_bpm == 171
    assert "Kick" in s.midi_tracks
    notes = s.track_notes("Kick")
    first = [n for n in notes if n[0] < 280]
    assert [(n[0], n[2], n[3]) for n in first] == [(b, 61, 100) for b in (224, 240, 256, 272)]
    assert first[0][1] - first[0][0] == Fraction(13977, 19200)   # 0.72795 beats, as written
    clips = [c for c in s.clips if c.track == "Kick"]
    assert all(any(c.start_beat <= a and b <= c.start_beat + c.length_beats for c in clips)
               for a, b, _, _ in notes)


def test_a_live_9_set_is_read_and_a_live_8_set_is_refused(tmp_path):
    s = read_live_set(DATA / "live9.als")
    assert s.creator == "Ableton Live 9.6" and s.tempo[0].tempo_bpm == 174
    assert s.midi_tracks == ("1-Pro-53", "2-Pro-53") and s.track_notes("2-Pro-53")
    old = tmp_path / "old.als"
    old.write_bytes(gzip.compress(b'<?xml version="1.0"?><Ableton MajorVersion="4" '
                                  b'MinorVersion="8.1_226" Creator="Ableton Live 8.1.4">'
                                  b'<LiveSet/></Ableton>'))
    with pytest.raises(BridgeError) as e:
        read_live_set(old)
    assert "Live 8.1.4" in str(e.value) and "9 to 12" in str(e.value)


@pytest.mark.parametrize("content, says", [
    (b"", "not readable XML"),
    (b"\x1f\x8b\x08\x00junk", "damaged gzip"),
    (gzip.compress(b"<Session/>"), "not an Ableton Live Set"),
    (gzip.compress(b'<Ableton MinorVersion="11.0_433"><LiveSet><MainTrack><DeviceChain><Mixer>'
                   b'<Tempo><Manual Value="2000"/></Tempo></Mixer></DeviceChain></MainTrack>'
                   b'</LiveSet></Ableton>'), "tempo outside Live's range"),
    (gzip.compress(b'<Ableton MinorVersion="11.0_433"><LiveSet><MainTrack><DeviceChain><Mixer>'
                   b'<Tempo><Manual Value="abc"/></Tempo></Mixer></DeviceChain></MainTrack>'
                   b'</LiveSet></Ableton>'), "number Ainur cannot read"),
])
def test_a_broken_set_is_a_clear_error_naming_the_file(tmp_path, content, says):
    bad = tmp_path / "broken.als"
    bad.write_bytes(content)
    with pytest.raises(BridgeError) as e:
        read_live_set(bad)
    assert says in str(e.value) and str(bad) in str(e.value)


def test_a_live_project_folder_gives_its_one_set(tmp_path):
    project = tmp_path / "Song Project"
    (project / "Backup").mkdir(parents=True)
    (project / "Backup" / "Song [2026-12-07 120000].als").write_bytes(
        (DATA / "example-140.als").read_bytes())
    (project / "Song.als").write_bytes((DATA / "L12-automation.als").read_bytes())
    assert read_live_set(project).path == project / "Song.als"
    (project / "Song 2.als").write_bytes((DATA / "example-140.als").read_bytes())
    with pytest.raises(BridgeError) as e:
        read_live_set(project)
    assert "several Live Sets" in str(e.value) and "Song 2.als, Song.als" in str(e.value)


def test_time_signature_numbers():
    assert time_signature(Fraction(201), "x", Path("s.als")) == (4, 4)
    assert time_signature(Fraction(200), "x", Path("s.als")) == (3, 4)
    assert time_signature(Fraction(302), "x", Path("s.als")) == (6, 8)
    assert time_signature(Fraction(6), "x", Path("s.als")) == (7, 1)
    with pytest.raises(BridgeError):
        time_signature(Fraction(99 * 5), "x", Path("s.als"))


# -- a vocal track in a real Live 11 set -----------------------------------------------------

# (content beat, duration, pitch, enabled): the verse clip starts playing at content beat 2
VERSE = [(1, 1, 60, True), (2, 1, 62, True), (3, 1, 64, True), (4, 1, 66, True),
         (5, 1, 67, True), (6, 2, 69, True), (7, 0.5, 40, False), (8, 2, 67, True),
         (10.5, 1, 62, True)]
CHORUS = [(0, 1, 69, True), (1, 1, 71, True), (2, 3, 74, True)]   # looped every 4 beats
# (at, length, loop (start, end) or None, StartRelative, disabled, notes)
CLIPS = [(8, 8, None, 2, False, VERSE), (24, 8, (0, 4), 0, False, CHORUS),
         (32, 4, None, 0, True, [(0, 4, 50, True)])]
LOCATORS = [("Verse", 8), ("Chorus", 24), ("End", 40)]
LYRICS = "[Verse]\nCity lights are calling\n\n[Chorus]\nSing it loud, sing it proud\n"
EXPECTED = [(8, 9, 62), (9, 10, 64), (10, 11, 66), (11, 12, 67), (12, 14, 69), (14, 16, 67),
            (24, 25, 69), (25, 26, 71), (26, 28, 74), (28, 29, 69), (29, 30, 71), (30, 32, 74)]


def _set(el: ET.Element, child: str, value) -> None:
    el.find(child).set("Value", str(value).lower() if isinstance(value, bool) else str(value))


def write_vocal_set(folder: Path, tempo_bpm: int | str = 100,
                    harmony: tuple[str, list] | None = None) -> Path:
    """The real Live 11 set with its "Kick" track renamed "Lead Vox" and its clips replaced by
    :data:`CLIPS` (copies of its own first clip, edited), :data:`LOCATORS`, the tempo set to
    ``tempo_bpm``; and a lyrics file beside it. ``harmony``: ``(name, clips)`` of a second
    MIDI track made the same way (a copy of the Kick track, put before it), as :data:`CLIPS`."""
    root = ET.fromstring(gzip.decompress((DATA / "live11-kick.als").read_bytes()))
    live = root.find("LiveSet")
    _set(live, "MasterTrack/DeviceChain/Mixer/Tempo/Manual", tempo_bpm)
    tracks = live.find("Tracks")
    track = next(t for t in tracks if t.find("Name/EffectiveName").get("Value") == "Kick")
    if harmony is not None:
        second = copy.deepcopy(track)
        second.set("Id", "9001")
        tracks.insert(list(tracks).index(track), second)
        _clips(second, *harmony)
    _clips(track, "Lead Vox", CLIPS)
    locs = live.find("Locators/Locators")
    for i, (name, beat) in enumerate(LOCATORS):
        loc = ET.SubElement(locs, "Locator", Id=str(i))
        for tag, value in (("LomId", 0), ("Time", beat), ("Name", name), ("Annotation", ""),
                           ("IsSongStart", "false")):
            ET.SubElement(loc, tag, Value=str(value))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "Demo.als"
    path.write_bytes(gzip.compress(ET.tostring(root, encoding="utf-8", xml_declaration=True)))
    (folder / "Demo.lyrics.txt").write_text(LYRICS)
    return path


def _clips(track: ET.Element, name: str, clips: list) -> None:
    """``track`` named ``name`` with its arrangement clips replaced by ``clips`` (as
    :data:`CLIPS`), each a copy of its first clip, edited."""
    _set(track, "Name/EffectiveName", name)
    _set(track, "Name/UserName", name)
    events = track.find("DeviceChain/MainSequencer/ClipTimeable/ArrangerAutomation/Events")
    template = events[0]
    for old in list(events):
        events.remove(old)
    for i, (at, length, loop, start_rel, disabled, notes) in enumerate(clips):
        clip = copy.deepcopy(template)
        clip.set("Id", str(i))
        clip.set("Time", str(at))
        _set(clip, "CurrentStart", at)
        _set(clip, "CurrentEnd", at + length)
        lo, hi = loop if loop else (0, start_rel + length)
        _set(clip, "Loop/LoopStart", lo)
        _set(clip, "Loop/LoopEnd", hi)
        _set(clip, "Loop/StartRelative", start_rel)
        _set(clip, "Loop/LoopOn", loop is not None)
        _set(clip, "Disabled", disabled)
        keys = clip.find("Notes/KeyTracks")
        for old in list(keys):
            keys.remove(old)
        for k, pitch in enumerate(sorted({n[2] for n in notes})):
            kt = ET.SubElement(keys, "KeyTrack", Id=str(k))
            evs = ET.SubElement(kt, "Notes")
            for t, d, p, on in notes:
                if p == pitch:
                    ET.SubElement(evs, "MidiNoteEvent", Time=f"{t:g}", Duration=f"{d:g}",
                                  Velocity="96", VelocityDeviation="0", OffVelocity="0",
                                  Probability="1", IsEnabled=str(on).lower(), NoteId="1")
            ET.SubElement(kt, "MidiKey", Value=str(pitch))
        events.append(clip)


def test_the_vocal_tracks_notes_as_live_plays_them(tmp_path):
    """The verse clip plays from its start marker (content beat 2; the note before it is not
    played), not its disabled note nor the note past its end; the looped chorus clip plays its
    4-beat loop twice, its 3-beat note cut at the loop's end; the disabled clip is silent."""
    s = read_live_set(write_vocal_set(tmp_path))
    assert s.vocal_track() == "Lead Vox" and s.vocal_track("lead vox") == "Lead Vox"
    assert [(a, b, p) for a, b, p, _ in s.track_notes("Lead Vox")] == EXPECTED
    with pytest.raises(BridgeError) as e:
        s.vocal_track("Vocals")
    assert "allowed: 6-Maschine 2, Lead Vox" in str(e.value)


def test_render_from_ableton_sings_the_lyrics_on_the_vocal_track(tmp_path):
    """``ainur render --from-ableton SET --preset pop``: the sections are the set's locators,
    the lyrics the file beside it, and read back from the render's song.mid the lyrics sit on
    exactly the vocal track's notes (the song starts at the Verse locator, beat 8). A vocal
    track the set lacks: one line naming its MIDI tracks, exit code 2, nothing written."""
    from daw_bridge.lyrics import events_to_timed_lines
    from daw_bridge.midi_import import read_midi_facts

    live_set = write_vocal_set(tmp_path)
    env = {**os.environ, "COLUMNS": "1000"}
    out = tmp_path / "render"
    proc = subprocess.run(
        [sys.executable, "-m", "ainur_cli", "render", "--from-ableton", str(live_set),
         "--preset", "pop", "--seed", "4", "--parts", "lead,bass", "--sample-rate", "44100",
         "--out", str(out)], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    err = " ".join(proc.stderr.split())
    assert f"lyrics from {tmp_path / 'Demo.lyrics.txt'}" in err
    assert f"`ainur place {out} --daw ableton --at-bar 3`" in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["name"] for s in manifest["sections"]] == ["Verse", "Chorus"]
    assert manifest["key"] == "D major"          # estimated from the vocal's notes
    back = read_midi_facts(out / "midi" / "song.mid")
    assert [ln.text for ln in events_to_timed_lines(back.lyrics)] == \
        ["City lights are calling", "Sing it loud sing it proud"]   # (punctuation is not sung)
    sung = [(n.start_beat + 8, n.end_beat + 8, n.pitch) for e in back.lyrics for n in e.notes]
    assert sung == EXPECTED
    bad = tmp_path / "bad"
    proc = subprocess.run(
        [sys.executable, "-m", "ainur_cli", "render", "--from-ableton", str(live_set),
         "--preset", "pop", "--vocal-track", "Vocals", "--out", str(bad)],
        capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "no MIDI track of that name (got 'Vocals'; allowed: 6-Maschine 2, Lead Vox)" in \
        proc.stderr
    assert not bad.exists()


def test_a_tempo_ramp_from_the_set_reaches_the_render(tmp_path):
    """The L12 set's locators as sections and its ramps as the song's tempo map: the section
    at beat 8 starts 2.836 s after beat 4, as in Live, and the render's song.mid carries the
    ramp (one tempo per sixteenth note)."""
    from daw_bridge.midi_import import read_midi_facts

    live_set = tmp_path / "Ramp.als"
    live_set.write_bytes((DATA / "L12-automation.als").read_bytes())
    out = tmp_path / "render"
    proc = subprocess.run(
        [sys.executable, "-m", "ainur_cli", "render", "--from-ableton", str(live_set),
         "--preset", "pop", "--seed", "1", "--parts", "drums,bass", "--sample-rate", "44100",
         "--out", str(out)], capture_output=True, text=True, timeout=300,
        env={**os.environ, "COLUMNS": "1000"})
    assert proc.returncode == 0, proc.stderr
    back = read_midi_facts(out / "midi" / "song.mid")
    manifest = json.loads((out / "manifest.json").read_text())
    at_beat_8 = next(s for s in manifest["sections"] if s["start_beat"] == 8)
    assert abs(at_beat_8["start_s"] - (4 + 2.836)) < 0.0005
    assert abs(float(back.beat_to_seconds(8) - back.beat_to_seconds(4)) - 2.836) < 0.0005


# -- ainur serve --daw ableton --ableton-set: Live (AbletonOSC simulator) and the saved set --

# A written harmony on a track named "Backing Vox", before the lead's: (at, length, loop,
# StartRelative, disabled, notes) as CLIPS; the chorus clip loops its two notes every 4 beats.
HARMONY = [(8, 8, None, 0, False, [(0, 2, 66, True), (2, 2, 69, True), (4, 4, 73, True)]),
           (24, 8, (0, 4), 0, False, [(0, 2, 73, True), (2, 2, 78, True)])]
# each lead syllable (song beat) with the harmony's pitch sounding at its start
HARMONY_SUNG = [(0, 66), (1, 66), (2, 69), (3, 69), (4, 73), (6, 73),
                (16, 73), (17, 73), (18, 78), (20, 73), (21, 73), (22, 78)]


def test_a_harmony_track_is_sung_with_the_leads_words(tmp_path):
    """A MIDI track named like a harmony ("Backing Vox", which also reads like a vocal and
    comes first) is not taken for the lead; ``ainur render --from-ableton`` sings its notes
    with the lead's words and rhythm (read back from the render's vocals_harmony.mid);
    ``--harmony-track`` naming the lead's track is one line, exit code 2, nothing written."""
    from daw_bridge.project_vocal import with_project_vocal
    from tests.conftest import harmony_render, midi_note_ons

    live_set = write_vocal_set(tmp_path, harmony=("Backing Vox", HARMONY))
    s = read_live_set(live_set)
    assert s.midi_tracks.index("Backing Vox") < s.midi_tracks.index("Lead Vox")
    assert s.vocal_track() == "Lead Vox"
    # a harmony with no vocal melody to harmonise (the vocal track has no notes) is said
    alone = with_project_vocal(s.facts(), s, "6-Maschine 2", harmony_track="backing vox")
    assert not alone.harmony_notes and "'backing vox' is not sung: the set has no vocal " \
        "melody" in alone.notes[-1]
    out = harmony_render(tmp_path, "--from-ableton", live_set)
    assert json.loads((out / "manifest.json").read_text())["vocals"]["harmony"] == ["written"]
    assert midi_note_ons(out / "midi" / "vocals_harmony.mid") == HARMONY_SUNG
    bad = tmp_path / "bad"
    proc = subprocess.run(
        [sys.executable, "-m", "ainur_cli", "render", "--from-ableton", str(live_set),
         "--preset", "pop", "--harmony-track", "lead vox", "--out", str(bad)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "1000"})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "harmony_track: the harmony track is the vocal melody's track (got 'lead vox'" in \
        proc.stderr, proc.stderr
    assert not bad.exists()


def _adapter_and_sim(live_set: Path, song):
    from daw_bridge.ableton import AbletonAdapter
    from tests.bridge.sim_ableton import AbletonOscSim

    adapter = AbletonAdapter(reply_port=0, timeout_s=0.5, live_set=live_set)
    sim = AbletonOscSim(song, reply_port=adapter.peer.reply_port)
    adapter.peer.port = sim.port
    adapter.origin = f"udp://127.0.0.1:{sim.port}"
    return adapter, sim


def _live_song(tempo: float = 100.0, cue_points=LOCATORS):
    from tests.bridge.sim_ableton import CuePoint, LiveSong, Track

    return LiveSong(tempo=tempo, cue_points=[CuePoint(n, float(b)) for n, b in cue_points],
                    tracks=[Track("6-Maschine 2", audio=False), Track("Lead Vox", audio=False)],
                    min_song_length=40.0)


def test_render_session_sings_the_saved_sets_vocal_track(tmp_path):
    """``/ainur/render_session`` with ``--ableton-set``: Live (over OSC) gives the tempo and
    locators, the saved set the vocal notes and the lyrics file beside it; read back from the
    render's song.mid the lyrics sit on exactly the Lead Vox notes."""
    from daw_bridge.job_runner import JobRunner
    from daw_bridge.jobs import Job
    from daw_bridge.lyrics import events_to_timed_lines
    from daw_bridge.midi_import import read_midi_facts

    live_set = write_vocal_set(tmp_path)
    adapter, sim = _adapter_and_sim(live_set, _live_song())
    root = tmp_path / "served"
    root.mkdir()
    with sim:
        facts = adapter.read_session()
        assert facts.project_file == str(live_set) and facts.vocal_source.endswith("'Lead Vox'")
        assert [(a, b, p) for a, b, p, _ in facts.vocal_notes] == EXPECTED
        assert any("as last saved" in n for n in facts.notes)
        assert not any("automation" in n or "not the saved set" in n for n in facts.notes), \
            facts.notes
        runner = JobRunner(root, adapter)
        runner.start()
        try:
            job = Job(1, "session", {"preset": "pop", "seed": 4, "title": "Live Vocal"},
                      ("127.0.0.1", 9))
            runner(job, lambda stage, fraction: None)
        finally:
            runner.close()
            adapter.close()
    out = root / "renders" / "live-vocal"
    back = read_midi_facts(out / "midi" / "song.mid")
    assert [ln.text for ln in events_to_timed_lines(back.lyrics)] == \
        ["City lights are calling", "Sing it loud sing it proud"]
    sung = [(n.start_beat + 8, n.end_beat + 8, n.pitch) for e in back.lyrics for n in e.notes]
    assert sung == EXPECTED
    placed = [t for t in sim.song.tracks if t.name.startswith("Ainur ")]
    assert placed, "the stems were placed in Live"


def test_live_and_the_saved_set_disagreeing_is_said(tmp_path):
    """Live plays 96 bpm with a locator moved; the set was saved at 100 bpm: Live's tempo and
    locators are used and the notes say to save the set. A set with tempo automation gives
    the tempo map (OSC cannot read automation)."""
    live_set = write_vocal_set(tmp_path)
    moved = [("Verse", 8), ("Chorus", 28), ("End", 40)]
    adapter, sim = _adapter_and_sim(live_set, _live_song(96.0, moved))
    with sim:
        facts = adapter.read_session()
    adapter.close()
    assert [(t.beat, t.tempo_bpm) for t in facts.tempo] == [(0, 96)]   # Live's own
    assert [(m.name, m.beat) for m in facts.markers] == moved
    said = " ".join(facts.notes)
    assert "Live plays 96 bpm, the saved set 100 bpm" in said
    assert "Live's locators are not the saved set's" in said

    odd = write_vocal_set(tmp_path / "odd", tempo_bpm="117.3")    # not exact in float32
    adapter, sim = _adapter_and_sim(odd, _live_song(117.3))
    with sim:
        facts = adapter.read_session()
    adapter.close()
    assert facts.tempo[0].tempo_bpm == Fraction(1173, 10) and not any(
        "bpm" in n or "locators" in n for n in facts.notes), facts.notes

    ramp = tmp_path / "ramp" / "Ramp.als"
    ramp.parent.mkdir()
    ramp.write_bytes((DATA / "L12-automation.als").read_bytes())
    adapter, sim = _adapter_and_sim(ramp, _live_song(60.0, [("A", 0), ("B", 4), ("C", 8)]))
    with sim:
        facts = adapter.read_session()
    adapter.close()
    assert len(facts.tempo) > 1 and abs(float(facts.beat_to_seconds(8)) - 6.836) < 0.0005
    assert any("tempo automation" in n for n in facts.notes)
    assert facts.vocal_notes == () and facts.project_file == str(ramp)


def test_curved_tempo_automation_is_said_to_be_read_as_lines(tmp_path):
    """Live 11+ writes curve handles on a curved segment's point (``CurveControl1X`` ...):
    the ramp is still read point to point, and the session notes say so."""
    root = ET.fromstring(gzip.decompress((DATA / "L12-automation.als").read_bytes()))
    ev = next(e for e in root.iter("FloatEvent") if e.get("Time") == "8")
    ev.attrib.update(CurveControl1X="0.5", CurveControl1Y="0.2", CurveControl2X="0.5",
                     CurveControl2Y="0.8")
    path = tmp_path / "Curved.als"
    path.write_bytes(gzip.compress(ET.tostring(root)))
    facts = read_live_set(path).facts()
    assert abs(float(facts.beat_to_seconds(8)) - 6.836) < 0.0005
    assert any("curved segments" in n for n in facts.notes)
    assert not any("curved" in n for n in read_live_set(DATA / "L12-automation.als").facts().notes)


def test_a_vocal_track_sketched_in_session_view_is_pointed_out(tmp_path):
    """The Live 11 set's track renamed "Vocal", its first clip moved from the arrangement
    into a Session View clip slot (its other clips deleted): no notes are sung, and the
    session note says why (Ainur reads the arrangement), not just that there are none."""
    from daw_bridge.project_vocal import with_project_vocal

    root = ET.fromstring(gzip.decompress((DATA / "live11-kick.als").read_bytes()))
    track = next(t for t in root.find("LiveSet/Tracks")
                 if t.find("Name/EffectiveName").get("Value") == "Kick")
    _set(track, "Name/EffectiveName", "Vocal")
    events = track.find("DeviceChain/MainSequencer/ClipTimeable/ArrangerAutomation/Events")
    clip = events[0]
    for old in list(events):
        events.remove(old)
    track.find("DeviceChain/MainSequencer/ClipSlotList/ClipSlot/ClipSlot/Value").append(clip)
    path = tmp_path / "Sketch.als"
    path.write_bytes(gzip.compress(ET.tostring(root)))
    s = read_live_set(path)
    assert s.vocal_track() == "Vocal" and s.track_notes("Vocal") == []
    facts = with_project_vocal(s.facts(), s)
    assert facts.vocal_notes == ()
    assert any("'Vocal' has no notes (as last saved): its 1 Session View clip with notes is "
               "not in the arrangement" in n for n in facts.notes), facts.notes


def test_time_signature_changes_are_read_from_the_signature_automation(tmp_path):
    """The Live 12 set with two signature changes written into its TimeSignature envelope
    (as ``EnumEvent``s, the way Live stores signature changes): 4/4, 3/4 from beat 8, 6/8
    from beat 14. (No set saved by Live with a signature change was at hand: this checks the
    reading of the envelope, not Live.)"""
    root = ET.fromstring(gzip.decompress((DATA / "L12-automation.als").read_bytes()))
    main = root.find("LiveSet/MainTrack")
    target = main.find("DeviceChain/Mixer/TimeSignature/AutomationTarget").get("Id")
    env = next(e for e in main.findall("AutomationEnvelopes/Envelopes/AutomationEnvelope")
               if e.find("EnvelopeTarget/PointeeId").get("Value") == target)
    events = env.find("Automation/Events")
    ET.SubElement(events, "EnumEvent", Id="7", Time="8", Value="200")
    ET.SubElement(events, "EnumEvent", Id="8", Time="14", Value="302")
    path = tmp_path / "Meters.als"
    path.write_bytes(gzip.compress(ET.tostring(root)))
    facts = read_live_set(path).facts()
    assert [(m.beat, m.numerator, m.denominator) for m in facts.meters] == \
        [(0, 4, 4), (8, 3, 4), (14, 6, 8)]

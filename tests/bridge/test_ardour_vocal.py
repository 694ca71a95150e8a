"""The vocal melody of an Ardour session: a real, headless Ardour (Debian ``ardour``,
ardour7-lua, dummy backend) makes the session, its markers and two MIDI tracks ("Keys", and
"Lead Vox" with a verse region, a chorus region and a muted region); Ainur reads the notes
the vocal track plays from the session as Ardour saved it, and ``/ainur/render_session``'s
job sings the lyrics file beside the session on them.

The expected notes are the ones written into the regions here, moved to where Ardour put each
region (Ardour's own positions, printed by its Lua, are checked too). Without Ardour the tests
skip with the reason (they fail instead when ``AINUR_REQUIRE_ARDOUR=1``).
"""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path

import pytest

from ainur_cli.errors import BridgeError

RATE = 48000
MARKERS = [("Verse", 8), ("Chorus", 24), ("End", 40)]   # beats: bars 3, 7 and 11 of 4/4
# (start, length, pitch, velocity) from each region's start: "Ci-ty lights are cal-ling"
VERSE = [(0, 1, 62, 90), (1, 1, 64, 84), (2, 1, 66, 88), (3, 1, 67, 80), (4, 2, 69, 96), (6, 2, 67, 90)]
CHORUS = [(0, 1, 69, 100), (1, 1, 71, 96), (2, 2, 74, 110), (4, 1, 73, 96), (5, 3, 74, 104)]  # "Sing it loud to-night"
MUTED = [(0, 4, 50, 90)]
REGIONS = [(8, VERSE, False), (24, CHORUS, False), (32, MUTED, True)]
LYRICS = "[Verse]\nCity lights are calling\n\n[Chorus]\nSing it loud tonight\n"


def _unavailable(e: Exception) -> None:
    msg = f"HEADLESS ARDOUR UNAVAILABLE — the Ardour vocal-track tests did not run: {e}"
    if os.environ.get("AINUR_REQUIRE_ARDOUR") == "1":
        pytest.fail(msg)
    pytest.skip(msg)


def expected_notes() -> list[tuple[Fraction, Fraction, int, int]]:
    """The unmuted regions' notes in session beats."""
    return [(Fraction(pos + a), Fraction(pos + a + d), p, v)
            for pos, notes, muted in REGIONS if not muted for a, d, p, v in notes]


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """A closed session Ardour made: 120 bpm 4/4, the markers, a "Keys" MIDI track (a chord
    that is not the vocal) and a "Lead Vox" MIDI track with REGIONS; a lyrics file beside it."""
    from daw_bridge.ardour_session import SessionEdit
    from tests.bridge.ardour_fixture import (
        ArdourUnavailable,
        add_midi_track,
        create_session,
        private_env,
    )

    root = tmp_path_factory.mktemp("ardour-vocal")
    env = private_env(root)
    try:
        file, samples = create_session(root, "VocalTest", sample_rate=RATE, tempo=[(0, 120)],
                                       meters=[], track="Guide",
                                       beats=[b for _, b in MARKERS], env=env)
        edit = SessionEdit(file)
        for name, beat in MARKERS:
            assert edit.add_marker(name, samples[beat])
        edit.save()
        add_midi_track(file, "Keys", [(8, [(0, 8, 74, 80), (0, 8, 78, 80)], False)], env)
        placed = add_midi_track(file, "Lead Vox", REGIONS, env)
    except ArdourUnavailable as e:
        _unavailable(e)
    (file.parent / "lyrics.txt").write_text(LYRICS, encoding="utf-8")
    return file, placed


def test_ardour_placed_the_regions_where_asked(session):
    _, placed = session
    # Ardour's own account: position and length in its musical time (1920 ticks a beat).
    assert placed == [f"b{pos * 1920} b{(a + d) * 1920}@b{pos * 1920} {str(muted).lower()}"
                      for pos, notes, muted in REGIONS for a, d, *_ in notes[-1:]]


def test_the_vocal_tracks_notes_as_ardour_saved_them(session):
    from daw_bridge.ardour import ArdourAdapter
    from daw_bridge.ardour_session import read_session_file
    from tests.bridge.ardour_fixture import free_udp_port

    file, _ = session
    saved = read_session_file(file)
    assert saved.midi_tracks == ("Keys", "Lead Vox")
    # Ardour keeps each placed copy in an SMF of its own (19200 ticks a beat), not the input.
    played = [r for r in saved.midi_regions if r.track == "Lead Vox"]
    assert [(r.position_beat, r.muted) for r in played] == [(8, False), (24, False), (32, True)]
    inputs = {f"Lead Vox-input-{k}.mid" for k in range(len(REGIONS))}
    assert all(r.source.is_file() and r.source.name not in inputs for r in played)
    assert saved.vocal_track() == "Lead Vox"            # named like a vocal; Keys is not
    assert saved.track_notes("Lead Vox") == expected_notes()
    adapter = ArdourAdapter(port=free_udp_port(), session=file, timeout_s=0.3)
    try:
        facts = adapter.read_session()                   # Ardour is closed: the file as saved
        assert facts.vocal_notes == tuple(expected_notes())
        assert facts.vocal_source == "the Ardour MIDI track 'Lead Vox'"
        assert facts.project_file == str(file)
    finally:
        adapter.close()
    keys = ArdourAdapter(port=free_udp_port(), session=file, timeout_s=0.3, vocal_track="keys")
    try:   # the option names another track (any case): its chord, one voice (the top note)
        assert keys.read_session().vocal_notes == ((8, 16, 78, 80),)
    finally:
        keys.close()
    with pytest.raises(BridgeError, match="no MIDI track of that name.*allowed: Keys, Lead Vox"):
        saved.vocal_track("Vocals")


def test_render_session_sings_the_lyrics_file_on_the_vocal_track(session, tmp_path):
    """The ``/ainur/render_session`` job (what ``ainur serve --daw ardour`` runs), Ardour
    closed: the song is the session's markers, the lyrics the file beside the session, the
    vocal melody the Lead Vox notes; read back from the render's song.mid, the lyrics sit on
    exactly those notes (song beats: the song starts at the Verse marker, beat 8)."""
    from daw_bridge.ardour import ArdourAdapter
    from daw_bridge.job_runner import JobRunner
    from daw_bridge.jobs import Job
    from daw_bridge.lyrics import events_to_timed_lines
    from daw_bridge.midi_import import read_midi_facts
    from tests.bridge.ardour_fixture import free_udp_port

    file, _ = session
    root = tmp_path / "served"
    root.mkdir()
    adapter = ArdourAdapter(port=free_udp_port(), session=file, timeout_s=0.3, place_mode="osc")
    runner = JobRunner(root, adapter)
    runner.start()
    try:
        job = Job(1, "session", {"preset": "pop", "seed": 4, "title": "Ardour Vocal"},
                  ("127.0.0.1", 9))
        with pytest.raises(BridgeError) as e:   # placing needs Ardour (osc): the render is kept
            runner(job, lambda stage, fraction: None)
        assert "Ardour" in str(e.value), e.value
        print(f"\nplacing without a running Ardour: {e.value}")
    finally:
        runner.close()
        adapter.close()
    out = root / "renders" / "ardour-vocal"
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["name"] for s in manifest["sections"]] == ["Verse", "Chorus"]
    assert manifest["key"] == "D major"                 # estimated from the vocal's notes
    back = read_midi_facts(out / "midi" / "song.mid")
    assert [ln.text for ln in events_to_timed_lines(back.lyrics)] == \
        ["City lights are calling", "Sing it loud tonight"]
    sung = [(n.start_beat + 8, n.end_beat + 8, n.pitch) for e in back.lyrics for n in e.notes]
    assert sung == [(a, b, p) for a, b, p, _ in expected_notes()]


# A "Harmony" MIDI track added to a copy of the session: (position beat, notes, muted) as
# REGIONS; under the lead's syllables (song beats, from the Verse marker) it sounds these
# pitches, and rests under "to-" (its note ends where that syllable starts).
HARMONY = [(8, [(0, 2, 66, 80), (2, 2, 69, 80), (4, 4, 73, 80)], False),
           (24, [(0, 2, 73, 80), (2, 2, 78, 80), (5, 3, 78, 80)], False)]
HARMONY_SUNG = [(0, 66), (1, 66), (2, 69), (3, 69), (4, 73), (6, 73),
                (16, 73), (17, 73), (18, 78), (21, 78)]


def test_a_harmony_track_is_sung_with_the_leads_words(session, tmp_path):
    """A copy of the session with a "Harmony" MIDI track Ardour added: the adapter (Ardour
    closed) reads its notes beside the vocal's, and ``ainur render --from-ardour`` sings them
    with the lead's words and rhythm (read back from the render's vocals_harmony.mid)."""
    import shutil

    from daw_bridge.ardour import ArdourAdapter
    from tests.bridge.ardour_fixture import (ArdourUnavailable, add_midi_track, free_udp_port,
                                             private_env)
    from tests.conftest import harmony_render, midi_note_ons

    file, _ = session
    folder = tmp_path / "copy"
    shutil.copytree(file.parent, folder)
    copy = folder / file.name
    try:
        add_midi_track(copy, "Harmony", HARMONY, private_env(tmp_path))
    except ArdourUnavailable as e:
        _unavailable(e)
    adapter = ArdourAdapter(port=free_udp_port(), session=copy, timeout_s=0.3)
    try:
        facts = adapter.read_session()
    finally:
        adapter.close()
    assert facts.harmony_source == "the Ardour MIDI track 'Harmony'"
    assert [(a, b, p) for a, b, p, _ in facts.harmony_notes] == \
        [(pos + a, pos + a + d, p) for pos, notes, _ in HARMONY for a, d, p, _ in notes]
    out = harmony_render(tmp_path, "--from-ardour", folder)
    assert midi_note_ons(out / "midi" / "vocals_harmony.mid") == HARMONY_SUNG


HAND = """<?xml version="1.0" encoding="UTF-8"?>
<Session version="7002" name="hand" sample-rate="48000" id-counter="500">
  <Sources><Source name="v.mid" type="midi" id="70" origin=""/></Sources>
  <Routes>
    <Route id="40" name="Melody" default-type="midi" midi-playlist="41"><PresentationInfo order="1" flags="MidiTrack"/></Route>
  </Routes>
  <Playlists><Playlist id="41" name="Melody" type="midi" orig-track-id="40">
    <Region name="v.1" start="b1920" length="b3840@a{two_s}" id="77" type="midi" source-0="70"/>
  </Playlist></Playlists>
  <TempoMap superclocks-per-second="282240000"><Tempos>
    <Tempo npm="120" enpm="120" note-type="4" type="Tempo::Constant" sclock="0" quarters="0:0"/>
  </Tempos><Meters><Meter note-value="4" divisions-per-bar="4" sclock="0" quarters="0:0" bbt="1|1|0"/></Meters>
  </TempoMap>
</Session>
"""


def test_a_region_plays_its_source_from_its_start_for_its_length(tmp_path):
    """A region positioned in audio time (2 s = beat 4 at 120 bpm) that plays its source from
    beat 1 for 2 beats: of the source's four one-beat notes (written here by mido at 96 PPQ)
    the second and third sound, at session beats 4 and 5. Its file missing is a clear error."""
    import mido

    from daw_bridge.ardour_session import read_session_file

    folder = tmp_path / "hand"
    (folder / "interchange" / "hand" / "midifiles").mkdir(parents=True)
    (folder / "hand.ardour").write_text(HAND.format(two_s=2 * 282_240_000), encoding="utf-8")
    with pytest.raises(BridgeError, match="a MIDI region's file is missing") as e:
        read_session_file(folder).track_notes("Melody")
    assert "v.mid" in str(e.value)
    mid = mido.MidiFile(ticks_per_beat=96)
    mid.tracks.append(mido.MidiTrack(
        [m for k, p in enumerate((60, 62, 64, 65)) for m in (
            mido.Message("note_on", note=p, velocity=90, time=0),
            mido.Message("note_off", note=p, time=96))]))
    mid.save(folder / "interchange" / "hand" / "midifiles" / "v.mid")
    s = read_session_file(folder)
    assert s.vocal_track() == "Melody"
    assert s.track_notes("Melody") == [(4, 5, 62, 90), (5, 6, 64, 90)]


def test_a_vocal_note_out_of_range_is_refused_naming_the_track(tmp_path):
    """Session facts (as the Ardour adapter gives them) with a note no voice can sing: the
    render is refused before it starts, naming the track and the song bar.beat."""
    from ainur_cli.api import resolve_song
    from ainur_cli.errors import SpecError
    from daw_bridge.facts import Marker, constant_facts
    from daw_bridge.session_spec import song_from_facts

    (tmp_path / "lyrics.txt").write_text("[Verse]\nla la la\n", encoding="utf-8")
    facts = constant_facts(
        "ardour", str(tmp_path / "s.ardour"), 120,
        markers=(Marker(Fraction(0), "Verse"), Marker(Fraction(8), "End")),
        vocal_notes=((Fraction(0), Fraction(1), 60, 90), (Fraction(1), Fraction(2), 100, 90),
                     (Fraction(2), Fraction(3), 62, 90)),
        vocal_source="the Ardour MIDI track 'Lead Vox'", project_file=str(tmp_path / "s.ardour"))
    song = song_from_facts(facts, preset="pop", lyrics_file=tmp_path / "lyrics.txt")
    assert "the vocal sings the notes of the Ardour MIDI track 'Lead Vox' (3 notes)" in song.info
    with pytest.raises(SpecError) as e:
        resolve_song(song.spec)
    assert "the note of the Ardour MIDI track 'Lead Vox' at @1.2 (song bar.beat) is out of any " \
           "voice's range (got 'MIDI 100'" in str(e.value)


def test_with_ardour_running_the_vocal_track_is_read_as_last_saved(session, tmp_path):
    """Ardour has the session open (headless, OSC on): markers come over OSC as before, the
    vocal notes from the file as last saved, with a note saying so."""
    import shutil

    from daw_bridge.ardour import ArdourAdapter
    from tests.bridge.ardour_fixture import ArdourUnavailable, HeadlessArdour, enable_osc, private_env

    file, _ = session
    folder = tmp_path / file.parent.name
    shutil.copytree(file.parent, folder)
    copy = folder / file.name
    enable_osc(copy)
    host = HeadlessArdour(copy, tmp_path, private_env(tmp_path))
    try:
        host.start()
    except ArdourUnavailable as e:
        host.kill()
        _unavailable(e)
    adapter = ArdourAdapter(port=host.port, session=copy, timeout_s=2.0)
    try:
        facts = adapter.read_session()
        assert [m.name for m in facts.markers] == [name for name, _ in MARKERS]
        assert facts.vocal_notes == tuple(expected_notes())
        assert any("as last saved" in n and "save the session" in n for n in facts.notes)
    finally:
        adapter.close()
        host.kill()


def test_render_from_ardour_on_the_command_line(session, tmp_path):
    """``ainur render --from-ardour SESSION --preset pop``: the same song from the session
    folder as last saved (Ardour closed), the vocal on the Lead Vox notes; a vocal track the
    session lacks is one line naming the tracks it has, exit code 2, nothing written."""
    import subprocess
    import sys

    from daw_bridge.lyrics import events_to_timed_lines
    from daw_bridge.midi_import import read_midi_facts

    file, _ = session
    env = {**os.environ, "COLUMNS": "1000"}
    out = tmp_path / "render"
    proc = subprocess.run(
        [sys.executable, "-m", "ainur_cli", "render", "--from-ardour", str(file.parent),
         "--preset", "pop", "--seed", "4", "--parts", "lead,bass", "--sample-rate", "44100",
         "--out", str(out)], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    assert f"lyrics from {file.parent / 'lyrics.txt'}" in " ".join(proc.stderr.split())
    back = read_midi_facts(out / "midi" / "song.mid")
    assert [ln.text for ln in events_to_timed_lines(back.lyrics)] == \
        ["City lights are calling", "Sing it loud tonight"]
    sung = [(n.start_beat + 8, n.end_beat + 8, n.pitch) for e in back.lyrics for n in e.notes]
    assert sung == [(a, b, p) for a, b, p, _ in expected_notes()]
    bad = tmp_path / "bad"
    proc = subprocess.run(
        [sys.executable, "-m", "ainur_cli", "render", "--from-ardour", str(file), "--preset", "pop",
         "--vocal-track", "Vocals", "--out", str(bad)], capture_output=True, text=True,
        timeout=300, env=env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "no MIDI track of that name (got 'Vocals'; allowed: Keys, Lead Vox)" in proc.stderr
    assert not bad.exists()


def test_a_region_without_a_source_is_a_clear_error(tmp_path):
    from daw_bridge.ardour_session import read_session_file

    folder = tmp_path / "hand"
    folder.mkdir()
    (folder / "hand.ardour").write_text(
        HAND.format(two_s=0).replace(' source-0="70"', ""), encoding="utf-8")
    with pytest.raises(BridgeError, match=r"hand.ardour: Region\[v.1\].source-0: a MIDI region "
                                          r"names no source file \(region 'v.1' of track 'Melody'\)"):
        read_session_file(folder).track_notes("Melody")

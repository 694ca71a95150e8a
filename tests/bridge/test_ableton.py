"""The Ableton adapter end to end against the AbletonOSC simulator (real UDP on loopback)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest

from ainur_cli.errors import BridgeError
from daw_bridge.ableton import AbletonAdapter, bar_text
from daw_bridge.session_spec import song_from_facts
from tests.bridge.conftest import free_udp_port
from tests.bridge.sim_ableton import AbletonOscSim, CuePoint, LiveSong, Track
from tests.bridge.test_adapter import load_placement, write_render


def live_set() -> LiveSong:
    """117.3 bpm (not exact in float32), 7/8 (3.5 beats a bar), locators on bar lines."""
    return LiveSong(tempo=117.3, signature_numerator=7, signature_denominator=8,
                    cue_points=[CuePoint("Intro", 7.0), CuePoint("Verse 1", 21.0),
                                CuePoint("CHORUS", 35.0), CuePoint("End", 49.0)],
                    tracks=[Track("Drums"), Track("Keys", audio=False)], min_song_length=56.0)


@pytest.fixture
def adapter():
    a = AbletonAdapter(reply_port=0, timeout_s=0.5, retries=1)
    yield a
    a.close()


def sim_for(adapter: AbletonAdapter, song: LiveSong | None = None, **kw) -> AbletonOscSim:
    sim = AbletonOscSim(song or live_set(), reply_port=adapter.peer.reply_port, **kw)
    adapter.peer.port = sim.port
    adapter.origin = f"udp://127.0.0.1:{sim.port}"
    return sim


def test_handshake(adapter):
    with sim_for(adapter) as sim:
        h = adapter.health()
        assert h.ok, h.message
        assert str(sim.port) in h.message
        assert ("/live/test", ()) in sim.received


def test_silent_live_gives_a_clear_health_message_within_the_timeout(adapter):
    with sim_for(adapter, silent=True) as sim:
        t0 = time.monotonic()
        h = adapter.health()
        took = time.monotonic() - t0
    assert not h.ok
    assert took < 2 * 0.5 + 0.5
    assert f"127.0.0.1:{sim.port}" in h.message                 # the port that was tried
    assert f"UDP {adapter.peer.reply_port}" in h.message        # where replies were expected
    assert "AbletonOSC selected as a Control Surface" in h.message
    with pytest.raises(BridgeError) as e:
        adapter.read_session()
    assert "/live/song/get/tempo" in e.value.format()


def test_nothing_listening_is_not_a_crash(adapter):
    adapter.peer.port = free_udp_port()  # nobody on it: Linux reports ICMP "port unreachable"
    h = adapter.health()
    assert not h.ok and "does not answer /live/test" in h.message


def test_session_facts(adapter):
    with sim_for(adapter) as sim:
        facts = adapter.read_session()
        assert sim.busy_ticks == 1         # the six queries go in one batch, one Live tick
    assert facts.daw == "ableton"
    assert [(t.beat, t.tempo_bpm) for t in facts.tempo] == [(0, Fraction(1173, 10))]
    assert [(m.beat, m.numerator, m.denominator) for m in facts.meters] == [(0, 7, 8)]
    assert [(m.name, m.beat) for m in facts.markers] == [
        ("Intro", 7), ("Verse 1", 21), ("CHORUS", 35), ("End", 49)]
    assert facts.track_names == ("Drums", "Keys")
    assert facts.length_beats == 56
    assert any("one tempo" in n for n in facts.notes)
    # Beats → seconds through the (one) tempo, exactly.
    assert facts.beat_to_seconds(7) == Fraction(7 * 60 * 10, 1173)

    song = song_from_facts(facts, preset="pop")
    assert song.start_beat == 7 and song.end_beat == 49
    assert [s.name for s in song.spec.sections] == ["Intro", "Verse 1", "CHORUS"]
    assert [s.bars for s in song.spec.sections] == [4, 4, 4]
    assert song.start_s == Fraction(4200, 1173)


def test_requests_are_retried_when_live_is_slow():
    a = AbletonAdapter(reply_port=0, timeout_s=0.15, retries=4)
    try:
        with sim_for(a, tick_s=0.4):
            assert a.health().ok
    finally:
        a.close()


def test_place_creates_tracks_and_clips_at_the_right_beats(adapter, tmp_path):
    render = write_render(tmp_path / "render", tempo_bpm=117.3)
    start_beat = 7.0
    p = load_placement(render, start_beat, start_beat * 60 / 117.3)
    song = live_set()
    with sim_for(adapter, song, create_audio_clip=True):
        result = adapter.place(p)
    assert result.placed and result.method == "create_audio_clip", result
    assert result.tracks == ("Ainur drums", "Ainur bass", "Ainur vocals")
    assert [t.name for t in song.tracks] == ["Drums", "Keys", *result.tracks]
    for track, (part, start_s) in zip(song.tracks[2:], [("drums", 0.0), ("bass", 0.5),
                                                        ("vocals", 2.0)]):
        assert len(track.arrangement_clips) == 1
        clip = track.arrangement_clips[0]
        assert clip.file_path == str(render / "stems" / f"{part}.wav")
        want = start_beat + start_s * 117.3 / 60
        assert clip.start_time == pytest.approx(want, abs=1e-4)   # float32 over OSC


def test_released_abletonosc_gets_tracks_and_instructions(adapter, tmp_path):
    render = write_render(tmp_path / "render")
    p = load_placement(render, 7.0, 3.5)
    song = live_set()
    with sim_for(adapter, song) as sim:
        result = adapter.place(p)
    assert not result.placed and result.method == "tracks+instructions"
    assert [t.name for t in song.tracks[2:]] == ["Ainur drums", "Ainur bass", "Ainur vocals"]
    assert all(not t.arrangement_clips for t in song.tracks)
    assert "Unknown OSC address: /live/track/create_audio_clip" in result.details["reason"]
    assert "Unknown OSC address: /live/track/create_audio_clip" in sim.errors_sent
    for s in p.stems:
        assert str(s.path) in result.instructions
    # 7/8: bar 3 starts at beat 7; the bass starts 0.5 s = 1 beat later at 120 bpm.
    assert "'Ainur drums' at bar 3 (beat 7)" in result.instructions
    assert "'Ainur bass' at bar 3 + 1 beats (beat 8)" in result.instructions


def test_live_refusing_a_clip_falls_back_with_its_error(adapter, tmp_path):
    render = write_render(tmp_path / "render")
    p = load_placement(render)
    (render / "stems" / "bass.wav").unlink()   # Live refuses a missing file
    song = live_set()
    with sim_for(adapter, song, create_audio_clip=True):
        result = adapter.place(p)
    assert not result.placed
    assert "Error handling OSC message" in result.details["reason"]
    assert "invalid file path" in result.details["reason"]
    assert result.details["missing"] == ["bass"]
    assert [len(t.arrangement_clips) for t in song.tracks[2:]] == [1, 0, 1]
    assert "created 2 of 3 clips" in result.instructions
    assert "bass.wav" in result.instructions and "drums.wav" not in result.instructions


def test_patched_abletonosc_on_live_11_falls_back(adapter, tmp_path):
    p = load_placement(write_render(tmp_path / "render"))
    song = live_set()
    with sim_for(adapter, song, create_audio_clip=True, live_version=11):
        result = adapter.place(p)
    assert not result.placed and result.details["missing"] == ["drums", "bass", "vocals"]
    assert "has no attribute 'create_audio_clip'" in result.details["reason"]
    assert [t.name for t in song.tracks[2:]] == ["Ainur drums", "Ainur bass", "Ainur vocals"]


def test_live_error_surfaces_as_a_clear_error(adapter):
    with sim_for(adapter) as sim:
        with pytest.raises(BridgeError) as e:
            adapter.query("/live/track/get/name", 99)          # no track 99
        assert "Error handling OSC message" in e.value.format()
        assert "/live/track/get/name" in e.value.format()
        with pytest.raises(BridgeError) as e:
            adapter.query("/live/song/get/no_such_thing")
        assert "Unknown OSC address: /live/song/get/no_such_thing" in e.value.format()
        assert adapter.health().ok                             # still talking afterwards
        assert len(sim.errors_sent) == 2


def test_garbage_between_replies_is_ignored(adapter):
    with sim_for(adapter, garbage_before_reply=True):
        facts = adapter.read_session()
    assert facts.tempo[0].tempo_bpm == Fraction(1173, 10) and len(facts.markers) == 4


@pytest.mark.parametrize("address, reply, words", [
    ("/live/song/get/tempo", ("fast",), "not a number"),
    ("/live/song/get/tempo", (), "not a number"),
    ("/live/song/get/signature_numerator", (True,), "not a number"),
    ("/live/song/get/signature_denominator", (0,), "impossible"),
    ("/live/song/get/cue_points", ("Intro", 7.0, "Verse"), "name/beat pairs"),
    ("/live/song/get/cue_points", (7.0, "Intro"), "(name, beat)"),
    ("/live/song/get/track_names", (1, 2), "not text"),
])
def test_nonsense_answers_are_bridge_errors(adapter, address, reply, words):
    with sim_for(adapter, override={address: reply}):
        with pytest.raises(BridgeError) as e:
            adapter.read_session()
    assert words in e.value.format() and address in e.value.format()


def test_bar_text():
    assert bar_text(0, 4, 4) == "bar 1 (beat 0)"
    assert bar_text(33, 4, 4) == "bar 9 + 1 beats (beat 33)"
    assert bar_text(10.5, 7, 8) == "bar 4 (beat 10.5)"


# -- the AbletonOSC patch that adds /live/track/create_audio_clip ---------------------------

PATCHER = Path(__file__).resolve().parents[2] / "daw_bridge" / "scripts" / "ableton_create_audio_clip.py"

# The shape of AbletonOSC's abletonosc/track.py that the patch edits (written for this test:
# a TrackHandler whose init_api lists the track methods dispatched as /live/track/<method>).
TRACK_PY = '''\
class TrackHandler:
    def init_api(self):
        def create_track_callback(func, *args):
            return (func, args)

        methods = [
            "delete_device",
            "stop_all_clips"
        ]
        self.methods = list(methods)
'''


def run_patcher(folder: Path, as_module: bool = False) -> subprocess.CompletedProcess:
    how = ["-m", "daw_bridge.scripts.ableton_create_audio_clip"] if as_module else [str(PATCHER)]
    return subprocess.run([sys.executable, *how, str(folder)], capture_output=True, text=True,
                          timeout=60, cwd=PATCHER.parents[2])


def test_abletonosc_patch(tmp_path):
    (tmp_path / "abletonosc").mkdir()
    track_py = tmp_path / "abletonosc" / "track.py"
    track_py.write_text(TRACK_PY, encoding="utf-8")
    r = run_patcher(tmp_path)
    assert r.returncode == 0 and "patched" in r.stdout, r.stderr
    scope: dict = {}
    exec(compile(track_py.read_text(encoding="utf-8"), str(track_py), "exec"), scope)
    handler = scope["TrackHandler"]()
    handler.init_api()
    assert handler.methods == ["create_audio_clip", "delete_device", "stop_all_clips"]
    assert (tmp_path / "abletonosc" / "track.py.before-ainur").read_text() == TRACK_PY
    patched = track_py.read_text(encoding="utf-8")
    r = run_patcher(tmp_path, as_module=True)                   # a second run changes nothing
    assert r.returncode == 0 and "nothing to do" in r.stdout
    assert track_py.read_text(encoding="utf-8") == patched


def test_abletonosc_patch_refuses_what_it_does_not_know(tmp_path):
    assert run_patcher(tmp_path).returncode == 2                # no abletonosc/track.py
    (tmp_path / "abletonosc").mkdir()
    track_py = tmp_path / "abletonosc" / "track.py"
    track_py.write_text("class TrackHandler:\n    pass\n", encoding="utf-8")
    r = run_patcher(tmp_path)
    assert r.returncode == 2 and "methods = [" in r.stderr
    assert track_py.read_text() == "class TrackHandler:\n    pass\n"


def test_wire_format_read_by_liblo_oscdump(adapter, tmp_path):
    """liblo's oscdump (an independent OSC decoder) sees the documented type tags."""
    oscdump = shutil.which("oscdump")
    if oscdump is None:
        pytest.skip("oscdump (Debian liblo-tools) is not installed: cannot check the wire "
                    "format with an independent OSC decoder")
    port = free_udp_port()
    out = tmp_path / "oscdump.txt"
    with open(out, "w") as f:
        dump = subprocess.Popen([oscdump, "-L", str(port)], stdout=f, stderr=subprocess.STDOUT)
    try:
        time.sleep(0.3)
        render = write_render(tmp_path / "render")
        p = load_placement(render, 7.0, 3.5)
        with sim_for(adapter, create_audio_clip=True, tap=("127.0.0.1", port)):
            assert adapter.place(p).placed
        time.sleep(0.3)
    finally:
        dump.terminate()
        dump.wait(5)
    lines = [ln.split(" ", 1)[1] for ln in out.read_text().splitlines() if " /live/" in ln]
    assert lines.count("/live/song/create_audio_track i -1") == 3
    assert '/live/track/set/name is 2 "Ainur drums"' in lines
    assert f'/live/track/create_audio_clip isf 2 "{render}/stems/drums.wav" 7.000000' in lines
    assert f'/live/track/create_audio_clip isf 3 "{render}/stems/bass.wav" 8.000000' in lines
    assert "/live/track/get/arrangement_clips/start_time i 4" in lines

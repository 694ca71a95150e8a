"""``/ainur/render_session`` end to end: ``ainur serve`` reads a Live set from the AbletonOSC
simulator (real UDP), renders it and places the stems back as clips at the first locator."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bridge.conftest import OscClient, leftovers
from tests.bridge.sim_ableton import AbletonOscSim, CuePoint, LiveSong, Track


@pytest.fixture
def live_server(served_root):
    from daw_bridge.ableton import AbletonAdapter
    from daw_bridge.job_runner import JobRunner
    from daw_bridge.server import BridgeServer

    adapter = AbletonAdapter(reply_port=0, timeout_s=0.5, retries=1)
    song = LiveSong(tempo=120.0, cue_points=[CuePoint("Intro", 8.0), CuePoint("Verse 1", 16.0),
                                             CuePoint("Chorus", 24.0), CuePoint("End", 32.0)],
                    tracks=[Track("Guide")])
    sim = AbletonOscSim(song, reply_port=adapter.peer.reply_port, create_audio_clip=True)
    adapter.peer.port = sim.port
    adapter.origin = f"udp://127.0.0.1:{sim.port}"
    with sim:
        srv = BridgeServer(served_root, adapter, JobRunner(served_root, adapter), port=0).start()
        client = OscClient(srv.address)
        try:
            yield srv, sim, client
        finally:
            client.close()
            assert srv.stop(30.0)


def test_render_session_reads_live_renders_and_places_clips_at_the_first_locator(live_server,
                                                                               served_root):
    srv, sim, client = live_server
    client.send("/ainur/health")
    ok, daw, message = client.wait("/ainur/health")
    assert (ok, daw) == (1, "ableton"), message
    client.send("/ainur/render_session", "house", 4, "Live Take")
    job, what = client.wait("/ainur/queued")
    assert what == "session Live Take"
    address, args, progress = client.until_finished(job, timeout_s=120)
    assert address == "/ainur/done", args
    _, out_dir, method, placed, start_sample, _ = args
    assert Path(out_dir) == served_root / "renders" / "live-take"
    assert (method, placed, start_sample) == ("create_audio_clip", 1, 0)
    assert [p[2] for p in progress][:3] == ["started", "session", "compose"]
    import json

    m = json.loads((Path(out_dir) / "manifest.json").read_text())
    assert m["preset"] == "house" and m["seed"] == 4
    assert [s["name"] for s in m["sections"]] == ["Intro", "Verse 1", "Chorus"]
    stems = {f["path"] for f in m["files"] if f["part"] != "mix"}
    clips = [(t.name, c) for t in sim.song.tracks for c in t.arrangement_clips]
    assert len(clips) == len(stems)
    # Every clip starts at the Intro locator (beat 8), where the song starts in the set.
    assert {c.start_time for _, c in clips} == {8.0}
    assert leftovers(served_root) == []


def test_render_session_without_a_daw_is_one_clear_error(client):
    client.send("/ainur/render_session", "pop")
    job, _ = client.wait("/ainur/queued")
    address, (message, failed), _ = client.until_finished(job)
    assert address == "/ainur/error" and failed == job
    assert "no DAW is connected" in message and "--daw" in message

"""``ainur serve`` over real UDP sockets with a python-osc client: triggers produce renders
and replies, every bad packet gets an error (rate-limited) and the server keeps answering.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from pathlib import Path

import pytest

from ainur_cli.errors import BridgeError
from tests.bridge.conftest import OscClient, leftovers


def test_ping_status_presets_and_health(client):
    client.send("/ainur/ping", 42)
    version, token = client.wait("/ainur/pong")
    from ainur_cli import __version__

    assert (version, token) == (__version__, 42)
    client.send("/ainur/status")
    assert client.wait("/ainur/status") == ["idle", 0, "", 0.0, 0]
    client.send("/ainur/presets")
    names = client.wait("/ainur/presets")
    assert "pop" in names and "rock" in names and names == sorted(names)
    client.send("/ainur/health")
    ok, daw, message = client.wait("/ainur/health")
    assert (ok, daw) == (1, "none") and ".RPP" in message


def test_render_trigger_renders_places_and_reports(client, server, served_root):
    client.send("/ainur/render", "song.yaml", "", 9)
    job, what = client.wait("/ainur/queued")
    assert what == "render song.yaml"
    client.send("/ainur/status")
    state, running, *_ = client.wait("/ainur/status")
    assert state in ("busy", "idle")
    address, args, progress = client.until_finished(job)
    assert address == "/ainur/done", args
    _, out_dir, method, placed, start_sample, instructions = args
    out = Path(out_dir)
    assert out == served_root / "renders" / "song"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 9 and manifest["title"] == "Tiny Bridge Song"
    assert {f["path"] for f in manifest["files"]} == {"mix.wav", "stems/drums.wav", "stems/bass.wav"}
    assert method == "project-files" and placed == 0 and start_sample == 0
    assert (out / "song.RPP").is_file() and ".RPP" in instructions
    stages = [p[2] for p in progress]
    assert stages[0] == "started" and stages[-1] == "place"
    assert "compose" in stages and "export" in stages and len(set(stages)) >= 5
    fractions = [p[1] for p in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    # The same trigger again never overwrites: a new take.
    client.send("/ainur/render", "song.yaml")
    job2, _ = client.wait("/ainur/queued")
    address, args, _ = client.until_finished(job2)
    assert address == "/ainur/done" and args[1] == str(served_root / "renders" / "song-take2")
    assert leftovers(served_root) == []


def test_section_render_lines_up_with_the_full_render(client, served_root):
    from ainur_cli.export.audio import read_bext

    client.send("/ainur/render", "song.yaml")
    full_job, _ = client.wait("/ainur/queued")
    client.send("/ainur/render_section", "song.yaml", "chorus", 77)
    sec_job, what = client.wait("/ainur/queued")
    assert what == "section song.yaml [chorus]"
    assert client.until_finished(full_job)[0] == "/ainur/done"
    address, args, _ = client.until_finished(sec_job)
    assert address == "/ainur/done", args
    full = json.loads((served_root / "renders" / "song" / "manifest.json").read_text())
    chorus = [s for s in full["sections"] if s["name"] == "Chorus"][0]
    sec_dir = Path(args[1])
    assert sec_dir == served_root / "renders" / "song-chorus"
    assert args[4] == chorus["start_sample"] == 8 * 44100
    m = json.loads((sec_dir / "manifest.json").read_text())
    assert m["seed"] == 77 and [s["name"] for s in m["sections"]] == ["Chorus"]
    assert m["duration_samples"] == chorus["end_sample"] - chorus["start_sample"]
    assert m["song_position"]["start_sample"] == chorus["start_sample"]
    assert m["song_position"]["aligned"] is True
    assert m["tempo_map"][0]["tempo_bpm"] == 90.0
    assert m["time_signatures"][0] == {"bar": 1, "numerator": 3, "denominator": 4}
    for f in m["files"]:  # every file carries its song position
        assert read_bext(sec_dir / f["path"])["time_reference"] == chorus["start_sample"]
    # The REAPER project puts the items at the section's second in the song.
    rpp = (sec_dir / "song-chorus.RPP").read_text()
    positions = {float(x) for x in re.findall(r"POSITION ([0-9.]+)", rpp)}
    assert positions == {8.0}
    # ... in a project whose tempo map and meters before it are the full song's (bar 4 is
    # where 120 bpm 4/4 becomes 90 bpm 3/4, at 6 s), with the section's marker at 8 s.
    points = [tuple(float(v) for v in line.split()[1:3])
              for line in rpp.splitlines() if line.strip().startswith("PT ")]
    assert points[:2] == [(0.0, 120.0), (6.0, 90.0)]
    assert re.search(r'MARKER \d+ 8 "Chorus"', rpp)
    # /ainur/place of the section render places it at the same position again: the project
    # files come back identical.
    (sec_dir / "song-chorus.RPP").unlink()
    (sec_dir / "song-chorus.dawproject").unlink()
    client.send("/ainur/place", "renders/song-chorus")
    place_job, _ = client.wait("/ainur/queued")
    address, args, _ = client.until_finished(place_job)
    assert address == "/ainur/done", args
    assert args[4] == chorus["start_sample"]
    assert (sec_dir / "song-chorus.RPP").read_text() == rpp
    assert leftovers(served_root) == []


def _error(client) -> str:
    message, job = client.wait("/ainur/error")
    assert job == 0
    return message


def test_paths_that_escape_the_root_are_refused(client, served_root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evil.yaml").write_text((served_root / "song.yaml").read_text())
    os.symlink(outside / "evil.yaml", served_root / "link.yaml")
    os.symlink(outside, served_root / "linkdir")
    for bad, says in [("../outside/evil.yaml", "may not contain '..'"),
                      (str(outside / "evil.yaml"), "outside the served folder"),
                      ("link.yaml", "outside the served folder"),
                      ("linkdir/evil.yaml", "outside the served folder"),
                      ("missing.yaml", "no such file")]:
        client.send("/ainur/render", bad)
        assert says in _error(client), bad
    client.send("/ainur/render_section", "../outside/evil.yaml", "Chorus")
    assert "may not contain '..'" in _error(client)
    client.send("/ainur/place", "/tmp")
    assert "outside the served folder" in _error(client)
    # A spec inside the root whose output.dir points out of it fails as a job, writing nothing.
    text = (served_root / "song.yaml").read_text() + f"  dir: {outside / 'out'}\n"
    (served_root / "escape.yaml").write_text(text)
    client.send("/ainur/render", "escape.yaml")
    job, _ = client.wait("/ainur/queued")
    address, (message, failed_job), _ = client.until_finished(job)
    assert address == "/ainur/error" and failed_job == job
    assert "output.dir is outside the served folder" in message
    assert not (outside / "out").exists()
    # ... and so does one whose melody file lies outside it (nothing there is read).
    (served_root / "tune.yaml").write_text((served_root / "song.yaml").read_text()
                                           + f"melody: {outside / 'tune.mid'}\n")
    client.send("/ainur/render", "tune.yaml")
    job, _ = client.wait("/ainur/queued")
    address, (message, failed_job), _ = client.until_finished(job)
    assert address == "/ainur/error" and failed_job == job
    assert "melody file is outside the served folder" in message
    # The renders folder itself a link out of the root: refused too.
    os.symlink(outside, served_root / "renders")
    client.send("/ainur/render", "song.yaml")
    job, _ = client.wait("/ainur/queued")
    address, (message, _), _ = client.until_finished(job)
    assert address == "/ainur/error" and "outside the served folder" in message
    assert list(outside.iterdir()) == [outside / "evil.yaml"]


def _bundle(*elements: bytes) -> bytes:
    out = b"#bundle\x00" + bytes(8)
    for e in elements:
        out += len(e).to_bytes(4, "big") + e
    return out


def test_bad_packets_get_one_error_each_and_the_server_keeps_answering(client, server):
    from pythonosc.osc_message_builder import OscMessageBuilder

    def msg(address, *args):
        b = OscMessageBuilder(address)
        for a in args:
            b.add_arg(a)
        return b.build().dgram

    nested = msg("/ainur/ping")
    for _ in range(40):
        nested = _bundle(nested)
    cases = [
        (b"\xff\x00garbage", "not a valid OSC packet"),
        (b"", "not a valid OSC packet"),
        (b"/ainur/render\x00\x00\x00,s\x00\x00ab", "not a valid OSC packet"),  # cut string
        (b"/ainur/ping\x00,Q\x00\x00", "unsupported OSC type tags"),
        (msg("/ainur/ping") + b"x" * 9000, "too large"),
        (nested, "nested more than 8 deep"),
        (msg("/ainur/nope"), "unknown address '/ainur/nope'"),
        (msg("/ainur/render"), "/ainur/render takes 1 to 3 arguments"),
        (msg("/ainur/render", 5), "the spec must be a string"),
        (msg("/ainur/render", "song.yaml", "pop", "soon"), "bad seed"),
        (msg("/ainur/render", "song.yaml", "pop", -1), "bad seed"),
        (msg("/ainur/render", "song.yaml", "../../x"), "not a preset name"),
        (msg("/ainur/render_section", "song.yaml", 1.5), "the section is a name or"),
        (msg("/ainur/status", 1), "/ainur/status takes 0 arguments"),
        (msg("/ainur/cancel", 3.5), "which job?"),
        (msg("/ainur/cancel"), "no such job to cancel"),
        (msg("/ainur/place", "renders"), "no such folder"),
        (b"#bundle\x00" + bytes(8) + (100).to_bytes(4, "big") + b"junk", "bad size"),
        (_bundle(b"junk"), "an address starts with '/'"),
    ]
    for data, says in cases:
        client.send_raw(data)
        message = _error(client)
        assert says in message, (data[:40], message)
    # A bundle of good and bad messages: the good one is answered, the bad one reported.
    client.send_raw(_bundle(msg("/ainur/ping", 1), msg("/ainur/oops")))
    assert client.wait("/ainur/pong")[1] == 1
    assert "unknown address" in _error(client)
    client.send("/ainur/ping", 7)
    assert client.wait("/ainur/pong")[1] == 7


def _kernel_drops(port: int) -> int | None:
    """Datagrams the kernel dropped for the UDP socket on loopback ``port`` (its receive
    buffer was full), from /proc/net/udp; None where that file does not exist."""
    try:
        lines = Path("/proc/net/udp").read_text().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port:
            return int(fields[-1])
    return None


def test_a_flood_of_garbage_is_not_echoed_and_pings_still_answer(client, server):
    time.sleep(1.1)  # refill the error bucket
    t0 = time.monotonic()
    for i in range(3000):
        client.send_raw(os.urandom(i % 64 + 1))
    # UDP: a flood may overrun the socket's receive buffer, and the kernel then drops
    # datagrams (the ping among them) before the server sees them. What must hold is that
    # the server still answers: ping again until it does.
    until = time.monotonic() + 10
    pong = None
    while pong is None and time.monotonic() < until:
        client.send("/ainur/ping", 123)
        replies = client.drain(0.5)
        pong = next((args for address, args in replies if address == "/ainur/pong"), None)
        client.inbox = [r for r in replies if r[0] != "/ainur/pong"]
    assert pong is not None and pong[1] == 123, "the server stopped answering after the flood"
    replies = client.inbox + client.drain(0.3)
    elapsed = time.monotonic() - t0  # every error reply counted was sent in this window
    errors = [r for r in replies if r[0] == "/ainur/error"] + [1]  # the ping was answered
    # At most the burst plus the refill rate while it lasted; never one reply per packet.
    assert len(errors) <= 20 + 20 * (elapsed + 0.5) + 1
    dropped = _kernel_drops(server.address[1]) or 0
    assert server.stats["bad_packets"] + dropped >= 3000
    assert server.stats["bad_packets"] >= 1000
    assert server.errors.dropped > 0


def test_cancel_a_queued_and_the_running_render(client, served_root):
    from tests.bridge.conftest import TINY_SONG

    # 4 x 8 bars, so the render is still running when the cancel arrives.
    (served_root / "song.yaml").write_text(TINY_SONG.replace("bars: 2", "bars: 8"))
    client.send("/ainur/render", "song.yaml")
    first, _ = client.wait("/ainur/queued")
    client.send("/ainur/render_section", "song.yaml", "Verse 1")
    second, _ = client.wait("/ainur/queued")
    client.send("/ainur/status")
    status = client.wait("/ainur/status")
    assert status[4] >= 1 and second in status[5:]
    client.send("/ainur/cancel", second)
    assert client.wait("/ainur/cancelled") == [second]
    client.wait("/ainur/progress", job=first)  # it is running
    client.send("/ainur/cancel")
    assert client.wait("/ainur/cancelling") == [first]
    address, args, _ = client.until_finished(first)
    assert address == "/ainur/cancelled", args
    renders = served_root / "renders"
    assert not renders.exists() or list(renders.iterdir()) == []
    client.send("/ainur/status")
    assert client.wait("/ainur/status") == ["idle", 0, "", 0.0, 0]


def _until_cancelled(job, progress):
    """A job that runs until it is cancelled (the queue limit must not depend on speed)."""
    from ainur_cli.api import Cancelled

    progress("render", 0.1)
    while not job.cancelled():
        time.sleep(0.01)
    raise Cancelled("render cancelled; nothing was written", field="render")


def test_cancel_all_and_queue_limit(served_root):
    from daw_bridge.adapter import NoDaw
    from daw_bridge.server import BridgeServer

    with BridgeServer(served_root, NoDaw(), _until_cancelled, port=0, max_queued=2) as srv:
        c = OscClient(srv.address)
        try:
            c.send("/ainur/render", "song.yaml")
            ids = [c.wait("/ainur/queued")[0]]
            c.wait("/ainur/progress", job=ids[0])  # running: it no longer waits in the queue
            for _ in range(2):
                c.send("/ainur/render", "song.yaml")
                ids.append(c.wait("/ainur/queued")[0])
            c.send("/ainur/render", "song.yaml")  # 1 running + 2 waiting: full
            assert "queue is full" in c.wait("/ainur/error")[0]
            c.send("/ainur/cancel", "all")
            finished = {c.until_finished(j)[0] for j in ids}
            assert finished == {"/ainur/cancelled"}
        finally:
            c.close()
    assert leftovers(served_root) == []


def test_binding_rules(served_root):
    from daw_bridge.adapter import NoDaw
    from daw_bridge.server import BridgeServer

    with pytest.raises(BridgeError, match="needs --allow-remote"):
        BridgeServer(served_root, NoDaw(), lambda j, p: None, host="0.0.0.0", port=0)
    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    holder.bind(("127.0.0.1", 0))
    try:
        with pytest.raises(BridgeError, match="cannot listen on udp://127.0.0.1"):
            BridgeServer(served_root, NoDaw(), lambda j, p: None, port=holder.getsockname()[1])
    finally:
        holder.close()
    with pytest.raises(BridgeError, match="served folder does not exist"):
        BridgeServer(served_root / "nope", NoDaw(), lambda j, p: None, port=0)


def test_ipv6_loopback(served_root):
    from daw_bridge.adapter import NoDaw
    from daw_bridge.server import BridgeServer

    try:
        srv = BridgeServer(served_root, NoDaw(), lambda j, p: None, host="::1", port=0)
    except BridgeError as e:
        pytest.skip(f"this machine has no IPv6 loopback, ::1 is NOT tested: {e}")
    with srv:
        c = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        c.settimeout(5)
        try:
            from pythonosc.osc_message import OscMessage
            from pythonosc.osc_message_builder import OscMessageBuilder

            b = OscMessageBuilder("/ainur/ping")
            b.add_arg(6)
            c.sendto(b.build().dgram, srv.address)
            m = OscMessage(c.recvfrom(65536)[0])
            assert (m.address, m.params[1]) == ("/ainur/pong", 6)
        finally:
            c.close()


def test_replies_go_to_the_reply_port(served_root):
    from daw_bridge.adapter import NoDaw
    from daw_bridge.server import BridgeServer

    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(5)
    with BridgeServer(served_root, NoDaw(), lambda j, p: None, port=0,
                      reply_port=listener.getsockname()[1]) as srv:
        c = OscClient(srv.address)
        c.send("/ainur/ping", 5)
        data, source = listener.recvfrom(65536)
        from pythonosc.osc_message import OscMessage

        m = OscMessage(data)
        assert (m.address, m.params[1]) == ("/ainur/pong", 5)
        assert source[1] == srv.address[1]  # from the server's own port
        assert c.drain(0.2) == []
        c.close()
    listener.close()


def test_readme_documents_every_address():
    from daw_bridge.server import ROUTES

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## DAW bridge: `ainur serve`"):]
    section = section[:section.index("\n## ", 5)]
    documented = set(re.findall(r"^\| `(/ainur/[a-z_]+)", section, flags=re.M))
    assert documented >= {r.address for r in ROUTES}
    for reply in ("/ainur/progress", "/ainur/done", "/ainur/error", "/ainur/cancelled"):
        assert reply in section
    assert "`ainur serve`" in readme[:readme.index("<!-- MORE COMMANDS -->")]


def test_a_flood_of_valid_queries_is_answered_at_a_bounded_rate(client, server):
    """Answers can be larger than queries (e.g. /ainur/presets): beyond the answer bucket's
    burst and rate they are dropped, so a spoofed flood cannot use the server as an amplifier.
    (The server's bucket is set to 50/s, burst 20, so the test does not depend on speed.)"""
    from daw_bridge.server import TokenBucket

    server.answers = TokenBucket(50.0, 20)
    t0 = time.monotonic()
    n = 300
    for i in range(n):
        client.send("/ainur/ping", i)
    elapsed = time.monotonic() - t0
    pongs = [r for r in client.drain(0.5) if r[0] == "/ainur/pong"]
    assert 20 <= len(pongs) <= 20 + 50 * (elapsed + 0.6)
    assert server.answers.dropped > 0 and len(pongs) + server.answers.dropped <= n
    time.sleep(0.1)  # the bucket refills: a later ping is answered again
    client.send("/ainur/ping", "again")
    assert client.wait("/ainur/pong")[1] == "again"

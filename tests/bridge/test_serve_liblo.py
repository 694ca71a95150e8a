"""``ainur serve`` against liblo, an independent OSC implementation: ``oscsend`` triggers,
``oscdump`` receives every reply (the server runs with ``--reply-port`` = oscdump's port,
since oscsend exits without listening)."""

from __future__ import annotations

import json
import queue
import shlex
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.bridge.conftest import free_udp_port

if shutil.which("oscsend") is None or shutil.which("oscdump") is None:
    pytest.skip("liblo's oscsend/oscdump are NOT installed, so ainur serve is not tested against "
                "a second OSC implementation: `bash scripts/install-system-deps.sh` installs "
                "liblo-tools", allow_module_level=True)


class OscDump:
    """``oscdump -L PORT`` as a subprocess; its lines parsed into ``(address, args)``."""

    def __init__(self, port: int) -> None:
        self.proc = subprocess.Popen(["oscdump", "-L", str(port)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait(self, address: str, timeout_s: float = 30.0, job: int | None = None) -> list:
        until = time.monotonic() + timeout_s
        while True:
            left = until - time.monotonic()
            if left <= 0:
                pytest.fail(f"oscdump saw no {address} within {timeout_s} s")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            parts = shlex.split(line)  # timetag, address, type tags, arguments
            if len(parts) < 2 or parts[1] != address:
                continue
            types = parts[2] if len(parts) > 2 else ""
            args = [int(v) if t == "i" else float(v) if t == "f" else v
                    for t, v in zip(types, parts[3:])]
            if job is None or (args and args[0 if address != "/ainur/error" else 1] == job):
                return args

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def liblo(served_root):
    from daw_bridge.adapter import NoDaw
    from daw_bridge.job_runner import JobRunner
    from daw_bridge.server import BridgeServer

    dump_port = free_udp_port()
    dump = OscDump(dump_port)
    adapter = NoDaw()
    srv = BridgeServer(served_root, adapter, JobRunner(served_root, adapter), port=0,
                       reply_port=dump_port).start()
    # oscdump is listening once it receives: ping until it shows a pong.
    for _ in range(50):
        send(srv, "/ainur/ping", "i", "0")
        try:
            dump.wait("/ainur/pong", timeout_s=0.2)
            break
        except pytest.fail.Exception:
            continue
    else:
        dump.close()
        srv.stop()
        pytest.fail("oscdump never received the server's replies")
    yield srv, dump
    srv.stop(30.0)
    dump.close()


def send(srv, address: str, types: str = "", *values: str) -> None:
    subprocess.run(["oscsend", "localhost", str(srv.address[1]), address, types, *values],
                   check=True, timeout=10)


def test_oscsend_trigger_renders_and_oscdump_sees_done(liblo, served_root):
    srv, dump = liblo
    send(srv, "/ainur/ping", "s", "hello")
    assert dump.wait("/ainur/pong")[1] == "hello"
    send(srv, "/ainur/render", "ssi", "song.yaml", "rock", "3")
    job, what = dump.wait("/ainur/queued")
    assert what == "render song.yaml"
    first = dump.wait("/ainur/progress", job=job)
    assert first[1:] == [0.0, "started"]
    done = dump.wait("/ainur/done", job=job, timeout_s=60)
    out = Path(done[1])
    assert out == served_root / "renders" / "song" and done[2] == "project-files"
    m = json.loads((out / "manifest.json").read_text())
    assert (m["preset"], m["seed"]) == ("rock", 3)
    assert all((out / f["path"]).is_file() for f in m["files"])


def test_garbage_from_liblo_and_raw_bytes_get_errors_and_pings_still_answer(liblo):
    srv, dump = liblo
    send(srv, "/ainur/render", "i", "5")
    message, job = dump.wait("/ainur/error")
    assert job == 0 and "the spec must be a string" in message
    send(srv, "/ainur/bogus", "f", "1.5")
    assert "unknown address '/ainur/bogus'" in dump.wait("/ainur/error")[0]
    send(srv, "/ainur/render", "s", "../../etc/passwd")
    assert "may not contain '..'" in dump.wait("/ainur/error")[0]
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        raw.sendto(b"\x00\x01\x02 definitely not OSC", ("127.0.0.1", srv.address[1]))
    finally:
        raw.close()
    assert "not a valid OSC packet" in dump.wait("/ainur/error")[0]
    send(srv, "/ainur/ping", "i", "99")
    assert dump.wait("/ainur/pong")[1] == 99

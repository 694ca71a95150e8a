"""``ainur serve`` as a real subprocess: it answers, renders, logs requests at -v, stops
cleanly on SIGTERM/SIGINT in the middle of a render (nothing half-written), and refuses bad
options with one line and exit code 2."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.bridge.conftest import TINY_SONG, OscClient, free_udp_port, leftovers

# 4 x 8 bars: long enough that a signal sent at "compose" arrives while it still renders.
LONGER_SONG = TINY_SONG.replace("bars: 2", "bars: 8")


class ServeProcess:
    def __init__(self, root: Path, *extra: str) -> None:
        self.port = free_udp_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ainur_cli", "-v", "serve", "--root", str(root),
             "--port", str(self.port), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, text: str, timeout_s: float = 30.0) -> None:
        until = time.monotonic() + timeout_s
        while time.monotonic() < until:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.log.append(line)
            if text in line:
                return
        pytest.fail(f"ainur serve never printed {text!r}; output: {''.join(self.log)[-2000:]}")

    def output(self) -> str:
        while not self.lines.empty():
            self.log.append(self.lines.get())
        return "".join(self.log)

    def finish(self, timeout_s: float = 30.0) -> int:
        try:
            return self.proc.wait(timeout_s)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def serve(served_root):
    procs = []

    def start(*extra: str) -> ServeProcess:
        p = ServeProcess(served_root, *extra)
        procs.append(p)
        p.wait_for("listening on udp://127.0.0.1")
        return p

    yield start
    for p in procs:
        if p.proc.poll() is None:
            p.proc.kill()
            p.proc.wait()


def test_serve_answers_renders_and_logs_requests(serve, served_root):
    p = serve()
    c = OscClient(("127.0.0.1", p.port))
    try:
        c.send("/ainur/ping", "x")
        assert c.wait("/ainur/pong")[1] == "x"
        c.send("/ainur/render", "song.yaml")
        job, _ = c.wait("/ainur/queued")
        address, args, _ = c.until_finished(job)
        assert address == "/ainur/done", args
        assert (Path(args[1]) / "manifest.json").is_file()
    finally:
        c.close()
    p.proc.send_signal(signal.SIGTERM)
    assert p.finish() == 0
    out = p.output()
    assert "/ainur/render 'song.yaml'" in out and "job 1 done" in out
    assert "ainur serve: stopped" in out and "Traceback" not in out


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_a_signal_during_a_render_cancels_it_and_leaves_nothing(serve, served_root, signum, code):
    (served_root / "song.yaml").write_text(LONGER_SONG)
    p = serve()
    c = OscClient(("127.0.0.1", p.port))
    try:
        c.send("/ainur/render", "song.yaml")
        job, _ = c.wait("/ainur/queued")
        while c.wait("/ainur/progress", job=job, timeout_s=30)[2] != "compose":
            pass
        p.proc.send_signal(signum)
        address, args, _ = c.until_finished(job, timeout_s=30)
    finally:
        c.close()
    assert p.finish() == code
    assert address == "/ainur/cancelled", args
    renders = served_root / "renders"
    assert not renders.exists() or list(renders.iterdir()) == []
    assert leftovers(served_root) == []
    assert "Traceback" not in p.output()


@pytest.mark.parametrize("args, says", [
    (["--root", "/nonexistent/folder"], "the served folder does not exist"),
    (["--host", "0.0.0.0"], "binding to a non-local address needs --allow-remote"),
    (["--daw-port", "8080"], "--daw-port: DAW connection options need a DAW"),
    (["--daw", "ableton", "--reaper-command", "_RS1"], "--reaper-command is for REAPER"),
    (["--daw", "reaper", "--ableton-set", "x.als"], "--ableton-set is for Ableton Live"),
])
def test_bad_options_are_one_line_and_exit_2(served_root, args, says):
    base = ["--root", str(served_root)] if "--root" not in args else []
    proc = subprocess.run([sys.executable, "-m", "ainur_cli", "serve", *base, *args, "--port",
                           str(free_udp_port())], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert says in proc.stderr and "Traceback" not in proc.stderr
    assert len([line for line in proc.stderr.splitlines() if line.strip()]) == 1


def test_a_busy_port_is_one_line_and_exit_2(serve, served_root):
    p = serve()
    proc = subprocess.run([sys.executable, "-m", "ainur_cli", "serve", "--root", str(served_root),
                           "--port", str(p.port)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert f"cannot listen on udp://127.0.0.1:{p.port}" in proc.stderr
    assert "Traceback" not in proc.stderr
    p.proc.send_signal(signal.SIGTERM)
    assert p.finish() == 0

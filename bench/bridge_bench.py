"""Benchmark of ``ainur serve`` (a real subprocess, ``--daw none``) over loopback UDP.

Prints:
1. trigger-to-first-reply latency: ``/ainur/render`` → ``/ainur/queued`` (and → the first
   ``/ainur/progress``), and ``/ainur/ping`` round trips, idle server;
2. trigger-to-stems-placed time for a 3-minute song (bench/song_bench.py's spec):
   ``/ainur/render`` → ``/ainur/done`` (stems, mix, MIDI, manifest, .RPP and .dawproject written);
3. an OSC flood: ``--flood`` malformed packets (random bytes, cut messages, unknown addresses,
   wrong types, oversized datagrams, deep bundles) at ``--rate`` packets/s from one socket
   while a second client keeps sending ``/ainur/ping`` every ``--ping-ms``: achieved flood
   rate, the fraction of pings answered, ping latency percentiles, and how many error
   replies the flooder got back (the rate limit); once with the server idle and once while
   it renders the 3-minute song.

Run:  .venv/bin/python bench/bridge_bench.py            (about a minute on 2 cores)
      .venv/bin/python bench/bridge_bench.py --quick    (no 3-minute render)
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pythonosc.osc_message import OscMessage  # noqa: E402
from pythonosc.osc_message_builder import OscMessageBuilder  # noqa: E402

from song_bench import CHILD, three_minute_spec  # noqa: E402

TINY = """title: Tiny
preset: pop
tempo_bpm: 120
sections: [{name: Intro, bars: 1}]
output: {sample_rate: 44100, parts: [drums]}
"""


def msg(address: str, *args) -> bytes:
    b = OscMessageBuilder(address)
    for a in args:
        b.add_arg(a)
    return b.build().dgram


def free_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Client:
    def __init__(self, server: tuple[str, int]) -> None:
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))

    def send(self, address: str, *args) -> float:
        t = time.perf_counter()
        self.sock.sendto(msg(address, *args), self.server)
        return t

    def wait(self, address: str, timeout_s: float = 600.0, job: int | None = None):
        """``(arrival time, args)`` of the first reply on ``address`` (others dropped)."""
        until = time.monotonic() + timeout_s
        while True:
            left = until - time.monotonic()
            if left <= 0:
                raise TimeoutError(address)
            self.sock.settimeout(left)
            data, _ = self.sock.recvfrom(65536)
            t = time.perf_counter()
            m = OscMessage(data)
            if m.address == "/ainur/error" and (job is None or m.params[1] == job):
                raise RuntimeError(m.params[0])
            if m.address == address and (job is None or m.params[0] == job):
                return t, list(m.params)


def malformed(rng: random.Random, i: int) -> bytes:
    kind = i % 7
    if kind == 0:
        return rng.randbytes(rng.randint(1, 64))
    if kind == 1:
        return msg("/ainur/render", "song.yaml")[:-3]            # cut short
    if kind == 2:
        return msg(f"/ainur/nope{i % 100}", i)                      # unknown address
    if kind == 3:
        return msg("/ainur/render", i, 2.5)                         # wrong types
    if kind == 4:
        return msg("/ainur/ping") + bytes(9000)                     # oversized
    if kind == 5:
        d = msg("/ainur/ping")
        for _ in range(20):
            d = b"#bundle\x00" + bytes(8) + len(d).to_bytes(4, "big") + d
        return d                                                    # nested 20 deep
    return b"/ainur/ping\x00,Zq\x00" + rng.randbytes(8)             # unknown type tags


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


def flood(server: tuple[str, int], count: int, rate: float, ping_ms: float) -> dict:
    """Flood from one socket; ping from another; returns the figures."""
    rng = random.Random(7)
    packets = [malformed(rng, i) for i in range(count)]
    flooder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    flooder.bind(("127.0.0.1", 0))
    flooder.setblocking(False)
    pinger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    pinger.bind(("127.0.0.1", 0))
    sent_at: dict[int, float] = {}
    rtts: list[float] = []
    done = threading.Event()

    def receive_pongs() -> None:
        pinger.settimeout(0.2)
        while not done.is_set() or len(rtts) < len(sent_at):
            try:
                data, _ = pinger.recvfrom(65536)
            except socket.timeout:
                if done.is_set():
                    break
                continue
            t = time.perf_counter()
            m = OscMessage(data)
            if m.address == "/ainur/pong" and len(m.params) > 1 and m.params[1] in sent_at:
                rtts.append(t - sent_at[m.params[1]])

    rx = threading.Thread(target=receive_pongs, daemon=True)
    rx.start()
    t0 = time.perf_counter()
    next_ping, seq = t0, 0
    for i, p in enumerate(packets):
        target = t0 + i / rate
        while True:
            now = time.perf_counter()
            if now >= next_ping:
                seq += 1
                sent_at[seq] = time.perf_counter()
                pinger.sendto(msg("/ainur/ping", seq), server)
                next_ping += ping_ms / 1000
            if now >= target:
                break
            time.sleep(min(target - now, 0.0005))
        try:
            flooder.sendto(p, server)
        except BlockingIOError:
            pass
    elapsed = time.perf_counter() - t0
    time.sleep(1.0)  # late pongs
    done.set()
    rx.join(2.0)
    errors_back = 0
    while True:
        try:
            flooder.recvfrom(65536)
            errors_back += 1
        except (BlockingIOError, OSError):
            break
    flooder.close()
    pinger.close()
    ms = [r * 1000 for r in rtts]
    return {"packets": count, "elapsed_s": elapsed, "rate_per_s": count / elapsed,
            "pings": len(sent_at), "answered": len(rtts),
            "p50_ms": percentile(ms, 50) if ms else float("nan"),
            "p95_ms": percentile(ms, 95) if ms else float("nan"),
            "p99_ms": percentile(ms, 99) if ms else float("nan"),
            "max_ms": max(ms) if ms else float("nan"), "errors_back": errors_back}


def show_flood(title: str, f: dict) -> None:
    print(f"{title}: {f['packets']} malformed packets in {f['elapsed_s']:.2f} s "
          f"({f['rate_per_s']:.0f}/s); pings answered {f['answered']}/{f['pings']} "
          f"({100 * f['answered'] / max(f['pings'], 1):.1f} %); ping latency p50 "
          f"{f['p50_ms']:.2f} ms, p95 {f['p95_ms']:.2f} ms, p99 {f['p99_ms']:.2f} ms, max "
          f"{f['max_ms']:.2f} ms; error replies to the flooder: {f['errors_back']}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--flood", type=int, default=10_000, help="malformed packets per flood")
    ap.add_argument("--rate", type=float, default=2000.0, help="flood packets per second")
    ap.add_argument("--ping-ms", type=float, default=10.0, help="ping interval during a flood")
    ap.add_argument("--triggers", type=int, default=10, help="render triggers timed (tiny song)")
    ap.add_argument("--quick", action="store_true", help="skip the 3-minute render")
    ap.add_argument("--jobs", type=int, default=1, help="ainur serve -j")
    a = ap.parse_args()

    # A SIGTERM (e.g. from `timeout`) still runs the clean-up below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    root = Path(tempfile.mkdtemp(prefix="ainur-bridge-bench-"))
    (root / "tiny.yaml").write_text(TINY)
    (root / "song.yaml").write_text(three_minute_spec("pop"))
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONFAULTHANDLER="1")
    proc = subprocess.Popen([sys.executable, "-m", "ainur_cli", "serve", "--root", str(root),
                             "--port", str(port), "-j", str(a.jobs), "--max-queued", "64"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        proc.stderr.readline()  # "listening on ..."
        server = ("127.0.0.1", port)
        c = Client(server)
        rtts = []
        for i in range(50):
            t = c.send("/ainur/ping", i)
            rtts.append((c.wait("/ainur/pong")[0] - t) * 1000)
        print(f"ping round trip (idle, 50): median {statistics.median(rtts):.3f} ms, "
              f"max {max(rtts):.3f} ms")
        queued, first_progress, done = [], [], []
        for _ in range(a.triggers):
            t = c.send("/ainur/render", "tiny.yaml")
            tq, (job, _) = c.wait("/ainur/queued")
            tp, _ = c.wait("/ainur/progress", job=job)
            td, _ = c.wait("/ainur/done", job=job)
            queued.append((tq - t) * 1000)
            first_progress.append((tp - t) * 1000)
            done.append(td - t)
        print(f"trigger-to-first-reply (/ainur/render → /ainur/queued, {a.triggers} triggers): "
              f"median {statistics.median(queued):.3f} ms, max {max(queued):.3f} ms; "
              f"→ first /ainur/progress: median {statistics.median(first_progress):.3f} ms; "
              f"1-bar song → /ainur/done: median {statistics.median(done):.2f} s")
        if not a.quick:
            t = c.send("/ainur/render", "song.yaml")
            _, (job, _) = c.wait("/ainur/queued")
            td, args = c.wait("/ainur/done", job=job, timeout_s=300)
            print(f"trigger-to-stems-placed, 3:00 song (pop, 48 kHz/24-bit, vocals, "
                  f"--daw none → .RPP + .dawproject): {td - t:.2f} s ({180 / (td - t):.1f}x "
                  f"real time); method {args[2]}")
            # The same render without the bridge (bench/song_bench.py's child: a fresh
            # process, imports included), right after, for the bridge's overhead.
            import json

            direct = subprocess.run([sys.executable, "-c", CHILD, str(root / "song.yaml"),
                                     str(root / "direct"), str(a.jobs)], capture_output=True,
                                    text=True, check=True)
            figures = json.loads(direct.stdout.strip().splitlines()[-1])
            print(f"the same song rendered directly (api.render_file in a new process, "
                  f"-j {a.jobs}): {figures['wall_s']:.2f} s, "
                  f"{figures['wall_s'] - figures['import_s']:.2f} s after its imports (the "
                  f"bridge's render process has them loaded already)")
        show_flood("flood, idle server", flood(server, a.flood, a.rate, a.ping_ms))
        if not a.quick:
            c.send("/ainur/render", "song.yaml")
            _, (job, _) = c.wait("/ainur/queued")
            c.wait("/ainur/progress", job=job)
            show_flood("flood, while rendering the 3:00 song", flood(server, a.flood, a.rate,
                                                                     a.ping_ms))
            c.send("/ainur/cancel", job)
        t = c.send("/ainur/ping", 10**6)
        print(f"ping after the floods: answered in {(c.wait('/ainur/pong')[0] - t) * 1000:.3f} ms")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.returncode:
            print(f"ainur serve exited with {proc.returncode}: {proc.stderr.read()[-3000:]}")
        import shutil

        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

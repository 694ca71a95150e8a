"""Batch throughput: jobs per minute for N short songs with -j 1, -j 2, … and the scaling.

    python bench/batch_bench.py                 # 24 songs, -j 1 and -j 2, local executor
    python bench/batch_bench.py --jobs 1,2,4 --songs 48 --executor dask

Every run renders the same songs into a fresh folder through the batch runner (the same code
path as `ainur batch`), so worker start-up (spawning processes, importing the render stack)
is included in the wall time; each worker count runs in a fresh interpreter, so each pays its
own start-up (the fork server and its import of the render stack included) and none inherits a
warm one from the run before. Prints one line per worker count and the scaling against -j 1;
the issue's target is throughput(k) >= 0.8 * k * throughput(1) with k workers on k cores.
"CPU s/job" (the batch process, the fork server and every worker, read from /proc on Linux)
and "cores busy" (CPU s / wall s) show whether the machine really gave the run k cores: on a
shared machine other processes take some.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ainur_cli.batch import JobFinished, JobStarted, make_executor, plan_jobs, run_batch

PRESETS = ("pop", "rock", "house", "lofi-hiphop", "ballad", "funk")
SONG = """\
title: Bench Song {i}
preset: {preset}
seed: {i}
tempo_bpm: {tempo}
sections:
  - name: Intro
    bars: 1
  - name: Verse
    bars: {verse_bars}
output:
  sample_rate: 44100
"""


def write_songs(folder: Path, n: int) -> list[Path]:
    """``n`` short songs (2–4 bars at 44.1 kHz), presets and tempi varied."""
    songs = []
    for i in range(n):
        p = folder / f"bench-{i:02d}.yaml"
        p.write_text(SONG.format(i=i, preset=PRESETS[i % len(PRESETS)], tempo=100 + 7 * (i % 9),
                                 verse_bars=1 + i % 3), encoding="utf-8")
        songs.append(p)
    return songs


def run_once(songs: list[Path], out: Path, executor: str, workers: int) -> dict:
    jobs = plan_jobs(songs, out)
    finished_at: list[float] = []
    procs = _ProcessCpu()

    def on_event(event) -> None:
        if isinstance(event, JobStarted) and event.pid:
            procs.watch(event.pid)
        if isinstance(event, JobFinished):
            finished_at.append(time.perf_counter())
        procs.sample()

    t0 = time.perf_counter()
    cpu0 = _own_cpu_s()
    result = run_batch(jobs, make_executor(executor, workers=workers), out, on_event=on_event)
    wall_s = time.perf_counter() - t0
    cpu_s = _own_cpu_s() - cpu0 + procs.total()
    done = [o for o in result.outcomes.values() if o.status == "done"]
    # Steady state: from the moment every worker has finished its first job (start-up and
    # first-job warm-up behind us) to the end.
    steady = None
    if len(finished_at) > workers + 1:
        span = finished_at[-1] - finished_at[workers - 1]
        steady = (len(finished_at) - workers) / span * 60.0 if span > 0 else None
    return {"workers": workers, "jobs": len(done), "failed": result.counts()["failed"],
            "wall_s": wall_s, "jobs_per_min": len(done) / wall_s * 60.0, "steady_per_min": steady,
            "mean_job_s": sum(o.time_s for o in done) / max(1, len(done)),
            "cpu_s_per_job": cpu_s / max(1, len(done)), "cores_used": cpu_s / wall_s}


def _own_cpu_s() -> float:
    """CPU seconds (user + system) of this process and its reaped children (spawned workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class _ProcessCpu:
    """CPU seconds of workers forked by the fork server (not our children, so not in
    RUSAGE_CHILDREN) and of the fork server itself, sampled from /proc/PID/stat while they live."""

    def __init__(self) -> None:
        self.tick_s = 1.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01
        self.cpu: dict[int, float] = {}

    def watch(self, pid: int) -> None:
        stat = self._stat(pid)
        if stat is None:
            return
        self.cpu.setdefault(pid, 0.0)
        parent = int(stat[1])
        if parent != os.getpid():   # forked by the fork server: count the server too
            self.cpu.setdefault(parent, 0.0)

    def sample(self) -> None:
        for pid in self.cpu:
            stat = self._stat(pid)
            if stat is not None:
                self.cpu[pid] = max(self.cpu[pid], (int(stat[11]) + int(stat[12])) * self.tick_s)

    def total(self) -> float:
        self.sample()
        return sum(v for pid, v in self.cpu.items())

    @staticmethod
    def _stat(pid: int) -> list[str] | None:
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        return text[text.rindex(")") + 2:].split()  # fields from "state" on


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--songs", type=int, default=24)
    ap.add_argument("--jobs", default="1,2", help="worker counts to measure, e.g. 1,2,4")
    ap.add_argument("--executor", choices=["local", "dask"], default="local")
    ap.add_argument("--keep", type=Path, help="keep the renders under this folder")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)       # internal: one worker count
    ap.add_argument("--songs-dir", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one is not None:   # the child run: one worker count in this fresh interpreter
        songs = sorted(args.songs_dir.glob("bench-*.yaml"))
        print(json.dumps(run_once(songs, args.out, args.executor, args.one)))
        return
    counts = [int(x) for x in args.jobs.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="ainur-batch-bench-"))
    try:
        songs = write_songs(tmp, args.songs)
        print(f"{args.songs} songs, executor {args.executor}, {os.cpu_count()} CPU cores, "
              f"load average before {os.getloadavg()[0]:.2f}")
        rows = []
        for k in counts:
            out = (args.keep or tmp) / f"out-j{k}"
            shutil.rmtree(out, ignore_errors=True)
            r = _run_fresh(tmp, out, args.executor, k)
            rows.append(r)
            steady = f"{r['steady_per_min']:.1f}" if r["steady_per_min"] else "n/a"
            print(f"-j {k}: {r['jobs']} jobs ({r['failed']} failed) in {r['wall_s']:.1f} s = "
                  f"{r['jobs_per_min']:.1f} jobs/min (steady state {steady}); mean job "
                  f"{r['mean_job_s']:.2f} s; CPU {r['cpu_s_per_job']:.2f} s/job, "
                  f"{r['cores_used']:.2f} cores busy; "
                  f"load average {os.getloadavg()[0]:.2f}")
        base = next((r for r in rows if r["workers"] == 1), None)
        if base is not None:
            for r in rows:
                if r["workers"] > 1:
                    speedup = r["jobs_per_min"] / base["jobs_per_min"]
                    line = (f"scaling -j {r['workers']}: {speedup:.2f}x vs -j 1 "
                            f"(efficiency {speedup / r['workers']:.0%}; target >= 80%)")
                    if r["steady_per_min"] and base["steady_per_min"]:
                        s = r["steady_per_min"] / base["steady_per_min"]
                        line += f"; steady state {s:.2f}x ({s / r['workers']:.0%})"
                    print(line)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run_fresh(songs_dir: Path, out: Path, executor: str, workers: int) -> dict:
    """:func:`run_once` in a fresh interpreter (nothing warm from an earlier run)."""
    proc = subprocess.run([sys.executable, __file__, "--one", str(workers), "--songs-dir",
                           str(songs_dir), "--out", str(out), "--executor", executor],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"-j {workers} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()

"""Benchmark: render a 3-minute song (all parts + master + exports) and print wall time,
real-time factor, peak RSS, and `ainur --help` start-up time.

Run:  .venv/bin/python bench/song_bench.py [--preset pop] [--repeat 3] [--jobs 2]
Goal on a 2-core laptop: RTF >= 30x (<= 6 s for 3:00), peak RSS <= 1 GiB.

Besides wall times it prints CPU seconds (user + system, of every process) in total and per
stage: on a shared machine wall time is noisy, CPU time much less so. Stages that run in
worker processes (render, vocals, mix) report the CPU their jobs used; their wall time is
the "stems" stage. Peak RSS is the render process's; the largest worker's is printed too
(the stems live in shared memory, counted in both).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VERSE = """Headlights on the empty road
Counting every mile we know
Radio is playing low
Take me where the rivers go
Neon signs and city rain
Whisper softly out your name
Every corner feels the same
Till you call me back again"""
CHORUS = """We are running through the midnight
Chasing down a silver light
Never looking back tonight
We are golden, we are bright"""


def three_minute_spec(preset: str) -> str:
    def block(text: str) -> str:
        return "|\n" + "\n".join("      " + l for l in text.splitlines())

    # 120 bpm 4/4: 90 bars = 180 s.
    return f"""title: Bench Song
preset: {preset}
seed: 1
key: A minor
tempo_bpm: 120
sections:
  - {{name: Intro, bars: 8}}
  - name: Verse 1
    bars: 16
    lyrics: {block(VERSE)}
  - {{name: Pre-Chorus, bars: 8}}
  - name: Chorus
    bars: 16
    lyrics: {block(CHORUS)}
  - name: Verse 2
    bars: 16
    lyrics: {block(VERSE)}
  - name: Chorus 2
    bars: 16
    lyrics: {block(CHORUS)}
  - {{name: Outro, bars: 10}}
output:
  sample_rate: 48000
  bit_depth: 24
"""


CHILD = """
import json, resource, sys, time
def cpu():
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime
t0 = time.perf_counter()
from ainur_cli import api
import ainur_cli.render  # noqa: F401  (the numeric stack: counted as import time)
import_s, import_cpu_s = time.perf_counter() - t0, cpu()
r = api.render_file(sys.argv[1], out_dir=sys.argv[2], workers=int(sys.argv[3]))
wall = time.perf_counter() - t0
print(json.dumps({"wall_s": wall, "import_s": import_s, "import_cpu_s": import_cpu_s,
                  "cpu_s": cpu(), "timings": r.timings_s, "duration_s": r.manifest["duration_s"],
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "child_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="pop")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "bench.yaml"
        spec.write_text(three_minute_spec(args.preset))
        runs = []
        for i in range(args.repeat):
            out = subprocess.run([sys.executable, "-c", CHILD, str(spec), str(Path(tmp) / f"out{i}"),
                                  str(args.jobs)], capture_output=True, text=True, check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        help_s = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "ainur_cli", "--help"], capture_output=True, check=True)
            help_s.append(time.perf_counter() - t)
    dur = runs[0]["duration_s"]
    walls = [r["wall_s"] for r in runs]
    pipeline = [r["timings"]["total"] for r in runs]
    print(f"song length            {dur:.1f} s  (preset {args.preset}, 48 kHz/24-bit, jobs={args.jobs})")
    print(f"wall time (process)    median {statistics.median(walls):.2f} s  (all: {', '.join(f'{w:.2f}' for w in walls)})")
    print(f"  incl. imports; render pipeline alone median {statistics.median(pipeline):.2f} s")
    print(f"real-time factor       {dur / statistics.median(walls):.1f}x (process)  "
          f"{dur / statistics.median(pipeline):.1f}x (pipeline)")
    med = lambda key: statistics.median(r[key] for r in runs)  # noqa: E731
    print(f"imports                median {med('import_s'):.2f} s wall, {med('import_cpu_s'):.2f} CPU-s")
    keys = runs[0]["timings"]
    stages = {k: statistics.median(r["timings"][k] for r in runs) for k in keys if not k.startswith("cpu_")}
    cpus = {k[4:]: statistics.median(r["timings"][k] for r in runs) for k in keys if k.startswith("cpu_")}
    print("stages wall (median s) " + "  ".join(f"{k} {v:.2f}" for k, v in stages.items()))
    print("stages CPU (median s)  " + "  ".join(f"{k} {v:.2f}" for k, v in cpus.items()))
    print(f"CPU total (process)    median {med('cpu_s'):.2f} CPU-s (all processes, imports included)")
    print(f"peak RSS               {max(r['rss_mib'] for r in runs):.0f} MiB (render process); "
          f"largest worker {max(r['child_rss_mib'] for r in runs):.0f} MiB")
    print(f"`ainur --help` start   median {statistics.median(help_s) * 1000:.0f} ms")


if __name__ == "__main__":
    main()

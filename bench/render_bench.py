"""Benchmark: soundfont rendering speed (and, with --levels, the level of every GM program).

Renders 6 parts x 3 minutes of dense notes at 48 kHz (drums in 16ths, bass and guitar in
8ths, piano chords in 8ths, a string pad in whole-bar 4-note chords, a flute melody) and
prints seconds of CPU per stem-minute for each part, then wall time for the whole set with
workers=1 and workers=2 (checking that both give identical audio). Not a test: figures only.

Run:  .venv/bin/python bench/render_bench.py [--minutes 3] [--soundfont fluidr3] [--repeat 2]
      .venv/bin/python bench/render_bench.py --levels [--json]   # per-program level table

The machine is shared: the load average is printed with the figures; CPU seconds per part are
less sensitive to other jobs than wall time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import time
from fractions import Fraction

import numpy as np

from ainur_cli.compose.gm import program_name
from ainur_cli.compose.types import Composition, Note, Part
from ainur_cli.engines.embedded.render import load_soundfont, render_part, render_parts
from ainur_cli.engines.embedded.soundfont import describe_soundfont, resolve_soundfont
from ainur_cli.timeline import Timeline

SAMPLE_RATE = 48000
TEMPO_BPM = 120


def dense_band(bars: int, seed: int = 7) -> Composition:
    """Six busy parts in A minor, 4/4, deterministic by ``seed``."""
    rng = np.random.default_rng(seed)
    chords = [(57, 60, 64, 69), (53, 57, 60, 65), (48, 52, 55, 60), (55, 59, 62, 67)]  # Am F C G
    drums, bass, keys, pad, guitar, lead = [], [], [], [], [], []
    for bar in range(bars):
        start = bar * 4.0
        chord = chords[bar % 4]
        for s in range(16):
            t = start + s / 4
            drums.append(Note(t, 0.25, 42, int(rng.integers(60, 100))))
            if s % 8 == 0:
                drums.append(Note(t, 0.25, 36, 115))
            if s % 8 == 4:
                drums.append(Note(t, 0.25, 38, 110))
        if bar % 8 == 0:
            drums.append(Note(start, 2.0, 49, 110))
        for e in range(8):
            t = start + e / 2
            bass.append(Note(t, 0.45, chord[0] - 24 + (7 if e % 4 == 3 else 0), 100))
            keys.extend(Note(t, 0.45, p, 80) for p in chord)
            guitar.extend(Note(t, 0.4, p - 12, 90) for p in chord[:3])
            lead.append(Note(t, 0.5, int(rng.choice(chord)) + 12, 90))
        pad.extend(Note(start, 4.0, p, 70) for p in chord)
    return Composition((
        Part("drums", 0, True, 9, tuple(drums)),
        Part("bass", 33, False, 0, tuple(bass)),
        Part("keys", 0, False, 1, tuple(keys)),
        Part("pad", 48, False, 2, tuple(pad)),
        Part("guitar", 29, False, 3, tuple(guitar)),
        Part("lead", 73, False, 4, tuple(lead)),
    ))


def speed(args: argparse.Namespace) -> None:
    sf2 = resolve_soundfont(args.soundfont)
    bars = round(args.minutes * TEMPO_BPM / 4)
    tl = Timeline.constant(Fraction(TEMPO_BPM), 4, 4, bars, SAMPLE_RATE)
    total = tl.total_samples
    minutes = total / SAMPLE_RATE / 60
    comp = dense_band(bars)
    t = time.perf_counter()
    load_soundfont(sf2)
    print(f"soundfont {describe_soundfont(sf2)['name']}: loaded in {time.perf_counter() - t:.3f} s")
    print(f"{len(comp.parts)} parts x {minutes:.2f} min at {SAMPLE_RATE} Hz; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'part':8s} {'program':28s} {'notes':>6s} {'cpu s/stem-min':>15s} {'peak':>7s}")
    cpu_total = 0.0
    for part in comp.parts:
        best = float("inf")
        for _ in range(args.repeat):
            c = time.process_time()
            audio = render_part(part, tl, sf2, total_samples=total)
            best = min(best, time.process_time() - c)
        cpu_total += best
        name = "drum kit 0" if part.is_drums else f"{part.program} {program_name(part.program)}"
        print(f"{part.name:8s} {name:28s} {len(part.notes):6d} {best / minutes:15.3f} "
              f"{np.abs(audio).max():7.3f}")
    print(f"all parts: {cpu_total / minutes / len(comp.parts):.3f} cpu s per stem-minute on average, "
          f"{cpu_total:.2f} cpu s in all")
    del audio
    digests = {}
    for workers in (1, 2):
        walls = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            stems = render_parts(comp, tl, sf2, total_samples=total, workers=workers)
            walls.append(time.perf_counter() - t)
            digests[workers] = [hashlib.sha256(a.tobytes()).hexdigest() for a in stems.values()]
            del stems
        print(f"render_parts workers={workers}: {min(walls):.2f} s wall (best of {args.repeat}; "
              f"load average {os.getloadavg()[0]:.1f})")
    print(f"workers=2 identical to workers=1: {digests[1] == digests[2]}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def levels(args: argparse.Namespace) -> None:
    """Peak and RMS (dBFS, 1 s) of one note per program: key 60 (36 for basses), velocity 100."""
    sf2 = resolve_soundfont(args.soundfont)
    tl = Timeline.constant(Fraction(60), 4, 4, 1, SAMPLE_RATE)  # one beat = 1 s
    rows = []

    def measure(part: Part) -> tuple[float, float]:
        audio = render_part(part, tl, sf2, total_samples=SAMPLE_RATE)
        peak = float(np.abs(audio).max())
        rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
        return 20 * np.log10(max(peak, 1e-9)), 20 * np.log10(max(rms, 1e-9))

    for program in range(128):
        key = 36 if 32 <= program <= 39 else 60
        peak, rms = measure(Part("p", program, False, 0, (Note(0.0, 1.0, key, 100),)))
        rows.append({"program": program, "name": program_name(program), "key": key,
                     "peak_dbfs": round(peak, 1), "rms_dbfs": round(rms, 1)})
    for key, name in ((36, "kick"), (38, "snare"), (42, "closed hat"), (49, "crash")):
        peak, rms = measure(Part("d", 0, True, 9, (Note(0.0, 1.0, key, 100),)))
        rows.append({"program": "drums", "name": name, "key": key,
                     "peak_dbfs": round(peak, 1), "rms_dbfs": round(rms, 1)})
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{describe_soundfont(sf2)['name']}: one note, velocity 100, 1 s (dBFS)")
    print(f"{'program':>7s} {'name':28s} {'key':>3s} {'peak':>6s} {'rms':>6s}")
    for r in rows:
        print(f"{r['program']!s:>7s} {r['name']:28s} {r['key']:3d} {r['peak_dbfs']:6.1f} "
              f"{r['rms_dbfs']:6.1f}")
    rms = [r["rms_dbfs"] for r in rows if r["program"] != "drums"]
    print(f"programs: rms median {np.median(rms):.1f}, range {min(rms):.1f} .. {max(rms):.1f} dBFS")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--soundfont", default=None, help="path, 'fluidr3' or 'default'")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--levels", action="store_true", help="print the level of every GM program")
    ap.add_argument("--json", action="store_true", help="with --levels: JSON rows")
    args = ap.parse_args()
    levels(args) if args.levels else speed(args)


if __name__ == "__main__":
    main()

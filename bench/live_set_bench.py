"""Benchmark of reading Ableton Live Sets (``ainur render --from-ableton``,
``ainur serve --daw ableton --ableton-set``).

Prints, for each set (the real sets in tests/data/ableton, or the ``.als`` files given):
the read time (parse, tempo map, locators, every MIDI track's played notes; median of
``--repeat``), the uncompressed XML size, tempo points, locators, MIDI tracks and notes.
Then the timing against Live: the 60 -> 120 bpm ramp over four beats of
``L12-automation.als`` (2.836 s in Live) and the locator times of
``L12-automation-intense-unaligned.als`` against dawtool's emulation of Live.

Run:  .venv/bin/python bench/live_set_bench.py [SET.als ...] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daw_bridge.ableton_set import read_live_set  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "ableton"
#: dawtool's Live emulation (its tests/test_ableton.py) for the steep, unaligned automation
DAWTOOL_S = [0.0, 0.7452763515350631, 2.335821771598745, 4.173841066076857, 5.706896019728953,
             6.905534691333889, 7.692021891450212, 8.974199935476374, 10.705147339679828]
LIVE_RAMP_S = 2.836   # 60 -> 120 bpm over four beats, measured in Live by dawtool's author


def read_all(path: Path):
    s = read_live_set(path)
    return s, s.facts(), {t: s.track_notes(t) for t in s.midi_tracks}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    sets = args.sets or sorted(DATA.glob("*.als"))
    print(f"{'set':42} {'saved by':22} {'XML MB':>7} {'read ms':>8} {'tempo':>6} "
          f"{'locators':>8} {'MIDI tracks':>11} {'notes':>6}")
    for path in sets:
        raw = path.read_bytes()
        xml_mb = len(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw) / 1e6
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            s, facts, notes = read_all(path)
            times.append(time.perf_counter() - t0)
        print(f"{path.name[:42]:42} {s.creator[:22]:22} {xml_mb:7.2f} "
              f"{statistics.median(times) * 1000:8.1f} {len(facts.tempo):6d} "
              f"{len(facts.markers):8d} {len(s.midi_tracks):11d} "
              f"{sum(len(n) for n in notes.values()):6d}")
    if args.sets:
        return
    facts = read_live_set(DATA / "L12-automation.als").facts()
    ramp = float(facts.beat_to_seconds(8) - facts.beat_to_seconds(4))
    print(f"\nramp 60 -> 120 bpm over 4 beats: {ramp:.4f} s (Live: {LIVE_RAMP_S} s; the exact "
          f"straight line: 2.7726 s)")
    facts = read_live_set(DATA / "L12-automation-intense-unaligned.als").facts()
    got = [float(facts.beat_to_seconds(m.beat)) for m in facts.markers]
    worst = max(abs(a - b) for a, b in zip(got, DAWTOOL_S))
    print(f"19 unaligned tempo points: 9 locator times, largest difference from dawtool's Live "
          f"emulation {worst * 1e6:.3f} us")


if __name__ == "__main__":
    main()

"""Ardour adapter figures against a real headless Ardour (ardour7-lua, dummy backend, OSC).

    .venv/bin/python bench/ardour_bench.py [--markers 16]

Prints: session creation and load times, the OSC health round trip, reading N markers over
OSC (seconds per marker), the whole ``read_session``, placing section markers over OSC, and
the offline import of the stems through ``ardour7-lua``. Everything runs in a temp folder with
a private Ardour config and is torn down at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ainur_cli.api import render_song  # noqa: E402
from ainur_cli.spec import parse_spec_text  # noqa: E402

from daw_bridge.ardour import ArdourAdapter  # noqa: E402
from daw_bridge.ardour_session import SessionEdit  # noqa: E402
from daw_bridge.placement import load_manifest, placement_from_manifest  # noqa: E402
from daw_bridge.session_spec import song_from_facts  # noqa: E402
from tests.bridge.ardour_fixture import (  # noqa: E402
    HeadlessArdour,
    create_session,
    enable_osc,
    private_env,
)

BASE = """\
title: Ardour Bench
preset: pop
seed: 1
sections:
  - {name: Intro, bars: 2}
output: {sample_rate: 48000, bit_depth: 16, parts: [drums, bass]}
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--markers", type=int, default=16, help="markers in the session (2 bars apart)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ainur-ardour-bench-") as tmp:
        root = Path(tmp)
        env = private_env(root)
        beats = [8 * (i + 1) for i in range(args.markers)]
        t = time.monotonic()
        file, samples = create_session(root, "Bench", sample_rate=48000, tempo=[(0, 120)],
                                       meters=[], track="Guide", beats=beats + [beats[-1] + 8],
                                       env=env)
        print(f"create session (ardour7-lua):          {time.monotonic() - t:6.2f} s")
        edit = SessionEdit(file)
        for i, b in enumerate(beats):
            edit.add_marker(f"Verse {i + 1}" if i % 2 == 0 else f"Chorus {i + 1}", samples[b])
        edit.add_marker("End", samples[beats[-1] + 8])
        edit.save()
        enable_osc(file)
        host = HeadlessArdour(file, root, env).start()
        print(f"load in headless Ardour, OSC up:        {host.start_s:6.2f} s")
        a = ArdourAdapter(port=host.port, session=file, timeout_s=2.0)
        try:
            t = time.monotonic()
            assert a.health().ok
            print(f"health (/transport_frame round trip):  {(time.monotonic() - t) * 1000:6.1f} ms")
            t = time.monotonic()
            live = a.osc_markers(expected=len(beats) + 1)
            dt = time.monotonic() - t
            print(f"read {len(live)} markers over OSC:            {dt:6.2f} s "
                  f"({dt / len(live) * 1000:.0f} ms a marker)")
            t = time.monotonic()
            facts = a.read_session()
            print(f"read_session (OSC + session file):     {time.monotonic() - t:6.2f} s")
            song = song_from_facts(facts, base=parse_spec_text(BASE))
            out = render_song(song.spec, out_dir=root / "render").out_dir
            manifest = load_manifest(out)
            later = placement_from_manifest(manifest, out, session=facts,
                                            at_bar=len(beats) * 2 + 8)
            t = time.monotonic()
            res = a.place(later)
            print(f"place {len(res.details['markers_added'])} markers over OSC (+ checks):  "
                  f"{time.monotonic() - t:6.2f} s")
        finally:
            a.close()
        t = time.monotonic()
        host.stop(save=True)
        print(f"save + close headless Ardour:          {time.monotonic() - t:6.2f} s")
        a = ArdourAdapter(port=host.port, session=file, timeout_s=0.3, place_mode="offline")
        try:
            p = placement_from_manifest(manifest, out, session=facts,
                                        session_start_beat=song.start_beat)
            t = time.monotonic()
            res = a.place(p)
            print(f"offline import of {len(res.tracks)} stems (ardour7-lua): {time.monotonic() - t:6.2f} s")
        finally:
            a.close()


if __name__ == "__main__":
    main()

"""How long putting a 3-minute render back into a DAW takes: the Placement (manifest + every
file's header checked), the .RPP, the .dawproject (audio embedded / referenced), the whole
``ainur place`` command, and the REAPER Lua importer run by Lua 5.4 in the ReaScript simulator.

    .venv/bin/python bench/place_bench.py [--render DIR] [--repeat N]

Without ``--render`` it first renders bench/song_bench.py's 3:00 pop song (48 kHz, 24-bit)
into a temporary folder. Prints one line per figure (median of ``--repeat`` runs).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))


def _median_s(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--render", type=Path, help="a finished render to place (default: render one)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from daw_bridge.dawproject import write_dawproject
    from daw_bridge.placement import load_manifest, placement_from_manifest, reaper_import_job
    from daw_bridge.rpp import write_rpp

    tmp = Path(tempfile.mkdtemp(prefix="ainur-place-bench-"))
    try:
        render = args.render
        if render is None:
            from ainur_cli import api
            from song_bench import three_minute_spec

            spec = tmp / "bench.yaml"
            spec.write_text(three_minute_spec("pop"), encoding="utf-8")
            t = time.perf_counter()
            render = api.render_file(spec, out_dir=tmp / "render").out_dir
            print(f"render (setup, not a figure): {time.perf_counter() - t:.1f} s")
        manifest = load_manifest(render)
        n_files = len(manifest["files"])
        size_mb = sum((Path(render) / f["path"]).stat().st_size for f in manifest["files"]) / 1e6
        print(f"render: {manifest['duration_s']:.1f} s song, {n_files} files, {size_mb:.0f} MB")

        s, p = _median_s(lambda: placement_from_manifest(manifest, render, at_bar=17), args.repeat)
        print(f"placement (manifest + {n_files} file headers): {s * 1000:.1f} ms")
        out = tmp / "out"
        out.mkdir()
        s, _ = _median_s(lambda: write_rpp(p, out / "song.RPP", force=True), args.repeat)
        print(f".RPP write: {s * 1000:.1f} ms ({(out / 'song.RPP').stat().st_size} bytes)")
        s, _ = _median_s(lambda: write_dawproject(p, out / "emb.dawproject", force=True), args.repeat)
        mb = (out / "emb.dawproject").stat().st_size / 1e6
        print(f".dawproject write, audio embedded: {s:.2f} s ({mb:.0f} MB)")
        s, _ = _median_s(lambda: write_dawproject(p, out / "ref.dawproject", embed_audio=False,
                                                  force=True), args.repeat)
        print(f".dawproject write, audio referenced: {s * 1000:.1f} ms "
              f"({(out / 'ref.dawproject').stat().st_size} bytes)")

        def cli():
            copy = tmp / "cli"
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(render, copy)
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "ainur_cli", "-q", "place", str(copy),
                            "--at-bar", "17"], check=True, cwd=REPO)
            return time.perf_counter() - t

        print(f"`ainur place DIR --at-bar 17` (process, both files): "
              f"{statistics.median(cli() for _ in range(args.repeat)):.2f} s")

        lua = shutil.which("lua5.4")
        if lua is None:
            print("lua importer: not measured (lua5.4 is not installed)")
            return
        job = tmp / "job.txt"
        job.write_text(reaper_import_job(p, "bench", with_mix=True), encoding="utf-8")
        driver = tmp / "driver.lua"
        driver.write_text(
            f"local sim = dofile({str(REPO / 'tests/bridge/reaper_api_sim.lua')!r})\n"
            f"sim.setup({{ext = {{['ainur/job'] = {str(job)!r}}}}})\n"
            f"dofile({str(REPO / 'daw_bridge/scripts/ainur_import.lua')!r})\n"
            "io.write(sim.dump())\n", encoding="utf-8")
        s, _ = _median_s(lambda: subprocess.run([lua, str(driver)], check=True,
                                                capture_output=True), args.repeat)
        print(f"lua importer in the ReaScript simulator ({n_files} tracks, "
              f"{len(p.sections)} markers, incl. interpreter start): {s * 1000:.1f} ms")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

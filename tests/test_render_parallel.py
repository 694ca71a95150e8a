"""Rendering with worker processes gives the very same files as rendering in one process.

The stems (instruments and the sung vocals, each through its strip) are jobs in a process
pool when ``workers > 1``: forked workers writing into shared memory when the process runs a
single thread, pickled results from a forkserver pool while another thread runs (as under
the CLI's progress display). Every path must produce byte-identical files and manifests.

Each render runs in a fresh interpreter: the singing voice's espeak-ng keeps a little state
between utterances in a long-lived process (see ainur_cli/voice/espeak.py), which is not
what is tested here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import write_song

RENDER = """
import json, sys, threading
from ainur_cli import api
spec, out, workers, thread, parts = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
if thread == "thread":   # another thread running: the forkserver path
    stop = threading.Event()
    threading.Thread(target=stop.wait, daemon=True).start()
overrides = {"parts": parts} if parts else None
r = api.render_file(spec, out_dir=out, workers=workers, overrides=overrides)
if thread == "thread":
    stop.set()
print(json.dumps({"manifest": r.manifest, "timings": r.timings_s}))
"""


def _render(spec: Path, out: Path, workers: int, thread: bool = False, parts: str = "") -> dict:
    proc = subprocess.run([sys.executable, "-c", RENDER, str(spec), str(out), str(workers),
                           "thread" if thread else "-", parts],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["files"] = {f["path"]: (out / f["path"]).read_bytes()
                       for f in result["manifest"]["files"]}
    return result


def test_workers_and_start_methods_give_identical_files(tmp_path):
    spec = write_song(tmp_path)
    serial = _render(spec, tmp_path / "serial", 1)
    assert any(f["part"] == "vocals" for f in serial["manifest"]["files"])
    forked = _render(spec, tmp_path / "forked", 2)
    assert {"cpu_render", "cpu_vocals", "cpu_mix"} <= set(forked["timings"])
    assert forked["files"] == serial["files"]
    assert forked["manifest"] == serial["manifest"]
    pickled = _render(spec, tmp_path / "pickled", 3, thread=True)
    assert pickled["files"] == serial["files"]


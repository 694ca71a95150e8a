"""Interrupt a real `ainur batch` run after its first finished job (SIGKILL of the batch
process = a crash; SIGINT to its process group = Ctrl-C), then resume: finished jobs are not
redone, nothing unfinished looks finished, and every output is complete."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.batch.conftest import REPO, cli_args, read_batch, run_cli, write_tiny_song
from tests.batch.test_batch_run import check_render

psutil = pytest.importorskip("psutil")

SEEDS = "1-4"
NAMES = [f"resume-me/pop/seed-{n}" for n in range(1, 5)]


def _wait_first_done(out, proc, timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the batch ended before it could be interrupted"
        try:
            if read_batch(out)["counts"]["done"] >= 1:
                return
        except (OSError, ValueError, KeyError):
            pass   # not written yet (it is replaced atomically, so never half-written)
        time.sleep(0.05)
    pytest.fail("no job finished in time")


def _ctrl_c_as_in_a_terminal() -> None:
    """In the child: SIGINT back to its default. A test run started as a background job
    (``make test &``, some CI runners) ignores SIGINT, and a child inherits that: the batch
    would finish instead of stopping (Python keeps an ignored SIGINT ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
def test_interrupt_then_resume(tmp_path, how, presets_dir):
    song = write_tiny_song(tmp_path, "resume-me", bars=(1, 1))
    out = tmp_path / "out"
    proc = subprocess.Popen(cli_args("batch", str(song), "--seeds", SEEDS, "-j", "1",
                                     "--out", str(out), "--presets-dir", str(presets_dir)),
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, preexec_fn=_ctrl_c_as_in_a_terminal)
    _wait_first_done(out, proc)
    workers = psutil.Process(proc.pid).children(recursive=True)
    if how == "SIGKILL":
        os.kill(proc.pid, signal.SIGKILL)          # the batch process dies mid-run
    else:
        os.killpg(proc.pid, signal.SIGINT)          # Ctrl-C reaches the whole process group
    _, stderr = proc.communicate(timeout=60)
    if how == "SIGINT":
        assert proc.returncode == 130, stderr.decode()[-2000:]
        assert read_batch(out)["interrupted"] is True
        assert b"Traceback" not in stderr
    else:
        assert proc.returncode == -signal.SIGKILL
    # Its workers go too (no orphan keeps rendering into the folders).
    gone, alive = psutil.wait_procs(workers, timeout=15)
    assert not alive, alive

    # Whatever is in a job's final folder is finished and complete; partial work is hidden.
    finished = {}
    for name in NAMES:
        folder = out / name
        if folder.exists():
            check_render(folder)
            finished[name] = (folder / "manifest.json").stat()
    assert 1 <= len(finished) < len(NAMES)
    record = read_batch(out)
    assert {j["name"] for j in record["jobs"] if j["status"] == "done"} <= set(finished)

    resumed = run_cli("batch", str(song), "--seeds", SEEDS, "-j", "2", "--out", str(out),
                      "--presets-dir", str(presets_dir))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    record = read_batch(out)
    status = {j["name"]: j["status"] for j in record["jobs"]}
    assert {n for n, s in status.items() if s == "skipped"} == set(finished)
    assert {n for n, s in status.items() if s == "done"} == set(NAMES) - set(finished)
    for name in NAMES:
        check_render(out / name, next(j["spec_hash"] for j in record["jobs"] if j["name"] == name))
    for name, st in finished.items():   # no duplicate work: finished renders were not touched
        now = (out / name / "manifest.json").stat()
        assert (now.st_ino, now.st_mtime_ns) == (st.st_ino, st.st_mtime_ns)
    leftovers = [p for p in (out / "resume-me" / "pop").iterdir() if p.name.startswith(".")]
    assert leftovers == []   # staging folders of the interrupted job were cleared

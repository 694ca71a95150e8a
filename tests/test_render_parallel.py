"""Rendering with worker processes gives the very same files as rendering in one process.

The stems (instruments and the sung vocals, each through its strip) are jobs in a process
pool when ``workers > 1``: forked workers writing into shared memory when this process runs a
single thread, pickled results from a forkserver pool while another thread runs (as under
the CLI's progress display). Every path must produce byte-identical files and manifests.
"""

from __future__ import annotations

import threading

from ainur_cli import api
from tests.conftest import write_song


def _files(result) -> dict[str, bytes]:
    return {f["path"]: (result.out_dir / f["path"]).read_bytes() for f in result.manifest["files"]}


def test_workers_and_start_methods_give_identical_files(tmp_path, short_render):
    spec_path, serial = short_render          # workers=1: everything in this process
    assert any(f["part"] == "vocals" for f in serial.manifest["files"])
    forked = api.render_file(spec_path, out_dir=tmp_path / "forked", workers=2)
    assert {"cpu_render", "cpu_vocals", "cpu_mix"} <= set(forked.timings_s)
    assert _files(forked) == _files(serial)
    assert forked.manifest == serial.manifest

    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)  # forces the forkserver path
    other.start()
    try:
        pickled = api.render_file(spec_path, out_dir=tmp_path / "pickled", workers=3)
    finally:
        stop.set()
        other.join()
    assert _files(pickled) == _files(serial)


def test_parallel_render_with_a_part_subset(tmp_path):
    spec_path = write_song(tmp_path)
    overrides = {"parts": "drums,lead,vocals"}
    one = api.render_file(spec_path, overrides=overrides, out_dir=tmp_path / "one")
    two = api.render_file(spec_path, overrides=overrides, out_dir=tmp_path / "two", workers=2)
    assert [f["part"] for f in two.manifest["files"]] == ["mix", "drums", "lead", "vocals"]
    assert _files(one) == _files(two)

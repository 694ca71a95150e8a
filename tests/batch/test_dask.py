"""The Dask executor on a real local cluster (2 worker processes) renders the same bytes as
the local executor, and reports each job like it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ainur_cli.batch import plan_jobs, run_batch

distributed = pytest.importorskip("distributed")


def _files(root: Path) -> dict[str, bytes]:
    """Every file of a render except its report (which is written after it)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "report.html" and "report" not in p.relative_to(root).parts}


def test_dask_cluster_gives_the_same_bytes(local_batch, batch_songs, presets_dir, tmp_path):
    local_out, proc = local_batch
    assert proc.returncode == 0
    from ainur_cli.batch.dask_executor import DaskExecutor

    dirs = [presets_dir]
    jobs = plan_jobs(batch_songs, tmp_path / "dask", presets=["pop", "house"], presets_dirs=dirs)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        result = run_batch(jobs, DaskExecutor(cluster.scheduler_address), tmp_path / "dask",
                           presets_dirs=dirs)
    assert result.ok and result.counts()["done"] == 4, result.to_json()
    workers = {o.worker for o in result.outcomes.values()}
    assert len(workers) == 2 and all(w.startswith("tcp://") for w in workers)
    for job in jobs:
        mine, theirs = _files(job.out_dir), _files(local_out / job.name)
        assert any(k.endswith(".wav") for k in mine) and "manifest.json" in mine
        assert mine.keys() == theirs.keys()
        for name in mine:
            assert mine[name] == theirs[name], f"{job.name}/{name} differs"

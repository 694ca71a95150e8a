"""Batch rendering: songs x presets x seeds, in parallel, resumable, failures kept per job.

Public surface::

    jobs = plan_jobs(["a.yaml", "b.yaml"], "renders/batch", presets=["pop", "rock"], seeds=[1, 2])
    result = run_batch(jobs, LocalExecutor(workers=2), "renders/batch")
    result.ok, result.counts(), result.to_json()   # also in renders/batch/batch.json

``DaskExecutor(scheduler="tcp://host:8786")`` runs the same jobs on a Dask cluster.
"""

from ainur_cli.batch.events import JobFinished, JobProgress, JobStarted
from ainur_cli.batch.jobs import BatchJob, JobTask, parse_presets, parse_seeds, plan_jobs
from ainur_cli.batch.local import LocalExecutor
from ainur_cli.batch.runner import BATCH_JSON, BatchResult, load_batch_json, run_batch
from ainur_cli.batch.work import JobOutcome, execute_job


def make_executor(kind: str, *, workers: int | None = None, scheduler: str | None = None):
    """``local`` → :class:`LocalExecutor`; ``dask`` → :class:`DaskExecutor`."""
    if kind == "local":
        return LocalExecutor(workers)
    if kind == "dask":
        from ainur_cli.batch.dask_executor import DaskExecutor

        return DaskExecutor(scheduler, workers)
    from ainur_cli.errors import AinurError

    raise AinurError("unknown executor", field="--executor", value=kind, allowed="local, dask")


__all__ = [
    "BATCH_JSON", "BatchJob", "BatchResult", "JobFinished", "JobOutcome", "JobProgress",
    "JobStarted", "JobTask", "LocalExecutor", "execute_job", "load_batch_json", "make_executor",
    "parse_presets", "parse_seeds", "plan_jobs", "run_batch",
]

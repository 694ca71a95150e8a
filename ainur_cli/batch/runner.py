"""The batch runner: decide what to render, hand it to an executor, record every outcome.

Resumable: a job whose folder holds a finished render (``manifest.json`` with all its files)
of the same ``spec_hash`` and Ainur version is skipped unless ``force``. ``batch.json`` in the
batch root is rewritten atomically (temporary file + rename) after every job, so even a killed
batch leaves a readable record; the renders themselves are staged by
:func:`ainur_cli.outdir.staged_output` and never look finished when interrupted.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from ainur_cli import __version__
from ainur_cli.batch.events import Event, Executor, JobFinished, OnEvent
from ainur_cli.batch.jobs import BatchJob, JobTask, finished_manifest, is_up_to_date, mix_figures
from ainur_cli.batch.work import CANCELLED, DONE, FAILED, SKIPPED, JobOutcome
from ainur_cli.errors import ExportError

log = logging.getLogger(__name__)

BATCH_JSON = "batch.json"
PENDING = "pending"
STATUSES = (DONE, SKIPPED, FAILED, CANCELLED, PENDING)


@dataclass
class BatchResult:
    """Every job of a batch with its outcome (``pending`` if it never ran)."""

    out_root: Path
    jobs: list[BatchJob]
    executor: str
    outcomes: dict[str, JobOutcome] = field(default_factory=dict)
    started_at: str = ""
    wall_s: float = 0.0
    interrupted: bool = False

    def status(self, job: BatchJob) -> str:
        o = self.outcomes.get(job.name)
        return o.status if o is not None else PENDING

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for job in self.jobs:
            counts[self.status(job)] += 1
        return counts

    @property
    def ok(self) -> bool:
        """True when every job is done or skipped."""
        return all(self.status(j) in (DONE, SKIPPED) for j in self.jobs)

    def to_json(self) -> dict:
        rows = []
        for job in self.jobs:
            o = self.outcomes.get(job.name) or JobOutcome(job.name, PENDING, spec_hash=job.spec_hash)
            row = {"name": job.name, "song": str(job.song),
                   "out_dir": _relative(job.out_dir, self.out_root),
                   "preset": job.preset, "seed": job.seed}
            row.update(o.to_json())
            row["time_s"] = round(row["time_s"], 3)
            rows.append(row)
        return {
            "ainur_version": __version__,
            "executor": self.executor,
            "started_at": self.started_at,
            "wall_s": round(self.wall_s, 3),
            "interrupted": self.interrupted,
            "counts": self.counts(),
            "jobs": rows,
        }


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def write_json_atomic(path: Path, data: dict) -> None:
    """Write ``data`` as JSON to ``path`` through a temporary file renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, ensure_ascii=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def plan_tasks(jobs: Sequence[BatchJob], *, force: bool, report: bool,
               presets_dirs: Sequence[str | Path] = ()) -> tuple[list[JobTask], dict[str, JobOutcome]]:
    """Split jobs into tasks to run and outcomes known already (planning errors, up to date)."""
    tasks: list[JobTask] = []
    known: dict[str, JobOutcome] = {}
    dirs = tuple(str(d) for d in presets_dirs)
    for job in jobs:
        if job.error is not None:
            known[job.name] = JobOutcome(job.name, FAILED, error=job.error)
            continue
        manifest = None if force else finished_manifest(job.out_dir)
        if is_up_to_date(job, manifest):
            has_report = (job.out_dir / "report.html").is_file()
            if not report or has_report:
                known[job.name] = JobOutcome(job.name, SKIPPED, spec_hash=job.spec_hash,
                                             report="report.html" if has_report else None,
                                             **mix_figures(manifest))
                continue
        tasks.append(JobTask(job, force=force, presets_dirs=dirs, report=report))
    return tasks, known


def run_batch(jobs: Sequence[BatchJob], executor: Executor, out_root: str | Path, *,
              force: bool = False, report: bool = False, presets_dirs: Sequence[str | Path] = (),
              on_event: OnEvent | None = None) -> BatchResult:
    """Run ``jobs`` (from :func:`ainur_cli.batch.jobs.plan_jobs`) on ``executor``.

    :param force: re-render jobs whose finished render is up to date.
    :param report: write each job's HTML report and the batch index page.
    :param on_event: called (in this thread) for every start, progress and end of a job;
        skipped jobs and jobs whose spec failed to plan are reported first.
    :returns: the result, also written to ``<out_root>/batch.json``.
    :raises KeyboardInterrupt: after recording the jobs finished so far in batch.json.
    """
    root = Path(out_root).resolve()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"cannot create the batch folder: {e.strerror or e}", file=str(root),
                          allowed="a folder you can write to (--out DIR)") from None
    result = BatchResult(root, list(jobs), executor.name,
                         started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    t0 = time.perf_counter()
    tasks, known = plan_tasks(jobs, force=force, report=report, presets_dirs=presets_dirs)

    def record(event: Event) -> None:
        if isinstance(event, JobFinished):
            result.outcomes[event.outcome.name] = event.outcome
            result.wall_s = time.perf_counter() - t0
            write_json_atomic(root / BATCH_JSON, result.to_json())
        if on_event is not None:
            on_event(event)

    for outcome in known.values():
        result.outcomes[outcome.name] = outcome
        if on_event is not None:
            on_event(JobFinished(outcome))
    write_json_atomic(root / BATCH_JSON, result.to_json())
    log.info("batch: %d jobs, %d to run, %d known (%s executor)", len(jobs), len(tasks),
             len(known), executor.name)
    try:
        executor.run(tasks, record)
    except KeyboardInterrupt:
        result.interrupted = True
        result.wall_s = time.perf_counter() - t0
        write_json_atomic(root / BATCH_JSON, result.to_json())
        raise
    result.wall_s = time.perf_counter() - t0
    if report:
        try:
            from ainur_cli.report import write_batch_index

            write_batch_index(root, result.to_json())
        except Exception:  # the renders are fine; the page is a convenience
            log.exception("the batch index page could not be written")
    write_json_atomic(root / BATCH_JSON, result.to_json())
    return result


def load_batch_json(out_root: str | Path) -> dict:
    """Read ``<out_root>/batch.json`` (raises ExportError naming the file when unreadable)."""
    path = Path(out_root) / BATCH_JSON
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ExportError(f"cannot read the batch record: {e}", file=str(path),
                          allowed="a batch.json written by `ainur batch`") from None
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), list):
        raise ExportError("not a batch record", file=str(path),
                          allowed="a batch.json written by `ainur batch`")
    return data

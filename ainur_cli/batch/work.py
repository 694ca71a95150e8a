"""Running one batch job inside a worker (a local worker process or a Dask worker).

:func:`execute_job` calls the public API (:func:`ainur_cli.api.render_song`), never a
subprocess. It never raises for a job's own failure: it returns a :class:`JobOutcome`, so a
bad spec, a missing preset or an engine error stay with their job.
"""

from __future__ import annotations

import logging
import shutil
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from ainur_cli.batch.jobs import (JobTask, finished_manifest, is_up_to_date, load_song,
                                  mix_figures)
from ainur_cli.errors import AinurError

log = logging.getLogger(__name__)

DONE, SKIPPED, FAILED, CANCELLED = "done", "skipped", "failed", "cancelled"


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended.

    status:          done | skipped | failed | cancelled
    time_s:          wall time of the render in seconds (0 for skipped)
    integrated_lufs: the mix's integrated loudness from the manifest (None if no render)
    true_peak_dbtp:  the mix's true peak from the manifest
    error:           one-line reason for failed/cancelled (a note for done when only the
                     report failed)
    report:          path of the HTML report, relative to the job folder, if one was written
    worker:          who ran it (``pid 1234`` or a Dask worker address)
    """

    name: str
    status: str
    time_s: float = 0.0
    spec_hash: str | None = None
    integrated_lufs: float | None = None
    true_peak_dbtp: float | None = None
    error: str | None = None
    report: str | None = None
    worker: str | None = None

    def to_json(self) -> dict:
        return asdict(self)


def clear_stale_staging(out_dir: Path) -> None:
    """Remove staging folders a killed render left beside ``out_dir`` (``.<name>.tmp-*``,
    ``.<name>.old-*``). They never look finished; this only reclaims the space."""
    parent = out_dir.parent
    if not parent.is_dir():
        return
    for pattern in (f".{out_dir.name}.tmp-*", f".{out_dir.name}.old-*"):
        for p in parent.glob(pattern):
            shutil.rmtree(p, ignore_errors=True)


def execute_job(task: JobTask, *, progress: Callable[[str, float], None] | None = None,
                cancel: Callable[[], bool] | None = None, worker: str | None = None) -> JobOutcome:
    """Render ``task.job`` into its folder (and its report if asked); never raises for the job.

    :param progress: called with ``(stage, fraction 0..1)`` as the render goes.
    :param cancel: polled between stages; True abandons the job with nothing written.
    """
    from ainur_cli import api

    job = task.job
    if job.error is not None:
        return JobOutcome(job.name, FAILED, spec_hash=job.spec_hash, error=job.error, worker=worker)
    t0 = time.perf_counter()
    try:
        existing = finished_manifest(job.out_dir)
        if not task.force and is_up_to_date(job, existing):
            # Another run finished it meanwhile (e.g. a retried Dask task): no duplicate work.
            report = _report(job.out_dir) if task.report else None
            return JobOutcome(job.name, SKIPPED, spec_hash=job.spec_hash,
                              report=report, worker=worker, **mix_figures(existing))
        clear_stale_staging(job.out_dir)
        spec, _ = load_song(job.song, job.overrides())   # (its notes were shown when planned)
        result = api.render_song(spec, out_dir=job.out_dir, force=existing is not None,
                                 presets_dirs=task.presets_dirs, progress=progress, cancel=cancel)
    except api.Cancelled as e:
        return JobOutcome(job.name, CANCELLED, time_s=time.perf_counter() - t0,
                          spec_hash=job.spec_hash, error=e.message, worker=worker)
    except AinurError as e:
        return JobOutcome(job.name, FAILED, time_s=time.perf_counter() - t0,
                          spec_hash=job.spec_hash, error=e.format(), worker=worker)
    except Exception as e:  # a bug, kept to this job; the traceback goes to the log
        log.error("job %s crashed:\n%s", job.name, traceback.format_exc())
        return JobOutcome(job.name, FAILED, time_s=time.perf_counter() - t0,
                          spec_hash=job.spec_hash,
                          error=f"internal error ({type(e).__name__}: {e})", worker=worker)
    elapsed = time.perf_counter() - t0
    manifest = result.manifest
    note, report = None, None
    if task.report:
        try:
            report = _report(result.out_dir)
        except Exception as e:  # the render itself is fine; say what went wrong with the page
            log.error("report for %s failed:\n%s", job.name, traceback.format_exc())
            note = f"report failed ({type(e).__name__}: {e})"
    return JobOutcome(job.name, DONE, time_s=elapsed, spec_hash=manifest.get("spec_hash"),
                      error=note, report=report, worker=worker, **mix_figures(manifest))


def _report(render_dir: Path) -> str:
    from ainur_cli.report import write_report

    return write_report(render_dir).relative_to(render_dir).as_posix()

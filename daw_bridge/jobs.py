"""Render jobs of ``ainur serve``: a FIFO queue with one worker thread, and the runner that
builds the spec, renders, and puts the stems back.

A job is created on the receiving thread (cheap: it only records the request, whose paths
were already confined to the root) and run on the worker thread, so a slow spec, a slow DAW
or a long render never blocks packet handling. Jobs run one at a time in arrival order; a
queued job is cancelled at once, a running one at the render's next stage (``api.render_song``
polls ``cancel`` between stages and raises ``api.Cancelled`` with nothing written).

Kinds: ``render`` (a song.yaml), ``session`` (the DAW's session through the adapter),
``section`` (one section of a song.yaml again, at its position in the full song), ``place``
(a finished render put back into the DAW).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from ainur_cli.errors import AinurError, BridgeError

from daw_bridge.adapter import PlaceResult

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
Cancel = Callable[[], bool]

JOB_KINDS = ("render", "session", "section", "place")
MAX_QUEUED = 16


@dataclass
class Job:
    """One request: ``kind`` (see :data:`JOB_KINDS`), its checked arguments, and where its
    replies go (``reply_to`` = host, port)."""

    id: int
    kind: str
    args: dict[str, Any]
    reply_to: tuple[str, int]
    cancel_event: threading.Event = field(default_factory=threading.Event)
    state: str = "queued"          # queued, running, done, failed, cancelled
    stage: str = "queued"
    fraction: float = 0.0
    queued_at_s: float = field(default_factory=time.monotonic)

    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def describe(self) -> str:
        """e.g. ``render songs/a.yaml`` (for status replies and logs)."""
        what = self.args.get("spec_text") or self.args.get("render_text") or ""
        if self.kind == "section":
            what = f"{what} [{self.args.get('section')}]"
        if self.kind == "session":
            what = self.args.get("title") or "DAW session"
        return f"{self.kind} {what}".strip()


@dataclass(frozen=True)
class JobResult:
    """A finished job: the render folder, what placing did, and the song sample at which the
    render's files start (0 for a whole song; the section's first sample for a section)."""

    out_dir: Path
    place: PlaceResult | None
    start_sample: int = 0


class JobEvents(Protocol):
    """What the server does when a job moves on (called on the worker thread, except
    ``cancelled`` for a queued job, which is called by whoever cancelled it)."""

    def started(self, job: Job) -> None: ...
    def progress(self, job: Job, stage: str, fraction: float) -> None: ...
    def done(self, job: Job, result: JobResult) -> None: ...
    def failed(self, job: Job, error: BaseException) -> None: ...
    def cancelled(self, job: Job) -> None: ...


class JobQueue:
    """FIFO of jobs with one worker thread running ``run(job, progress) -> JobResult``.

    :param max_queued: waiting jobs beyond this are refused (a flood of valid render
        requests must not grow memory without bound).
    """

    def __init__(self, run: Callable[[Job, Progress], JobResult], events: JobEvents,
                 max_queued: int = MAX_QUEUED) -> None:
        self._run = run
        self._events = events
        self.max_queued = int(max_queued)
        self._queue: collections.deque[Job] = collections.deque()
        self._running: Job | None = None
        self._cond = threading.Condition()
        self._next_id = 1
        self._stopping = False
        self._thread = threading.Thread(target=self._work, name="ainur-render", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, kind: str, args: dict[str, Any], reply_to: tuple[str, int],
               announce: Callable[[Job], None] | None = None) -> Job:
        """Queue a job; ``announce(job)`` runs before the worker can see it (so a "queued"
        reply always precedes the job's progress). :raises BridgeError: when the queue is
        full or shutting down."""
        if kind not in JOB_KINDS:
            raise BridgeError("unknown job kind", value=kind, allowed=", ".join(JOB_KINDS))
        with self._cond:
            if self._stopping:
                raise BridgeError("the server is shutting down; no new jobs")
            if len(self._queue) >= self.max_queued:
                raise BridgeError("the render queue is full", value=len(self._queue),
                                  allowed=f"at most {self.max_queued} waiting jobs; "
                                          "wait for /ainur/done or cancel some")
            job = Job(self._next_id, kind, dict(args), reply_to)
            self._next_id += 1
            if announce is not None:
                announce(job)
            self._queue.append(job)
            self._cond.notify()
        return job

    def snapshot(self) -> tuple[Job | None, list[Job]]:
        """``(running job or None, queued jobs in order)``."""
        with self._cond:
            return self._running, list(self._queue)

    def cancel(self, job_id: int | None = None) -> list[Job]:
        """Cancel job ``job_id`` (None: the running one). Returns the jobs asked to stop; a
        queued job is removed and reported cancelled at once, a running one stops at the
        render's next stage (reported by the worker)."""
        with self._cond:
            if job_id is None:
                targets = [self._running] if self._running is not None else []
            else:
                targets = [j for j in [self._running, *self._queue]
                           if j is not None and j.id == job_id]
            queued = [j for j in targets if j in self._queue]
            for j in queued:
                self._queue.remove(j)
                j.state = "cancelled"
            for j in targets:
                j.cancel_event.set()
        for j in queued:
            self._events.cancelled(j)
        return targets

    def cancel_all(self) -> list[Job]:
        """Cancel the running job and every queued one."""
        with self._cond:
            running, queued = self._running, list(self._queue)
            self._queue.clear()
            for j in queued:
                j.state = "cancelled"
                j.cancel_event.set()
            if running is not None:
                running.cancel_event.set()
        for j in queued:
            self._events.cancelled(j)
        return ([running] if running is not None else []) + queued

    def stop(self, timeout_s: float = 60.0) -> bool:
        """Refuse new jobs, cancel everything, wait for the worker; True when it stopped."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self.cancel_all()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        return not self._thread.is_alive()

    # -- the worker -----------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                job = self._queue.popleft()
                self._running = job
                job.state = "running"
            try:
                report = self._run_one(job)
            finally:
                with self._cond:
                    self._running = None
            try:
                report()  # after the job left "running", so a status reply never shows it
            except Exception:  # noqa: BLE001 - a failing reply must not stop the worker
                log.exception("reporting the end of job %d failed", job.id)

    def _run_one(self, job: Job) -> Callable[[], None]:
        """Run ``job``; returns the event call that reports how it ended."""
        from ainur_cli.api import Cancelled

        def progress(stage: str, fraction: float) -> None:
            job.stage, job.fraction = stage, float(fraction)
            self._events.progress(job, stage, float(fraction))

        log.info("job %d started: %s", job.id, job.describe())
        try:
            self._events.started(job)
            if job.cancelled():
                raise Cancelled("cancelled before it started", field="render")
            result = self._run(job, progress)
        except Cancelled:
            job.state = "cancelled"
            log.info("job %d cancelled", job.id)
            return lambda: self._events.cancelled(job)
        except Exception as e:  # noqa: BLE001 - a failing job must never stop the worker
            job.state = "failed"
            if isinstance(e, AinurError):
                log.info("job %d failed: %s", job.id, e.format())
            else:
                log.exception("job %d failed with an internal error", job.id)
            error = e
            return lambda: self._events.failed(job, error)
        job.state = "done"
        log.info("job %d done: %s", job.id, result.out_dir)
        return lambda: self._events.done(job, result)


def describe_error(e: BaseException) -> str:
    """One line for ``/ainur/error``: the AinurError message, or the internal error's type."""
    if isinstance(e, AinurError):
        return e.format()
    return f"internal error ({type(e).__name__}): {e}"


"""The local executor: long-lived worker processes on this machine, one job at a time each.

Each worker is a process with its own pipe that runs job after job, sending progress and the
outcome back. Where the OS has ``forkserver`` (Linux, macOS), the fork server imports the
render stack once (with single-threaded BLAS pools) and every worker is forked from it, so
starting k workers costs one import of numpy/scipy/soundfile instead of k; elsewhere workers
are ``spawn``-ed and import it themselves. The parent watches every
pipe and every process sentinel, so a worker that crashes or is killed (SIGKILL, OOM) fails
only the job it held; a fresh worker takes its place for the jobs still waiting. (A
``ProcessPoolExecutor`` cannot do that: one dead worker breaks the whole pool.)

Workers ignore SIGINT; on Ctrl-C the parent sets a shared cancel flag (renders stop at their
next stage with nothing written), waits briefly, then terminates what is left. A worker also
exits by itself when its parent disappears, so a killed batch leaves no orphan rendering on.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Sequence

from ainur_cli.batch.events import JobFinished, JobProgress, JobStarted, OnEvent
from ainur_cli.batch.jobs import JobTask
from ainur_cli.batch.work import CANCELLED, FAILED, JobOutcome, execute_job

log = logging.getLogger(__name__)

CANCEL_GRACE_S = 5.0          # how long Ctrl-C waits for running renders to stop cleanly
MAX_IDLE_DEATHS = 3           # workers dying before taking any job: give up after this many
_PARENT_POLL_S = 0.25
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _watch_parent(parent_pid: int) -> None:
    """Exit this worker at once when the process that started it is gone (the batch process,
    or the fork server, which itself exits when the batch process does)."""
    while True:
        time.sleep(_PARENT_POLL_S)
        if os.getppid() != parent_pid:
            os._exit(3)


def single_thread_pools() -> None:
    """One job per core: no BLAS/OpenMP thread pools on top (before numpy is imported)."""
    for var in _THREAD_VARS:
        os.environ.setdefault(var, "1")


def _worker_main(conn: Connection, cancel: "mp.synchronize.Event", log_level: int) -> None:
    """Body of a worker process: take tasks from ``conn`` until it sends None or closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    single_thread_pools()
    logging.basicConfig(level=log_level, format="%(levelname)s %(name)s: %(message)s")
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    import ainur_cli.render  # noqa: F401  (the heavy imports; already done under a fork server)

    me = f"pid {os.getpid()}"
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return

        def progress(stage: str, fraction: float, _name: str = task.job.name) -> None:
            conn.send(JobProgress(_name, stage, float(fraction)))

        outcome = execute_job(task, progress=progress, cancel=cancel.is_set, worker=me)
        conn.send(JobFinished(outcome))


@dataclass
class _Worker:
    proc: mp.process.BaseProcess
    conn: Connection
    task: JobTask | None = None


class LocalExecutor:
    """Run jobs in ``workers`` processes on this machine (default: one per CPU core)."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self._ctx = worker_context()

    def run(self, tasks: Sequence[JobTask], on_event: OnEvent) -> None:
        pending = deque(tasks)
        if not pending:
            return
        cancel = self._ctx.Event()
        pool: list[_Worker] = []
        idle_deaths = 0
        try:
            for _ in range(min(self.workers, len(pending))):
                pool.append(self._start(cancel))
            while pending or any(w.task is not None for w in pool):
                for w in pool:
                    if w.task is None and pending:
                        w.task = pending.popleft()
                        w.conn.send(w.task)
                        on_event(JobStarted(w.task.job.name, f"pid {w.proc.pid}", w.proc.pid))
                ready = wait([w.conn for w in pool] + [w.proc.sentinel for w in pool])
                for w in list(pool):
                    if w.conn not in ready and w.proc.sentinel not in ready:
                        continue
                    alive = self._drain(w, on_event)
                    if alive:
                        continue
                    pool.remove(w)
                    if w.task is not None:
                        idle_deaths = 0
                        on_event(JobFinished(_died(w)))
                    else:
                        idle_deaths += 1
                    if pending and idle_deaths >= MAX_IDLE_DEATHS:
                        reason = f"worker processes exit at start (exit code {w.proc.exitcode})"
                        while pending:
                            t = pending.popleft()
                            on_event(JobFinished(JobOutcome(t.job.name, FAILED,
                                                            spec_hash=t.job.spec_hash, error=reason)))
                    elif pending and len(pool) < self.workers:
                        pool.append(self._start(cancel))
        except KeyboardInterrupt:
            cancel.set()
            self._stop(pool, on_event, grace_s=CANCEL_GRACE_S)
            raise
        except BaseException:
            cancel.set()
            self._stop(pool, on_event, grace_s=0.0)
            raise
        self._stop(pool, on_event, grace_s=2.0)

    def _start(self, cancel) -> _Worker:
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(target=_worker_main, name="ainur-batch-worker",
                                 args=(child_conn, cancel, logging.getLogger().level))
        proc.start()
        child_conn.close()
        return _Worker(proc, parent_conn)

    @staticmethod
    def _drain(w: _Worker, on_event: OnEvent) -> bool:
        """Pass on everything ``w`` sent; False when its pipe is closed (the worker is gone)."""
        try:
            while w.conn.poll():
                msg = w.conn.recv()
                if isinstance(msg, JobFinished):
                    w.task = None
                on_event(msg)
        except (EOFError, OSError):
            w.proc.join(timeout=5)
            return False
        if not w.proc.is_alive():
            w.proc.join(timeout=5)
            return False
        return True

    def _stop(self, pool: list[_Worker], on_event: OnEvent, *, grace_s: float) -> None:
        """Ask idle workers to exit; give busy ones ``grace_s`` to finish; terminate the rest."""
        for w in pool:
            if w.task is None:
                try:
                    w.conn.send(None)
                except OSError:
                    pass
        deadline = time.monotonic() + grace_s
        busy = [w for w in pool if w.task is not None]
        while busy and time.monotonic() < deadline:
            wait([w.conn for w in busy] + [w.proc.sentinel for w in busy],
                 timeout=max(0.0, deadline - time.monotonic()))
            for w in list(busy):
                alive = self._drain(w, on_event)
                if w.task is None or not alive:
                    busy.remove(w)
                    if w.task is not None:
                        on_event(JobFinished(_died(w)))
                        w.task = None
                    elif alive:
                        try:
                            w.conn.send(None)
                        except OSError:
                            pass
        for w in pool:
            if w.proc.is_alive():
                w.proc.join(timeout=0.5 if w.task is None else 0)
            if w.proc.is_alive():
                w.proc.terminate()
                w.proc.join(timeout=5)
            if w.task is not None:  # stopped mid-render: its staging folder never looks finished
                job = w.task.job
                on_event(JobFinished(JobOutcome(job.name, CANCELLED, spec_hash=job.spec_hash,
                                                error="stopped before it finished",
                                                worker=f"pid {w.proc.pid}")))
                w.task = None
            w.conn.close()


def worker_context() -> "mp.context.BaseContext":
    """``forkserver`` preloading the render stack where the OS has it, else ``spawn``."""
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    # Imported once in the fork server; a no-op if another part of Ainur started it already.
    ctx.set_forkserver_preload(["ainur_cli.batch.preload"])
    return ctx


def _died(w: _Worker) -> JobOutcome:
    code = w.proc.exitcode
    if code is not None and code < 0:
        try:
            how = f"killed by {signal.Signals(-code).name}"
        except ValueError:
            how = f"killed by signal {-code}"
    else:
        how = f"exit code {code}"
    job = w.task.job
    return JobOutcome(job.name, FAILED, spec_hash=job.spec_hash,
                      error=f"worker process died ({how}) while rendering", worker=f"pid {w.proc.pid}")

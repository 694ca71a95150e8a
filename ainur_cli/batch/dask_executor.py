"""The Dask executor: run batch jobs on a Dask ``distributed`` cluster.

Every job is one task calling :func:`ainur_cli.batch.work.execute_job` on a worker, which
writes the render straight into the job folder; so the batch root must be a path every worker
sees (a shared file system) and every worker needs the same Ainur install (and presets,
soundfonts) as the machine that submits. Workers report start and progress through Dask's
structured events (``Worker.log_event`` → ``Client.subscribe_topic``). A job whose worker
dies is re-run by the scheduler on another worker (up to its ``allowed-failures``), then
reported as failed; the other jobs go on.

Without a scheduler address a ``LocalCluster`` of worker processes is started on this machine.
"""

from __future__ import annotations

import logging
import os
import queue
import uuid
from typing import Any, Sequence

from ainur_cli.batch.events import JobFinished, JobProgress, JobStarted, OnEvent
from ainur_cli.batch.jobs import JobTask
from ainur_cli.batch.work import FAILED, JobOutcome, execute_job
from ainur_cli.errors import AinurError, MissingDependencyError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 20


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise MissingDependencyError("the Dask executor needs the 'distributed' package",
                                     field="--executor", value="dask",
                                     allowed="pip install 'dask[distributed]', or --executor local") from None
    return distributed


def run_task(task: JobTask, topic: str) -> JobOutcome:
    """The Dask task: render one job on this worker, reporting progress as worker events."""
    import distributed

    worker = distributed.get_worker()
    where = str(worker.address)

    def send(kind: str, **fields: Any) -> None:
        try:
            worker.log_event(topic, {"kind": kind, "name": task.job.name, **fields})
        except Exception:  # progress is cosmetic; never fail a render for it
            log.debug("could not send a progress event", exc_info=True)

    send("started", worker=where, pid=os.getpid())
    return execute_job(task, progress=lambda stage, f: send("progress", stage=stage, fraction=f),
                       worker=where)


class DaskExecutor:
    """Run jobs on the Dask scheduler at ``scheduler`` (``tcp://host:8786``), or on a
    ``LocalCluster`` of ``workers`` processes (one thread each) when no address is given."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None) -> None:
        _import_distributed()
        self.scheduler = scheduler
        self.workers = max(1, int(workers or os.cpu_count() or 1))

    def _client(self):
        distributed = _import_distributed()
        if self.scheduler is None:
            cluster = distributed.LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                               processes=True, dashboard_address=None)
            return distributed.Client(cluster), cluster
        try:
            return distributed.Client(self.scheduler, timeout=CONNECT_TIMEOUT_S), None
        except (OSError, TimeoutError, ValueError) as e:
            raise AinurError(f"cannot reach the Dask scheduler ({e})", field="--scheduler",
                             value=self.scheduler,
                             allowed="the address of a running scheduler, e.g. tcp://host:8786") from None

    def run(self, tasks: Sequence[JobTask], on_event: OnEvent) -> None:
        if not tasks:
            return
        client, cluster = self._client()
        inbox: queue.Queue = queue.Queue()
        topic = f"ainur-batch-{uuid.uuid4().hex}"
        futures = {}
        try:
            client.subscribe_topic(topic, lambda event: inbox.put(("event", event[1])))
            for task in tasks:
                key = f"ainur-job-{task.job.name}-{uuid.uuid4().hex[:8]}"
                fut = client.submit(run_task, task, topic, key=key, pure=False)
                futures[fut.key] = (task, fut)
                fut.add_done_callback(lambda f: inbox.put(("done", f.key)))
            remaining = set(futures)
            while remaining:
                kind, payload = inbox.get()
                if kind == "event":
                    self._forward(payload, on_event)
                    continue
                if payload not in remaining:
                    continue
                remaining.discard(payload)
                task, fut = futures[payload]
                on_event(JobFinished(self._outcome(task, fut)))
        except KeyboardInterrupt:
            client.cancel([f for _, f in futures.values()])
            raise
        finally:
            try:
                client.unsubscribe_topic(topic)
            except Exception:
                pass
            client.close()
            if cluster is not None:
                cluster.close()

    @staticmethod
    def _forward(msg: dict, on_event: OnEvent) -> None:
        if not isinstance(msg, dict):
            return
        if msg.get("kind") == "started":
            on_event(JobStarted(msg["name"], msg.get("worker", "dask"), msg.get("pid")))
        elif msg.get("kind") == "progress":
            on_event(JobProgress(msg["name"], msg.get("stage", ""), float(msg.get("fraction", 0))))

    @staticmethod
    def _outcome(task: JobTask, fut) -> JobOutcome:
        job = task.job
        try:
            outcome = fut.result()
        except Exception as e:  # KilledWorker, CancelledError, lost scheduler...
            reason = f"{type(e).__name__}: {e}".strip()
            if len(reason) > 300:
                reason = reason[:297] + "..."
            return JobOutcome(job.name, FAILED, spec_hash=job.spec_hash,
                              error=f"the Dask task failed ({reason})")
        if not isinstance(outcome, JobOutcome):
            return JobOutcome(job.name, FAILED, spec_hash=job.spec_hash,
                              error=f"the Dask task returned {type(outcome).__name__}")
        return outcome

"""What executors report to the batch runner while jobs run (plain, picklable data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, Sequence, Union

from ainur_cli.batch.jobs import JobTask
from ainur_cli.batch.work import JobOutcome


@dataclass(frozen=True)
class JobStarted:
    """A worker took job ``name`` (``worker``: ``pid 1234`` or a Dask worker address)."""

    name: str
    worker: str
    pid: int | None = None   # the local worker process id (None on Dask)


@dataclass(frozen=True)
class JobProgress:
    """Job ``name`` reached ``stage`` (compose, render, mix, master, export); fraction 0..1."""

    name: str
    stage: str
    fraction: float


@dataclass(frozen=True)
class JobFinished:
    """Job ended (done, skipped, failed or cancelled)."""

    outcome: JobOutcome


Event = Union[JobStarted, JobProgress, JobFinished]
OnEvent = Callable[[Event], None]


class Executor(Protocol):
    """Runs tasks somewhere and reports every job's start, progress and end to ``on_event``
    (called in the caller's thread). It reports exactly one :class:`JobFinished` per task,
    also for jobs whose worker died. On KeyboardInterrupt it stops as soon as it can and
    re-raises."""

    name: str

    def run(self, tasks: Sequence[JobTask], on_event: OnEvent) -> None: ...

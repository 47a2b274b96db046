"""A queue of jobs (fetches, installs, removals, verifications: ``tui.engine.jobspec``) with
progress events.

Jobs run on worker threads. Downloads share a limit of their own, and extraction or deletion
another, so a long download never holds up an uninstall. Subscribers receive ``JobEvent``s on
the worker threads; progress events are coalesced so a fast download cannot flood a UI.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from typing import NamedTuple

from tui.engine.errors import Cancelled, describe_error
from tui.engine.jobspec import JobKind, spec
from tui.engine.progress import Phase, Reporter, SpeedMeter
from tui.engine.shelf import Entry, Shelf
from tui.engine.workers import Workers

__all__ = ["Job", "JobEvent", "JobKind", "JobQueue", "Phase", "Task"]


class JobEvent(NamedTuple):
    """A snapshot of one job; the newest event of a job supersedes the older ones."""

    job_id: int
    kind: JobKind
    key: str
    phase: Phase
    done: int
    total: int | None
    speed: float | None
    eta: float | None
    error: str | None
    result: str | None  # a short summary once done, e.g. "freed 61.2 MB"
    freed: int = 0
    warnings: tuple[str, ...] = ()  # things the job left alone or could not do, one line each


# A step that is not an action on a build (``JobQueue.submit_task``): it runs with the job as
# its reporter, in a disk slot, and returns the job's result line.
Task = Callable[["Job"], str]


class Job(Reporter):
    """One queued action; the engine calls it reports to (see ``Reporter``) as it runs."""

    _ids = itertools.count(1)

    def __init__(
        self,
        kind: JobKind,
        entry: Entry | None,
        queue: JobQueue,
        *,
        label: str = "",
        remove: Callable[[], int] | None = None,
        task: Task | None = None,
    ) -> None:
        super().__init__()
        self.id = next(Job._ids)
        self.kind = kind
        self.entry = entry  # None for a REMOVE job, which names its target by ``label``
        self.label = label
        self.remove = remove
        self.task = task
        self.phase = Phase.QUEUED
        self.done = 0
        self.total: int | None = None
        self.error: str | None = None
        self.result: str | None = None
        self.freed = 0
        self.warnings: tuple[str, ...] = ()
        self.meter = SpeedMeter(queue.clock)
        self.ended = threading.Event()  # set once it has run (whatever the outcome)
        self._when_ended: list[Callable[[], object]] = []
        self._ended_lock = threading.Lock()
        self._queue = queue
        self._last_emit = -1.0

    @property
    def key(self) -> str:
        return self.entry.key if self.entry is not None else self.label

    @property
    def finished(self) -> bool:
        return self.phase.final

    def cancel(self) -> None:
        self.cancel_event.set()

    def when_ended(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` once the job has run, on the thread that ran it (at once when it
        already has)."""
        with self._ended_lock:
            if not self.ended.is_set():
                self._when_ended.append(callback)
                return
        callback()

    def _end(self) -> None:
        with self._ended_lock:
            self.ended.set()
            callbacks, self._when_ended = self._when_ended, []
        for callback in callbacks:
            with contextlib.suppress(Exception):  # one broken callback must not stop the rest
                callback()

    def snapshot(self) -> JobEvent:
        return JobEvent(
            self.id, self.kind, self.key, self.phase, self.done, self.total,
            self.meter.speed, self.meter.eta(self.done, self.total), self.error, self.result,
            self.freed, self.warnings,
        )  # fmt: skip

    # Called from the worker thread.
    def set_phase(self, phase: Phase) -> None:
        if self.cancel_event.is_set() and not phase.final:
            raise Cancelled("cancelled")
        self.phase = phase
        self.done, self.total = 0, None
        self.meter.reset()
        self._emit(force=True)

    def progress(self, done: int, total: int | None) -> None:
        self.done, self.total = done, total
        self.meter.add(done)
        self._emit(force=total is not None and done >= total)

    def _emit(self, force: bool = False) -> None:
        now = self._queue.clock()
        if not force and now - self._last_emit < self._queue.min_interval:
            return
        self._last_emit = now
        self._queue._publish(self.snapshot())


class JobQueue:
    def __init__(
        self,
        shelf: Shelf,
        *,
        downloads: int | None = None,
        disk_workers: int = 2,
        min_interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.shelf = shelf
        self.clock = clock
        self.min_interval = min_interval
        limit = downloads or shelf.settings.parallel_downloads
        self._download_slots = threading.BoundedSemaphore(limit)
        self._disk_slots = threading.BoundedSemaphore(disk_workers)
        self._pool = Workers(limit + disk_workers + 4, "job")
        self._subscribers: list[Callable[[JobEvent], None]] = []
        self._lock = threading.Lock()
        self.jobs: list[Job] = []

    # -- subscription --------------------------------------------------------------------

    def subscribe(self, callback: Callable[[JobEvent], None]) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def _publish(self, event: JobEvent) -> None:
        for callback in list(self._subscribers):
            with contextlib.suppress(Exception):  # a broken subscriber must not kill a download
                callback(event)

    # -- submitting ----------------------------------------------------------------------

    def submit(self, kind: JobKind, entry: Entry) -> Job:
        """Queue a job; the same action on the same build already pending is shared."""
        return self._enqueue(Job(kind, entry, self))

    def submit_removal(self, label: str, remove: Callable[[], int]) -> Job:
        """Queue the removal of something that is not a build (``remove`` returns bytes freed),
        so it shows and waits for a disk slot like an uninstall does."""
        return self._enqueue(Job(JobKind.REMOVE, None, self, label=label, remove=remove))

    def submit_task(self, kind: JobKind, label: str, task: Task) -> Job:
        """Queue a step that is not an action on a build (a repoint, an export, an import)
        under ``label``; ``task`` returns the result line, or raises to fail the job."""
        return self._enqueue(Job(kind, None, self, label=label, task=task))

    def _enqueue(self, new: Job) -> Job:
        with self._lock:
            for job in self.jobs:
                if job.kind == new.kind and job.key == new.key and not job.finished:
                    return job
            self.jobs.append(new)
        new._emit(force=True)
        self._pool.submit(lambda: self._run(new))
        return new

    def retry(self, job: Job) -> Job:
        if job.task is not None:
            return self.submit_task(job.kind, job.label, job.task)
        if job.entry is None:
            assert job.remove is not None
            return self.submit_removal(job.label, job.remove)
        return self.submit(job.kind, job.entry)

    def active(self) -> list[Job]:
        return [j for j in self.jobs if not j.finished]

    def wait(self, jobs: list[Job] | None = None, timeout: float | None = None) -> None:
        """Until the jobs have run; TimeoutError when one takes more than ``timeout``."""
        for job in jobs if jobs is not None else list(self.jobs):
            if not job.ended.wait(timeout):
                raise TimeoutError(f"{job.kind} {job.key} still running after {timeout}s")

    def close(self, cancel: bool = True) -> None:
        if cancel:
            for job in self.active():
                job.cancel()
        self._pool.close()  # runs what is queued: cancelled jobs end at once

    # -- running -------------------------------------------------------------------------

    def _run(self, job: Job) -> None:
        try:
            spec(job.kind).runner(self, job)
        except Cancelled:
            job.phase = Phase.CANCELLED
        except Exception as exc:  # never a traceback in the UI; the message still says what
            job.error = describe_error(exc)
            job.phase = Phase.FAILED
        else:
            job.phase = Phase.DONE
        try:
            job._emit(force=True)
        finally:
            job._end()

    @contextlib.contextmanager
    def _slot(self, semaphore: threading.BoundedSemaphore, job: Job) -> Iterator[None]:
        while not semaphore.acquire(timeout=0.1):
            job.check("cancelled while queued")
        try:
            yield
        finally:
            semaphore.release()

    def download_slot(self, job: Job) -> contextlib.AbstractContextManager[None]:
        """Hold one of the download slots while the block runs (waiting until one is free;
        a job cancelled while it waits ends there)."""
        return self._slot(self._download_slots, job)

    def disk_slot(self, job: Job) -> contextlib.AbstractContextManager[None]:
        """Hold one of the slots for work on the disk (unpacking, hashing, deleting), as
        ``download_slot`` does."""
        return self._slot(self._disk_slots, job)

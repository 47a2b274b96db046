"""What the full-screen views share: the one place their workers' errors land."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tui.app.messages import JobCancelRequested, JobRetryRequested
from tui.engine.errors import describe_error
from tui.engine.jobs import Job, JobQueue, Phase


class View(Screen[None]):
    """A full-screen view with the app's job queue in a panel, whose thread workers fail as
    a notification, never a traceback."""

    queue: JobQueue  # the app's one queue, shown in each view's panel

    # What a failed worker of each group was doing, as the notification says it.
    WORKER_ERRORS: ClassVar[dict[str, str]] = {}

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR or not self.is_attached:
            return
        group = event.worker.group
        if not self.error_matters(event.worker):
            return
        what = self.WORKER_ERRORS.get(group, "background task failed")
        line = f"{what}: {describe_error(event.worker.error)}"
        self.notify(line, severity="error", timeout=8)
        self.worker_failed(group, " ".join(line.split()))

    def error_matters(self, worker: Worker[object]) -> bool:
        """False for a worker whose result nobody waits for any more."""
        return True

    def worker_failed(self, group: str, line: str) -> None:
        """Stop showing that ``group`` is at work; ``line`` is what the notification said."""

    # -- the queue panel asks; the view acts on the app's queue ---------------------------

    def job(self, job_id: int) -> Job | None:
        return next((j for j in self.queue.jobs if j.id == job_id), None)

    @on(JobCancelRequested)
    def _cancel_requested(self, message: JobCancelRequested) -> None:
        job = self.job(message.job_id)
        if job is not None and not job.finished:
            job.cancel()  # the panel shows it stop; a notice follows when it has

    @on(JobRetryRequested)
    def _retry_requested(self, message: JobRetryRequested) -> None:
        job = self.job(message.job_id)
        if job is not None and job.phase in (Phase.FAILED, Phase.CANCELLED):
            self.retry_job(job)

    def retry_job(self, job: Job) -> None:
        """Run ``job`` again as it was; the builds view retries with the entry as it is now."""
        self.query_one("QueuePanel").remove_job(job.id)  # type: ignore[attr-defined]
        self.queue.retry(job)

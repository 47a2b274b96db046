"""What the full-screen views share: the one place their workers' errors land."""

from __future__ import annotations

from typing import ClassVar

from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tui.engine.errors import describe_error


class View(Screen[None]):
    """A full-screen view whose thread workers fail as a notification, never a traceback."""

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

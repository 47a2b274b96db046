"""What the full-screen views share: the one place their workers' errors land."""

from __future__ import annotations

import contextlib
from typing import ClassVar

from textual import events, on
from textual.css.query import NoMatches
from textual.geometry import Region
from textual.screen import Screen
from textual.widgets import DataTable, ListView
from textual.worker import Worker, WorkerState

from tui.app.messages import JobCancelRequested, JobRetryRequested
from tui.app.queue.panel import QueuePanel
from tui.app.toasts import MIN_TOAST, place
from tui.engine.errors import describe_error
from tui.engine.jobs import Job, JobQueue, Phase


def highlighted_row(widget: object) -> Region | None:
    """The highlighted row of a table or list, on screen; None when it has none in view."""
    if isinstance(widget, DataTable) and widget.row_count:
        region = widget.region
        y = region.y + widget.header_height + widget.cursor_row - round(widget.scroll_y)
        return Region(region.x, y, region.width, 1).intersection(region) or None
    if isinstance(widget, ListView) and widget.highlighted_child is not None:
        return widget.highlighted_child.region or None
    return None


class View(Screen[None]):
    """A full-screen view with the app's job queue in a panel, whose thread workers fail as
    a notification, never a traceback, and whose notifications stay off the highlighted row
    (``toast_room``) and out of sight while a dialog is up."""

    # What a failed worker of each group was doing, as the notification says it.
    WORKER_ERRORS: ClassVar[dict[str, str]] = {}

    # Toasts' heights as last drawn, by id: a toast waiting out of sight has none of its own.
    _toast_heights: dict[str, int]

    def __init__(self, queue: JobQueue) -> None:
        super().__init__()
        self.queue = queue  # the app's one queue, shown in the view's panel
        self._toast_heights = {}

    # -- notifications ----------------------------------------------------------------------

    def toast_room(self) -> tuple[Region, Region | None]:
        """Where toasts may go, the view's table (never over the queue's lines below it),
        and the row to keep clear: the highlighted one of the list under the focus."""
        tables = self.query(DataTable)
        area = tables.first().region if tables else self.region
        focused = self.focused
        for node in [focused, *(focused.ancestors if focused else [])]:
            if isinstance(node, DataTable | ListView):
                return area, highlighted_row(node)
        return area, None

    def place_toasts(self) -> None:
        """Dock the toasts clear of the highlighted row (``tui.app.toasts.place``), showing
        the newest that fit between it and the edge; older ones wait out of sight (they
        show again when there is room, until they time out)."""
        try:
            rack = self.get_child_by_id("textual-toastrack")
        except NoMatches:
            return
        area, row = self.toast_room()
        edge, margin, room = place(self.size, area, row)
        styles = rack.styles
        styles.dock = edge
        styles.margin = (margin, 0, 0, 0) if edge == "top" else (0, 0, margin, 0)
        styles.max_height = room
        heights = self._toast_heights
        fits = True
        for holder in reversed(rack.children):  # the newest first
            toast = holder.children[0] if holder.children else None
            if toast is not None and holder.display and toast.region.height:
                heights[holder.id or ""] = toast.region.height + toast.styles.margin.top
            need = heights.get(holder.id or "", MIN_TOAST)
            fits = fits and need <= room  # one waits: the older ones wait behind it
            holder.display = fits
            if fits:
                room -= need

    def on_mount(self) -> None:
        # After each layout: new toasts are drawn, so measured, and those that do not fit go.
        self.screen_layout_refresh_signal.subscribe(self, lambda _: self.place_toasts())

    @on(DataTable.RowHighlighted)
    @on(ListView.Highlighted)
    def _keep_toasts_clear(self) -> None:
        self.call_after_refresh(self.place_toasts)  # once the row is scrolled into view

    def on_descendant_focus(self) -> None:
        self.call_after_refresh(self.place_toasts)

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self.place_toasts)

    def on_screen_suspend(self) -> None:
        """A dialog (or another view) is over this one: its toasts go out of sight."""
        with contextlib.suppress(NoMatches):
            self.get_child_by_id("textual-toastrack").display = False

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
        self.query_one(QueuePanel).remove_job(job.id)
        self.queue.retry(job)

"""The job queue: every fetch, install and removal with live progress; cancel and retry."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import ListView

from tui.app.commands import Command
from tui.app.keys import bound_key, register
from tui.app.messages import JobCancelRequested, JobRetryRequested
from tui.app.navigation import OPTIONS, vi_bindings
from tui.app.queue.job_item import JobItem
from tui.engine.jobs import JobEvent, Phase


class JobList(ListView):
    """The jobs; j k g G ctrl+d ctrl+u move the selection as in every list."""

    BINDINGS: ClassVar[list[BindingType]] = register(vi_bindings(OPTIONS))

    def action_first(self) -> None:
        if self.children:
            self.index = 0

    def action_last(self) -> None:
        if self.children:
            self.index = len(self.children) - 1

    def _page(self) -> int:
        """How many jobs one screenful of the list shows."""
        item = self.children[0].outer_size.height if self.children else 1
        return max(1, self.scrollable_content_region.height // max(1, item))

    def action_page_down(self) -> None:
        if self.children:
            self.index = min(len(self.children) - 1, (self.index or 0) + self._page())

    def action_page_up(self) -> None:
        if self.children:
            self.index = max(0, (self.index or 0) - self._page())


class QueuePanel(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = register(
        [
            Binding(
                "c", "cancel_job", "Cancel job", tooltip="Cancel the selected job", id="cancel"
            ),
            Binding(
                "R", "retry_job", "Retry", key_display="R", tooltip="Retry a failed job", id="retry"
            ),
            Binding(
                "x", "clear_finished", "Clear done", tooltip="Remove finished jobs", id="clear"
            ),
            # Like any panel on top: Esc and q close it, and never quit from inside it.
            Binding("escape,q", "close", "Close", show=False, id="queue-close"),
        ]
    )

    class CloseRequested(Message):
        """Esc or q in the panel: the view hides it and gives the focus back to its table."""

    HELP = "{cancel} cancels the selected job, {retry} retries a failed or cancelled one."

    def compose(self) -> ComposeResult:
        yield JobList(id="job-list")

    def on_mount(self) -> None:
        self._update_title()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._items: dict[int, JobItem] = {}  # by job id: no DOM query per progress tick

    @property
    def items(self) -> list[JobItem]:
        return list(self._items.values())

    def show_event(self, event: JobEvent) -> None:
        item = self._items.get(event.job_id)
        new = item is None
        was_final = item is not None and item.event.phase.final
        if item is None:
            item = self._items[event.job_id] = JobItem(event)
            jobs = self.query_one(ListView)
            jobs.append(item)
            if jobs.index is None:  # something is always selected, so c and R have a target
                jobs.index = 0
        else:
            item.show(event)
        if new or event.phase.final != was_final:
            # Only a job starting or ending changes the counts and what c / R can do.
            self._update_title()
            self.refresh_bindings()

    def remove_job(self, job_id: int) -> None:
        item = self._items.pop(job_id, None)
        if item is not None:
            item.remove()
            self._update_title()

    @property
    def selected(self) -> JobEvent | None:
        highlighted = self.query_one(ListView).highlighted_child
        return highlighted.event if isinstance(highlighted, JobItem) else None

    def _update_title(self) -> None:
        events = [i.event for i in self.items]
        running = sum(not e.phase.final for e in events)
        failed = sum(e.phase == Phase.FAILED for e in events)
        if events:
            text = f"Jobs: {running} running"
        else:
            key = partial(bound_key, self.app)
            text = f"Jobs: none yet ({key('fetch')} fetches, {key('install')} installs)"
        if failed:
            text += f", {failed} failed"
        self.border_title = text

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        selected = self.selected
        if action == "cancel_job":
            return selected is not None and not selected.phase.final
        if action == "retry_job":
            return selected is not None and selected.phase in (Phase.FAILED, Phase.CANCELLED)
        if action == "clear_finished":
            return any(i.event.phase.final for i in self.items)
        return True

    def on_list_view_highlighted(self) -> None:
        self.refresh_bindings()

    # The app owns the queue: these ask it to act on the selected job.
    def action_cancel_job(self) -> None:
        if (event := self.selected) is not None:
            self.post_message(JobCancelRequested(event.job_id))

    def action_retry_job(self) -> None:
        if (event := self.selected) is not None:
            self.post_message(JobRetryRequested(event.job_id))

    def action_close(self) -> None:
        self.post_message(self.CloseRequested())

    def action_clear_finished(self) -> None:
        for job_id, item in list(self._items.items()):
            if item.event.phase.final:
                self.remove_job(job_id)
        self.refresh_bindings()

    def commands(self) -> Iterator[Command]:
        """The command palette's entries for the queue: the selected job's, and clearing."""
        key = partial(bound_key, self.app)
        selected = self.selected
        if selected is not None and not selected.phase.final:
            yield (
                f"Cancel job: {selected.kind} {selected.key}",
                self.action_cancel_job,
                f"{key('cancel')} in the queue",
            )
        if selected is not None and selected.phase in (Phase.FAILED, Phase.CANCELLED):
            yield (
                f"Retry job: {selected.kind} {selected.key}",
                self.action_retry_job,
                f"{key('retry')} in the queue",
            )
        yield (
            "Clear finished jobs",
            self.action_clear_finished,
            f"{key('clear')} in the queue",
        )

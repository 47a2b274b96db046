"""The builds: the table, the job queue and the details, over the app's shelf and queue."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import DataTable, Header, Input
from textual.worker import get_current_worker

from tui.app.commands import Command
from tui.app.keys import bound_key, register
from tui.app.messages import (
    EntriesLoaded,
    JobUpdated,
    LedgerMeasured,
    SizesKnown,
    SortChanged,
)
from tui.app.present import matches, row_id, totals, totals_text
from tui.app.screens.build_jobs import BuildJobs
from tui.app.screens.cleanup import CleanupScreen, Scope
from tui.app.widgets.details import DetailsPane
from tui.app.widgets.filter_input import FilterInput
from tui.app.widgets.footer import Footer
from tui.app.widgets.queue_panel import QueuePanel
from tui.app.widgets.shelf_table import ShelfTable
from tui.app.widgets.status_line import StatusLine
from tui.config import Preferences
from tui.engine.errors import CatalogError
from tui.engine.jobs import JobQueue, Phase
from tui.engine.jobspec import table_specs
from tui.engine.listing import default_view
from tui.engine.shelf import Entry, Shelf
from tui.engine.usage.ledger import Ledger

PROBE_BATCH = 8  # HEAD requests per batch: sizes fill in batch by batch
PRELOAD_WAIT = 0.15  # seconds the first frame waits at most for the preloaded rows
SHOW_FIRST = 0.5  # seconds the disk walk waits at most for the rows to be painted first


class MainScreen(BuildJobs):
    BINDINGS: ClassVar[list[BindingType]] = register(
        [
            # Only a few keys fit a footer at 80 columns; help (?) and Ctrl+P list the rest.
            # Priority: the screen acts on "/" before it forwards the keys typed right after
            # it, so they land in the filter box (check_action hands "/" back inside inputs).
            Binding(
                "slash", "filter", "Filter", key_display="/", show=False, priority=True,
                id="filter",
            ),
            Binding("a", "toggle_all", "All versions", show=False, id="all"),
            Binding(
                "q", "toggle_queue", "Queue", tooltip="Show or hide the job queue", id="queue"
            ),
            Binding("d", "toggle_details", "Details", show=False, id="details"),
            Binding(
                "D", "cleanup", "Disk usage", key_display="D", show=False,
                tooltip="What every interpreter and archive costs; mark and free space",
                id="cleanup",
            ),
            Binding("ctrl+r", "reload", "Reload", show=False, id="reload"),
        ]
    )  # fmt: skip
    WORKER_ERRORS: ClassVar[dict[str, str]] = {
        "entries": "cannot list builds",
        "probe": "probing download sizes failed",
        "measure": "measuring sizes failed",
        "confirm": "counting what the removal frees failed",
        "reinstall": "checking what a reinstall would discard failed",
        "remove": "the removal stopped",
    }

    show_all: reactive[bool] = reactive(False)
    filter_text: reactive[str] = reactive("")

    def __init__(
        self,
        shelf: Shelf,
        queue: JobQueue,
        prefs: Preferences,
        *,
        scope: Scope | None = None,
        measure: Callable[[Shelf], Ledger | None] = Ledger.measure,
    ) -> None:
        super().__init__()
        self.shelf = shelf
        self.queue = queue
        self.prefs = prefs
        self.scope = scope  # what the disk-usage view looks at; None: this machine
        self.all_entries: list[Entry] = []
        # Every size on screen comes from one measurement of the install dir and the cache.
        self.measure = measure
        self.ledger: Ledger | None = None  # of the entries loaded last, once measured
        self._generation = 0  # entry loads so far: a ledger of older entries is dropped
        self._catalog_failed = False
        self._warned: set[str] = set()
        self._queue_hidden_by_user = False
        self._unsubscribe: Callable[[], None] | None = None
        self.set_reactive(MainScreen.show_all, prefs.config.all_versions)

    # -- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self.status = StatusLine(id="status")
        self.filter_box = FilterInput(id="filter")
        config = self.prefs.config
        self.table = ShelfTable(sort=(config.sort, config.sort_reverse), id="table")
        self.details = DetailsPane(id="details")
        self.queue_panel = QueuePanel(id="queue")
        yield Header(icon="≡")
        yield self.status
        yield self.filter_box
        with Horizontal(id="body"):
            yield self.table
            yield self.details
        yield self.queue_panel
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.table.offline = self.shelf.settings.offline
        self.filter_box.display = False
        self.details.display = False
        self.queue_panel.display = bool(self.queue.jobs)
        for job in list(self.queue.jobs):  # a queue handed over with work already in it
            self.queue_panel.show_event(job.snapshot())
        # The queue calls back on its worker threads; post_message is thread-safe.
        self._unsubscribe = self.queue.subscribe(lambda e: self.post_message(JobUpdated(e)))
        if self.shelf.settings.offline:
            self._set_warning("offline: listing the cache and installs; downloads are off")
        self._update_subtitle()
        self.table.focus()
        # Listed while Textual loaded (a moment's wait at most): the first frame has the rows,
        # and the footer is laid out once, with the keys that apply to them.
        if self.shelf.preloaded(wait=PRELOAD_WAIT):
            entries = self.shelf.entries()
            self._entries_loaded(EntriesLoaded(entries, list(self.shelf.catalog.warnings)))
        else:
            self.load_entries()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    # -- loading (thread workers; results come back as messages) ---------------------------

    @work(thread=True, group="entries", exclusive=True, exit_on_error=False)
    def load_entries(self) -> None:
        worker = get_current_worker()
        error = None
        try:
            entries = self.shelf.entries()
        except CatalogError as exc:
            error = str(exc)
            self._catalog_failed = True
            self.shelf.go_without_catalog("failed to load")
            entries = self.shelf.entries()
        warnings = list(self.shelf.catalog.warnings)
        if not worker.is_cancelled:
            self.post_message(EntriesLoaded(entries, warnings, error))

    @work(thread=True, group="probe", exclusive=True, exit_on_error=False)
    def probe_sizes(self, entries: list[Entry]) -> None:
        worker = get_current_worker()
        for start in range(0, len(entries), PROBE_BATCH):
            if worker.is_cancelled:
                return
            batch = entries[start : start + PROBE_BATCH]
            self.shelf.probe_download_sizes(batch)
            self.post_message(SizesKnown([row_id(e) for e in batch], "download"))
        if not worker.is_cancelled:
            self.post_message(SizesKnown([row_id(e) for e in entries], "download", finished=True))

    @work(thread=True, group="measure", exclusive=True, exit_on_error=False)
    def measure_sizes(self, generation: int, shown: threading.Event | None = None) -> None:
        """Walk the install dir and the cache once: every size on screen comes from it.

        ``shown``: set once the rows are on screen. The walk waits for it (a moment at most),
        so it does not compete with the first paint of the rows for the interpreter.
        """
        if shown is not None:
            shown.wait(SHOW_FIRST)
        ledger = self.measure(self.shelf)
        if ledger is not None and not get_current_worker().is_cancelled:
            self.post_message(LedgerMeasured(ledger, generation))

    @on(EntriesLoaded)
    def _entries_loaded(self, message: EntriesLoaded) -> None:
        if not self._alive:
            return
        self.all_entries = message.entries
        self._generation += 1
        self.ledger = None  # the totals wait for this load's own measurement
        self.table.measuring = {
            row_id(e) for e in message.entries if e.installation or e.unpacked_size is None
        }
        self._apply_view()
        if message.catalog_error:
            self._warn(f"catalog failed: {message.catalog_error}; listing the cache and installs")
        for warning in message.warnings:
            self._warn(warning)
        # Two refreshes: the rows', then the footer's for the keys that apply to them.
        shown = threading.Event()
        self.call_after_refresh(self.call_after_refresh, shown.set)
        self.measure_sizes(self._generation, shown)
        self.table.redraw()
        self._update_details()

    def _probe_visible(self) -> None:
        todo = [e for e in self.table.visible_first() if e.download_size is None and e.available]
        self.table.probing = bool(todo) and not self.shelf.settings.offline
        if self.table.probing:
            self.probe_sizes(todo)

    @on(SizesKnown)
    def _sizes_known(self, message: SizesKnown) -> None:
        if not self._alive:
            return
        table = self.table
        if message.kind == "download" and message.finished:
            table.probing = False
        table.redraw(None if message.finished else message.row_ids)
        self._update_status()
        self._update_details()

    @on(LedgerMeasured)
    def _ledger_measured(self, message: LedgerMeasured) -> None:
        if not self._alive or message.generation != self._generation:
            return  # entries loaded since: their own measurement follows
        self.ledger = message.ledger
        message.ledger.apply(self.shelf, self.all_entries)
        self.table.measuring.clear()
        self.table.redraw()
        self._update_status()
        self._update_details()

    def worker_failed(self, group: str, line: str) -> None:
        if group == "entries":
            self._set_warning(line)
        elif group == "probe":
            self.table.probing = False
            self.table.redraw()
        elif group == "measure":
            self.table.measuring.clear()
            self.table.redraw()

    # -- the view ------------------------------------------------------------------------

    def _apply_view(self) -> None:
        entries = self.all_entries if self.show_all else default_view(self.all_entries)
        if self.filter_text:
            entries = [e for e in entries if matches(e, self.filter_text)]
        self.table.show(entries)
        self._probe_visible()
        self._update_status()
        self._update_subtitle()

    def watch_show_all(self, show_all: bool) -> None:
        self.prefs.remember(all_versions=show_all)
        if self.is_mounted:
            self._apply_view()

    def watch_filter_text(self) -> None:
        if self.is_mounted:
            self._apply_view()

    @on(SortChanged)
    def _sorted(self, message: SortChanged) -> None:
        self.prefs.remember(sort=message.column, sort_reverse=message.reverse)

    def _update_status(self) -> None:
        self.status.set_totals(totals_text(totals(self.all_entries, self.ledger)))

    def _update_subtitle(self) -> None:
        all_key = bound_key(self.app, "all")
        view = "all versions" if self.show_all else f"newest per minor ({all_key}: all)"
        shown = f"{len(self.table.entries)} of {len(self.all_entries)}"
        parts = [str(self.shelf.host), f"{view}, {shown}"]
        if self.filter_text:
            parts.append(f"filter “{self.filter_text}”")
        if self.shelf.settings.offline:
            parts.append("offline")
        self.sub_title = " · ".join(parts)

    def _set_warning(self, text: str | None) -> None:
        self.status.set_warning(text)

    def _warn(self, text: str) -> None:
        """Show a catalog or network problem in the status line, and notify it once."""
        self._set_warning(text)
        if text not in self._warned:
            self._warned.add(text)
            self.notify(text, severity="warning", timeout=8)

    def _update_details(self) -> None:
        pane = self.details
        if not pane.display:
            return
        entry = self.table.highlighted
        verified = bool(entry and entry.build.sha256 in self.shelf.downloader.verified)
        pane.show(entry, verified=verified, job=self.table.jobs.get(entry.key) if entry else None)

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        self._update_details()

    # -- actions -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter":
            return not isinstance(self.focused, Input)
        return True

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all

    def action_filter(self) -> None:
        box = self.filter_box
        box.display = True
        self.set_focus(box)  # now, not after a refresh: the next key is on its way

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self._leave_filter()

    @on(FilterInput.Done)
    def _filter_done(self) -> None:
        self._leave_filter()

    def _leave_filter(self) -> None:
        box = self.filter_box
        box.display = bool(box.value)
        self.table.focus()

    def action_toggle_queue(self) -> None:
        panel = self.queue_panel
        panel.display = not panel.display
        self._queue_hidden_by_user = not panel.display
        if not panel.display and self.focused is not None and panel in self.focused.ancestors:
            self.table.focus()

    def action_toggle_details(self) -> None:
        pane = self.details
        pane.display = not pane.display
        self._update_details()

    def action_reload(self) -> None:
        if self._catalog_failed:
            self._catalog_failed = False
            self.shelf.reload_catalog()
            self._set_warning(None)
        self.load_entries()

    def action_cleanup(self) -> None:
        self.app.push_screen(
            CleanupScreen(self.shelf, self.queue, self.scope, on_change=self.load_entries)
        )

    # -- the command palette -------------------------------------------------------------

    def commands(self) -> Iterator[Command]:
        """What the palette offers here, each with the key bound to it now."""
        key = partial(bound_key, self.app)
        table = self.table
        targets = table.targets()
        what = f"{len(targets)} marked builds" if len(targets) > 1 else ""
        if len(targets) == 1:
            what = targets[0].build.describe()
        for job in table_specs():
            if any(table.why_not(job.kind, e) is None for e in targets):
                yield (
                    f"{job.palette}: {what}",
                    partial(self.request_jobs, job.kind),
                    f"{job.help} ({key(job.action)})",
                )
        if targets:
            yield "Mark / unmark the highlighted build", table.action_toggle_mark, key("mark")
        if table.marked:
            yield "Clear marks", table.action_clear_marks, f"{key('clear-marks')} in the table"
        yield (
            "Show only the newest patch of each minor" if self.show_all else "Show all versions",
            self.action_toggle_all,
            key("all"),
        )
        yield "Filter builds", self.action_filter, key("filter")
        yield "Sort by the next column", table.action_cycle_sort, key("sort")
        yield "Show / hide the job queue", self.action_toggle_queue, key("queue")
        selected = self.queue_panel.selected
        if selected is not None and not selected.phase.final:
            yield (
                f"Cancel job: {selected.kind} {selected.key}",
                self.queue_panel.action_cancel_job,
                f"{key('cancel')} in the queue",
            )
        if selected is not None and selected.phase in (Phase.FAILED, Phase.CANCELLED):
            yield (
                f"Retry job: {selected.kind} {selected.key}",
                self.queue_panel.action_retry_job,
                f"{key('retry')} in the queue",
            )
        yield (
            "Clear finished jobs",
            self.queue_panel.action_clear_finished,
            f"{key('clear')} in the queue",
        )
        yield "Show / hide details", self.action_toggle_details, key("details")
        yield (
            "Disk usage: what every interpreter and archive costs, and clean-up",
            self.action_cleanup,
            key("cleanup"),
        )
        yield "Reload the list", self.action_reload, key("reload")

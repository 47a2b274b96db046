"""The builds: the table, the job queue and the details, over the app's shelf and queue."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Label, ListView

from tui.app import kinds
from tui.app.builds import bindings as builds_bindings
from tui.app.builds.action_footer import FILTER_ACTIONS, QUEUE_ACTIONS, ActionFooter, table_actions
from tui.app.builds.bundles import BUNDLE_BINDINGS, BundleActions
from tui.app.builds.connection import ConnectionCheck
from tui.app.builds.details import DetailsPane, copy_text
from tui.app.builds.events import (
    EntriesLoaded,
    JobRequested,
    LedgerMeasured,
    SizesKnown,
    SortChanged,
)
from tui.app.builds.filter_box import FilterInput
from tui.app.builds.jobs import BuildJobs, scope_cwd
from tui.app.builds.listing import Listing, Measure, measure_ledger
from tui.app.builds.notices import empty_filter_note
from tui.app.builds.row_tags import TAGS
from tui.app.builds.status_line import StatusLine
from tui.app.builds.subtitle import fit_parts
from tui.app.builds.table import ShelfTable
from tui.app.builds.title_bar import TitleBar
from tui.app.builds.upgrades import UPGRADE_BINDINGS, UpgradeActions
from tui.app.commands import Command
from tui.app.keys import bound_key
from tui.app.messages import JobUpdated, RemovalDone
from tui.app.present import freeable, matches, totals, totals_text
from tui.app.queue.panel import QueuePanel
from tui.app.view import View
from tui.config import Preferences
from tui.engine.checks.uvcache import uv_cache_notice
from tui.engine.jobs import Job, JobQueue
from tui.engine.shelf import Entry, Shelf
from tui.engine.shelf.listing import default_view

# The disk-usage view and engine load when first used: after the first frame.
if TYPE_CHECKING:
    from tui.app.disk.scope import Scope
    from tui.engine.usage.ledger import Ledger

PRELOAD_WAIT = 0.15  # seconds the first frame waits at most for the preloaded rows


class MainScreen(View):
    # The bundle and upgrade keys first, as they were when those were bases.
    BINDINGS: ClassVar[list[BindingType]] = [
        *BUNDLE_BINDINGS,
        *UPGRADE_BINDINGS,
        *builds_bindings.BUILDS,
    ]
    # The details pane goes beside the table only where both fit: the table's narrow column
    # set needs 80 columns and the pane 40; below that it goes under the table.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]  # noqa: RUF012 (Textual's type)
    # The table has the focus from the first frame: focused later, it would be drawn again.
    AUTO_FOCUS = "#table"
    WORKER_ERRORS: ClassVar[dict[str, str]] = builds_bindings.WORKER_ERRORS

    show_all: reactive[bool] = reactive(False)
    filter_text: reactive[str] = reactive("")

    def __init__(
        self,
        shelf: Shelf,
        queue: JobQueue,
        prefs: Preferences,
        *,
        scope: Scope | None = None,
        measure: Measure = measure_ledger,
    ) -> None:
        super().__init__(queue)
        self.shelf = shelf
        self.prefs = prefs
        self.scope = scope  # what the disk-usage view looks at; None: this machine
        self.measure = measure
        self.connection = ConnectionCheck(self, shelf, self._update_subtitle)
        self._unsubscribe: Callable[[], None] | None = None
        self.details: DetailsPane | None = None  # beside the table once d shows it
        self.set_reactive(MainScreen.show_all, prefs.config.all_versions)

    # -- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # The breakpoint's class from the start, as Textual picks it on a resize: added by the
        # first resize instead, it would style every widget again and draw the table twice.
        width = self.app.size.width
        self.add_class(max(b for b in self.HORIZONTAL_BREAKPOINTS if width >= b[0])[1])
        self.status = StatusLine(id="status")
        self.filter_box = FilterInput(id="filter")
        config = self.prefs.config
        self.table = ShelfTable(sort=(config.sort, config.sort_reverse), id="table")
        self.queue_panel = QueuePanel(id="queue")
        self.listing = Listing(
            self, self.shelf, self.table, cwd=self._cwd, measure=self.measure,
            shown=self._apply_view, refresh=self._sizes_changed, warn=self.status.warn,
        )  # fmt: skip
        self.jobs = BuildJobs(
            self, self.shelf, self.scope, self.table, self.queue_panel, self.status,
            entries=lambda: self.all_entries, ledger=lambda: self.ledger,
            changed=self.load_entries, shown=self._update_details,
        )  # fmt: skip
        self.upgrades = UpgradeActions(
            self, self.shelf, self.queue, self.table, cwd=self._cwd, planner=self.jobs.plan_builds
        )
        self.bundles = BundleActions(self, self.shelf, self.queue, self.table, cwd=self._cwd)
        yield TitleBar("≡")
        yield self.status
        yield self.filter_box
        with Horizontal(id="body"), Vertical(id="table-box"):
            yield Label(id="empty-note")
            yield self.table
        yield self.queue_panel
        yield ActionFooter(self.footer_ids, id="footer")

    def footer_ids(self) -> list[str] | tuple[str, ...]:
        """The footer's actions where the focus is: the queue's, the filter's or the table's."""
        focused = self.focused
        if focused is not None and self.queue_panel in (focused, *focused.ancestors):
            return QUEUE_ACTIONS
        if isinstance(focused, Input):
            return FILTER_ACTIONS
        return table_actions(kinds.table_actions())

    def on_mount(self) -> None:
        self.table.offline = self.shelf.settings.offline
        self.filter_box.display = False
        self.queue_panel.display = False  # Q opens it; the status line says when jobs run
        self._unsubscribe = self.jobs.follow()
        if self.shelf.settings.offline:
            self.status.set_warning("offline: listing the cache and installs; downloads are off")
        if notice := uv_cache_notice(self.shelf.settings):
            self.notify(notice, title="uv and the cache", timeout=10)  # once, quietly
        self._update_subtitle()
        # Listed while Textual loaded (a moment's wait at most): the first frame has the rows,
        # and the footer is laid out once, with the keys that apply to them.
        if not self.listing.show_preloaded(PRELOAD_WAIT):
            self.load_entries()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    # -- loading (thread workers; results come back as messages) ---------------------------

    def load_entries(self) -> None:
        self.listing.load()

    @property
    def _alive(self) -> bool:
        """False while quitting: late messages from threads find no widgets to update."""
        return self.table.is_attached

    def _cwd(self) -> Path:  # where environments and pins are looked for
        return scope_cwd(self.scope)

    @on(EntriesLoaded)
    def _entries_loaded(self, message: EntriesLoaded) -> None:
        if self._alive:
            self.listing.loaded(message)

    @on(SizesKnown)
    def _sizes_known(self, message: SizesKnown) -> None:
        if self._alive:
            self.listing.sizes_known(message)

    @on(LedgerMeasured)
    def _ledger_measured(self, message: LedgerMeasured) -> None:
        if self._alive:
            self.listing.measured(message)

    def worker_failed(self, group: str, line: str) -> None:
        if group == "entries":
            self.status.set_warning(line)
        else:
            self.listing.failed(group, line)

    @property
    def all_entries(self) -> list[Entry]:
        """The builds as loaded last, every version."""
        return self.listing.entries

    @property
    def ledger(self) -> Ledger | None:
        """What the install dir and the cache weigh, once measured for the entries shown."""
        return self.listing.ledger

    # -- the view ------------------------------------------------------------------------

    def _apply_view(self) -> None:
        entries = default_view(self.all_entries, self.shelf.host, all_versions=self.show_all)
        if self.filter_text:
            notes = self.table.notes
            entries = [e for e in entries if matches(e, self.filter_text, notes.tags(e))]
        self.table.show(entries)
        self._show_empty_note(entries)
        self.listing.probe_shown()
        self._update_status()
        self._update_subtitle()

    def _show_empty_note(self, shown: list[Entry]) -> None:
        note = self.query_one("#empty-note", Label)
        note.display = bool(text := self.filter_text) and not shown
        if note.display:  # the filter may match builds the newest-per-minor view hides
            every = default_view(self.all_entries, self.shelf.host, all_versions=True)
            more = not self.show_all and any(matches(e, text) for e in every)
            key = partial(bound_key, self.app)
            note.update(
                empty_filter_note(
                    text, clear_key=key("clear-filter"), all_key=key("all"), more=more
                )
            )

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

    def _sizes_changed(self) -> None:
        self._update_status()
        self._update_details()

    def _update_status(self) -> None:
        self.status.set_totals(totals_text(totals(self.all_entries, self.ledger)))

    def _update_subtitle(self) -> None:
        view = "all versions"
        if not self.show_all:
            view = f"newest per minor ({bound_key(self.app, 'all')}: all)"
        # What is shown and how; the connection: offline, or what the last check found.
        parts = [f"{len(self.table.entries)} of {len(self.all_entries)}", view]
        filtered = f"filter “{self.filter_text}”" if self.filter_text else None
        parts += [p for p in (filtered, self.connection.state) if p] + [str(self.shelf.host)]
        # The header writes "pyshelf — " before it and keeps cells for its icon either side.
        self.sub_title = fit_parts(parts, self.size.width - len(f"{self.app.title} — ") - 20)

    def on_resize(self, event: events.Resize) -> None:
        self._update_subtitle()

    def _update_details(self) -> None:
        pane = self.details
        if pane is None or not pane.display:
            return
        pane.show_row(self.table.highlighted, self.shelf, self.table.jobs)

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        self._update_details()

    # -- actions -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter":
            return not isinstance(self.focused, Input)
        if action == "clear_filter":
            return bool(self.filter_text)
        return True

    def action_clear_filter(self) -> None:
        self.filter_box.value = ""  # Input.Changed empties filter_text
        self.filter_text = ""
        self._leave_filter()

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all

    def action_filter(self) -> None:
        box = self.filter_box
        box.display = True
        self.set_focus(box)  # now, not after a refresh: the next key is on its way

    def filter_to(self, text: str) -> None:
        """Show the filter box holding ``text`` (the palette's filters)."""
        box = self.filter_box
        box.value = text
        box.display = True
        self.filter_text = text

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()

    @on(Input.Submitted, "#filter")
    @on(FilterInput.Done)
    def _leave_filter(self) -> None:
        box = self.filter_box
        box.display = bool(box.value)
        self.table.focus()

    def action_toggle_queue(self) -> None:
        panel = self.queue_panel
        panel.display = not panel.display
        if panel.display:
            panel.query_one(ListView).focus()  # c, R and x act at once
        elif self.focused is not None and panel in self.focused.ancestors:
            self.table.focus()
        self.jobs.update_jobs_line()

    @on(QueuePanel.CloseRequested)
    def _queue_closed(self) -> None:
        self.close_top()

    def close_top(self) -> bool:
        """Close the queue panel if it is open (q and Esc close what is on top before anything
        quits); False when there was nothing to close."""
        if not self.queue_panel.display:
            return False
        self.action_toggle_queue()
        return True

    async def action_toggle_details(self) -> None:
        pane = self.details
        if pane is None:  # made the first time d shows it: the first frame has no use for it
            pane = self.details = DetailsPane(id="details")
            await self.query_one("#body").mount(pane)
        else:
            pane.display = not pane.display
        self._update_details()

    def action_copy(self) -> None:
        entry = self.table.highlighted
        if entry is None:
            self.notify("no build highlighted", severity="warning")
            return
        self.app.copy_to_clipboard(copy_text(entry))
        self.notify(f"copied the paths, URL and sha256 of {entry.build.describe()}", timeout=3)

    def action_reload(self) -> None:
        self.listing.reload_from = list(self.all_entries)  # what the summary compares against
        self.notify("reloading: the cache, the installs and the catalog…", timeout=2)
        if self.listing.catalog_failed:
            self.listing.catalog_failed = False
            self.shelf.reload_catalog()
            self.status.set_warning(None)
        self.load_entries()

    def action_upgrade(self) -> None:
        self.upgrades.upgrade()

    def action_export(self) -> None:
        self.bundles.export()

    def action_import(self) -> None:
        self.bundles.import_()

    def action_cleanup(self) -> None:
        from tui.app.disk.screen import CleanupScreen

        self.app.push_screen(
            CleanupScreen(self.shelf, self.queue, self.scope, on_change=self.load_entries)
        )

    # -- jobs (``BuildJobs``) and the connection check (``ConnectionCheck``) ---------------

    def action_check_connection(self) -> None:
        self.connection.start()

    @on(JobRequested)
    def _job_requested(self, message: JobRequested) -> None:
        self.jobs.request(message.kind)

    @on(RemovalDone)
    def _removal_done(self, message: RemovalDone) -> None:
        self.jobs.removal_done(message.outcome, message.verb)

    @on(JobUpdated)
    def _job_updated(self, message: JobUpdated) -> None:
        if self._alive:
            self.jobs.updated(message.event)

    def retry_job(self, job: Job) -> None:
        if job.entry is None:  # a removal from the cleanup view: nothing in the table to refresh
            super().retry_job(job)
        else:
            self.jobs.retry(job)

    # -- the command palette -------------------------------------------------------------

    def commands(self) -> Iterator[Command]:
        """What the palette offers here, each with the key bound to it now."""
        key = partial(bound_key, self.app)
        table = self.table
        targets = table.targets()
        what = f"{len(targets)} marked builds" if len(targets) > 1 else ""
        if len(targets) == 1:
            what = targets[0].build.describe()
        yield from self.jobs.commands()
        yield from table.mark_commands()
        yield (
            "Show only the newest patch of each minor" if self.show_all else "Show all versions",
            self.action_toggle_all,
            key("all"),
        )
        yield "Filter builds", self.action_filter, key("filter")
        if self.filter_text:
            yield "Clear the filter", self.action_clear_filter, key("clear-filter")
        for word, what in TAGS.items():
            yield f"Filter: {what}", partial(self.filter_to, word), f"“{word}” in the filter"
        yield from self.jobs.default_commands()
        yield from self.upgrades.commands()
        yield from self.bundles.commands()
        yield from self.connection.commands()
        yield from table.sort_commands()
        yield (
            "Show / hide the job queue",
            self.action_toggle_queue,
            f"{key('queue')}; {key('queue-close')} in the queue closes it",
        )
        yield from self.queue_panel.commands()
        yield "Show / hide details", self.action_toggle_details, key("details")
        if targets:
            yield (
                "Copy the paths, URL and sha256 of the highlighted build",
                self.action_copy,
                key("copy"),
            )
        yield (
            "Disk usage: what every interpreter and archive costs, and clean-up",
            self.action_cleanup,
            key("cleanup"),
        )
        if freeable(self.all_entries):
            yield (
                "Evict what could be freed: the cache of installed builds, partial downloads",
                self.jobs.free_cache,
                "frees the header's “could free”; asks first",
            )
        yield "Reload the list", self.action_reload, key("reload")

"""The builds: the table, the job queue and the details, over the app's shelf and queue."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import DataTable, Input, Label, ListView
from textual.worker import get_current_worker

from tui.app import kinds
from tui.app.bundle_dialogs import BUNDLE_BINDINGS, BundleActions
from tui.app.commands import Command
from tui.app.connection import ConnectionActions
from tui.app.footer import FILTER_ACTIONS, QUEUE_ACTIONS, ActionFooter, table_actions
from tui.app.keys import bound_key, register
from tui.app.messages import (
    EntriesLoaded,
    JobUpdated,
    LedgerMeasured,
    SizesKnown,
    SortChanged,
)
from tui.app.notes import empty_filter_note, reload_summary
from tui.app.present import freeable, matches, row_id, totals, totals_text
from tui.app.row_notes import TAGS, RowNotes
from tui.app.screens.build_jobs import BuildJobs
from tui.app.title import fit_parts
from tui.app.upgrade_jobs import UPGRADE_BINDINGS, UpgradeActions
from tui.app.widgets.details import DetailsPane, copy_text
from tui.app.widgets.filter_input import FilterInput
from tui.app.widgets.queue_panel import QueuePanel
from tui.app.widgets.shelf_table import ShelfTable
from tui.app.widgets.status_line import StatusLine
from tui.app.widgets.title_bar import TitleBar
from tui.config import Preferences
from tui.engine.errors import CatalogError
from tui.engine.jobs import JobQueue, Phase
from tui.engine.listing import default_view
from tui.engine.shelf import Entry, Shelf
from tui.engine.uvcache import uv_cache_notice

# The disk-usage view and engine load when first used: after the first frame.
if TYPE_CHECKING:
    from tui.app.screens.cleanup import Scope
    from tui.engine.usage.ledger import Ledger

PROBE_BATCH = 8  # HEAD requests per batch: sizes fill in batch by batch
PROBE_RETRY = 30.0  # seconds before sizes no host answered for are asked again
PRELOAD_WAIT = 0.15  # seconds the first frame waits at most for the preloaded rows
SHOW_FIRST = 0.5  # seconds the disk walk waits at most for the rows to be painted first


def measure_ledger(shelf: Shelf) -> Ledger | None:
    """``Ledger.measure``, imported by the walk's own thread."""
    from tui.engine.usage.ledger import Ledger

    return Ledger.measure(shelf)


class MainScreen(ConnectionActions, BuildJobs):
    BINDINGS: ClassVar[list[BindingType]] = [*BUNDLE_BINDINGS, *UPGRADE_BINDINGS, *register(
        [
            # The footer (tui.app.footer) shows the main actions in a fixed order; help (?)
            # and Ctrl+P list the rest.
            # Priority: the screen acts on "/" before it forwards the keys typed right after
            # it, so they land in the filter box (check_action hands "/" back inside inputs).
            Binding(
                "slash", "filter", "Filter", key_display="/", show=False, priority=True,
                id="filter",
            ),
            Binding("a", "toggle_all", "All versions", show=False, id="all"),
            Binding(
                "Q", "toggle_queue", "Queue", key_display="Q", show=False,
                tooltip="Show or hide the job queue", id="queue",
            ),
            Binding("d", "toggle_details", "Details", show=False, id="details"),
            Binding(
                "D", "cleanup", "Disk usage", key_display="D", show=False,
                tooltip="What every interpreter and archive costs; mark and free space",
                id="cleanup",
            ),
            Binding("ctrl+r", "reload", "Reload", show=False, id="reload"),
            Binding("y", "copy", "Copy", show=False, id="copy"),
            # Esc on the table clears a kept filter once no marks are left to clear.
            Binding("escape", "clear_filter", "Clear filter", show=False, id="clear-filter"),
        ]
    )]  # fmt: skip
    # The details pane goes beside the table only where both fit: the table's narrow column
    # set needs 80 columns and the pane 40; below that it goes under the table.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (120, "-wide")]
    # The table has the focus from the first frame: focused later, it would be drawn again.
    AUTO_FOCUS = "#table"
    WORKER_ERRORS: ClassVar[dict[str, str]] = {
        "entries": "cannot list builds",
        "probe": "probing download sizes failed",
        "measure": "measuring sizes failed",
        "confirm": "counting what the removal frees failed",
        "reinstall": "checking what a reinstall would discard failed",
        "remove": "the removal stopped",
        "upgrade-plan": "looking for environments to upgrade failed",
        "upgrade": "the upgrade stopped",
        "export": "the export stopped",
        "connection": "checking the connection failed",
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
        measure: Callable[[Shelf], Ledger | None] = measure_ledger,
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
        self._reload_from: list[Entry] | None = None  # set by ctrl+r until its load lands
        self._probe_retry: Timer | None = None
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
        self.upgrades = UpgradeActions(
            self, self.shelf, self.queue, self.table, cwd=self._cwd, planner=self.plan_builds
        )
        self.bundles = BundleActions(self, self.shelf, self.queue, self.table, cwd=self._cwd)
        self.queue_panel = QueuePanel(id="queue")
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
        for job in list(self.queue.jobs):  # a queue handed over with work already in it
            self.queue_panel.show_event(job.snapshot())
        self.update_jobs_line()
        # The queue calls back on its worker threads; post_message is thread-safe.
        self._unsubscribe = self.queue.subscribe(lambda e: self.post_message(JobUpdated(e)))
        if self.shelf.settings.offline:
            self._set_warning("offline: listing the cache and installs; downloads are off")
        if notice := uv_cache_notice(self.shelf.settings):
            self.notify(notice, title="uv and the cache", timeout=10)  # once, quietly
        self._update_subtitle()
        # Listed while Textual loaded (a moment's wait at most): the first frame has the rows,
        # and the footer is laid out once, with the keys that apply to them.
        if self.shelf.preloaded(wait=PRELOAD_WAIT):
            entries = self.shelf.entries()
            warnings = list(self.shelf.catalog.warnings)
            notes = RowNotes.of(entries, self._cwd(), offline=self.shelf.settings.offline)
            self._entries_loaded(EntriesLoaded(entries, warnings, notes=notes))
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
        # Reads pin files: here, off the UI thread.
        notes = RowNotes.of(entries, self._cwd(), offline=self.shelf.settings.offline)
        if not worker.is_cancelled:
            self.post_message(EntriesLoaded(entries, warnings, error, notes))

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
        self.table.notes = message.notes
        self._generation += 1
        self.ledger = None  # the totals wait for this load's own measurement
        self.table.measuring = {
            row_id(e) for e in message.entries if e.installation or e.unpacked_size is None
        }
        self._apply_view()
        if message.catalog_error:
            self._warn(f"catalog failed: {message.catalog_error}; listing the cache and installs")
        for warning in [*message.warnings, *filter(None, [message.notes.problem])]:
            self._warn(warning)
        # Two refreshes: the rows', then the footer's for the keys that apply to them.
        shown = threading.Event()
        self.call_after_refresh(self.call_after_refresh, shown.set)
        self.measure_sizes(self._generation, shown)
        self.table.redraw()
        self._update_details()
        if self._reload_from is not None:
            before, self._reload_from = self._reload_from, None
            self.notify(reload_summary(before, message.entries), timeout=4)

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
            self._probe_again_later()
        table.redraw(None if message.finished else message.row_ids)
        self._update_status()
        self._update_details()

    def _probe_again_later(self) -> None:
        """Sizes no host answered for are asked again a little later, so they fill in when
        the network returns (a mirror's "no such file" is not asked about again)."""
        unreachable = [
            e for e in self.table.entries.values() if self.shelf.sizes.unreachable(e.build)
        ]
        if unreachable and self._probe_retry is None:
            self._probe_retry = self.set_timer(PROBE_RETRY, self._probe_again)

    def _probe_again(self) -> None:
        self._probe_retry = None
        self.shelf.sizes.failures.forget_hosts()  # the network may be back: ask each host once
        self._probe_visible()

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
        entries = default_view(self.all_entries, self.shelf.host, all_versions=self.show_all)
        if self.filter_text:
            notes = self.table.notes
            entries = [e for e in entries if matches(e, self.filter_text, notes.tags(e))]
        self.table.show(entries)
        self._show_empty_note(entries)
        self._probe_visible()
        self._update_status()
        self._update_subtitle()

    def _show_empty_note(self, shown: list[Entry]) -> None:
        note = self.query_one("#empty-note", Label)
        note.display = bool(self.filter_text) and not shown
        if note.display:
            every = default_view(self.all_entries, self.shelf.host, all_versions=True)
            more = not self.show_all and any(matches(e, self.filter_text) for e in every)
            key = partial(bound_key, self.app)
            note.update(
                empty_filter_note(
                    self.filter_text, clear_key=key("clear-filter"), all_key=key("all"), more=more
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

    def _update_status(self) -> None:
        self.status.set_totals(totals_text(totals(self.all_entries, self.ledger)))

    def _update_subtitle(self) -> None:
        all_key = bound_key(self.app, "all")
        view = "all versions" if self.show_all else f"newest per minor ({all_key}: all)"
        parts = [f"{len(self.table.entries)} of {len(self.all_entries)}", view]
        if self.filter_text:
            parts.append(f"filter “{self.filter_text}”")
        if self.connection:  # offline by setting, or what the last connection check found
            parts.append(self.connection)
        parts.append(str(self.shelf.host))
        # The header writes "pyshelf — " before it and keeps cells for its icon either side.
        room = self.size.width - len(f"{self.app.title} — ") - 20
        self.sub_title = fit_parts(parts, room)

    def on_resize(self) -> None:
        self._update_subtitle()

    def connection_changed(self) -> None:
        self._update_subtitle()

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
        if pane is None or not pane.display:
            return
        entry = self.table.highlighted
        verified = bool(entry and entry.build.sha256 in self.shelf.downloader.verified)
        pane.show(
            entry,
            verified=verified,
            job=self.table.jobs.get(entry.key) if entry else None,
            size_unknown=self.shelf.why_size_unknown(entry) if entry else None,
        )

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
        if panel.display:
            panel.query_one(ListView).focus()  # c, R and x act at once
        elif self.focused is not None and panel in self.focused.ancestors:
            self.table.focus()
        self.update_jobs_line()

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

    @work(thread=True, group="default", exclusive=True, exit_on_error=False)
    def make_default(self, key: str) -> None:
        """``install --default`` for an install already there: the bin dir's links, by uv's
        rules (a name neither uv nor pyshelf made is left alone, and said)."""
        done = self.shelf.installs.link_bin(key, default=True, force=False)
        if done is None:
            self.app.call_from_thread(
                self.notify, f"{key} is no longer installed", severity="warning"
            )
            return
        links, warnings = done
        made = ", ".join(link.name for link in links.linked) or "no link"
        text = f"{key}: linked {made}"
        if links.refused:
            left = ", ".join(link.name for link in links.refused)
            text += f"; left {left} alone (neither uv nor pyshelf made it)"
        severity = "warning" if links.refused or warnings else "information"
        self.app.call_from_thread(self.notify, "\n".join([text, *warnings]), severity=severity)

    def action_copy(self) -> None:
        entry = self.table.highlighted
        if entry is None:
            self.notify("no build highlighted", severity="warning")
            return
        self.app.copy_to_clipboard(copy_text(entry))
        self.notify(f"copied the paths, URL and sha256 of {entry.build.describe()}", timeout=3)

    def action_reload(self) -> None:
        self._reload_from = list(self.all_entries)  # what the summary compares against
        self.notify("reloading: the cache, the installs and the catalog…", timeout=2)
        if self._catalog_failed:
            self._catalog_failed = False
            self.shelf.reload_catalog()
            self._set_warning(None)
        self.load_entries()

    def action_upgrade(self) -> None:
        self.upgrades.upgrade()

    def action_export(self) -> None:
        self.bundles.export()

    def action_import(self) -> None:
        self.bundles.import_()

    def action_cleanup(self) -> None:
        from tui.app.screens.cleanup import CleanupScreen

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
        for job in kinds.table_specs():
            if any(table.why_not(job.kind, e) is None for e in targets):
                words = kinds.words(job.kind)
                yield (
                    f"{words.palette or words.title}: {what}",
                    partial(self.request_jobs, job.kind),
                    f"{words.help} ({key(kinds.action(job.kind))})",
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
        if self.filter_text:
            yield "Clear the filter", self.action_clear_filter, key("clear-filter")
        for word, what in TAGS.items():
            yield f"Filter: {what}", partial(self.filter_to, word), f"“{word}” in the filter"
        entry = table.highlighted
        if entry is not None and entry.installation is not None:
            yield (
                f"Make the default python: {entry.build.describe()}",
                partial(self.make_default, entry.key),
                "python, python3 and its python3.X in the bin dir, as pyshelf install --default",
            )
        yield from self.upgrades.commands()
        yield from self.bundles.commands()
        yield from self.connection_commands()
        yield "Sort by the next column", table.action_cycle_sort, key("sort")
        yield (
            "Sort by the previous column",
            partial(table.action_cycle_sort, -1),
            key("sort-previous"),
        )
        yield "Reverse the sort order", table.action_reverse_sort, key("sort-reverse")
        yield (
            "Show / hide the job queue",
            self.action_toggle_queue,
            f"{key('queue')}; {key('queue-close')} in the queue closes it",
        )
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
                self.free_cache,
                "frees the header's “could free”; asks first",
            )
        yield "Reload the list", self.action_reload, key("reload")

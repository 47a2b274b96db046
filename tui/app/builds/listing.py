"""The builds as loaded last, and their sizes: listed, probed batch by batch and measured by
thread workers of the builds view, whose results come back to it as messages and land here."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from textual.screen import Screen
from textual.timer import Timer
from textual.worker import get_current_worker

from tui.app.builds.events import EntriesLoaded, LedgerMeasured, SizesKnown
from tui.app.builds.notices import reload_summary
from tui.app.builds.row_tags import RowNotes
from tui.app.builds.table import ShelfTable
from tui.app.present import row_id
from tui.app.threads import in_thread
from tui.engine.errors import CatalogError
from tui.engine.shelf import Entry, Shelf

# The usage engine loads on the walk's own thread, after the first frame.
if TYPE_CHECKING:
    from tui.engine.usage.ledger import Ledger

PROBE_BATCH = 8  # HEAD requests per batch: sizes fill in batch by batch
PROBE_RETRY = 30.0  # seconds before sizes no host answered for are asked again
SHOW_FIRST = 0.5  # seconds the disk walk and the probe wait at most for the rows' paint


class Measure(Protocol):
    """How the builds view measures sizes (tests fix them): ``walk=False`` answers None
    unless every tree's size is recorded, and is quick enough for the first paint (named by
    ``entries``, the rows' own, rather than every platform's)."""

    def __call__(
        self, shelf: Shelf, *, walk: bool = True, entries: list[Entry] | None = None
    ) -> Ledger | None: ...


def measure_ledger(
    shelf: Shelf, *, walk: bool = True, entries: list[Entry] | None = None
) -> Ledger | None:
    """``Ledger.measure``, imported by the walk's own thread."""
    from tui.engine.usage.ledger import Ledger

    return Ledger.measure(shelf, entries, walk=walk)


class Listing:
    """The entries of ``shelf`` shown in ``table``, loaded by workers of ``view``.

    ``cwd`` is where pin files are read; ``measure`` walks the disk (a test's stand-in makes
    sizes the same on every run). What the view hands over to show what changed: ``shown``
    (the rows again, filtered), ``refresh`` (the totals and the details), ``warn`` (a catalog
    or network problem).
    """

    def __init__(
        self,
        view: Screen[None],
        shelf: Shelf,
        table: ShelfTable,
        *,
        cwd: Callable[[], Path],
        measure: Measure,
        shown: Callable[[], None],
        refresh: Callable[[], None],
        warn: Callable[[str], None],
    ) -> None:
        self.view = view
        self.shelf = shelf
        self.table = table
        self.cwd = cwd
        self.measure = measure
        self.shown = shown
        self.refresh = refresh
        self.warn = warn
        self.entries: list[Entry] = []
        # Every size on screen comes from one measurement of the install dir and the cache.
        self.ledger: Ledger | None = None  # of the entries loaded last, once measured
        self.generation = 0  # entry loads so far: a ledger of older entries is dropped
        self.catalog_failed = False  # the catalog is loaded again on the next reload
        self.reload_from: list[Entry] | None = None  # set by ctrl+r until its load lands
        self._probe_retry: Timer | None = None
        self.painted = threading.Event()  # set once the rows loaded last are on screen

    # -- what the workers found ---------------------------------------------------------------

    def show_preloaded(self, wait: float) -> bool:
        """Show the entries the shelf listed while Textual loaded, waiting ``wait`` seconds
        at most for them; False when they are not there yet."""
        if not self.shelf.preloaded(wait=wait):
            return False
        entries = self.shelf.entries()
        warnings = list(self.shelf.catalog.warnings)
        self.loaded(EntriesLoaded(entries, warnings, notes=self.notes(entries)))
        return True

    def loaded(self, message: EntriesLoaded) -> None:
        self.entries = message.entries
        table = self.table
        table.notes = message.notes
        self.generation += 1
        self.ledger = None  # the totals wait for this load's own measurement
        # The rows' first paint: the disk walk and the size probe wait for it (a moment at
        # most), so they do not compete with it for the interpreter.
        self.painted = painted = threading.Event()
        view = self.view
        view.call_after_refresh(view.call_after_refresh, painted.set)  # the footer's refresh too
        recorded = self._recorded() if self.generation == 1 else None
        if recorded is not None:
            # The first rows, with every tree's size recorded: painted once, with their sizes,
            # rather than with "measuring…" and again a moment later (a table repaint).
            self.ledger = recorded
            sized = {row_id(e): e for e in recorded.sized(self.shelf, self.entries)}
            self.entries = [sized.get(row_id(e), e) for e in self.entries]
            table.measuring = set()
        else:
            table.measuring = {
                row_id(e) for e in self.entries if e.installation or e.unpacked_size is None
            }
        self.shown()
        if message.catalog_error:
            self.warn(f"catalog failed: {message.catalog_error}; listing the cache and installs")
        for warning in [*message.warnings, *filter(None, [message.notes.problem])]:
            self.warn(warning)
        if recorded is None:
            self.walk_sizes(self.generation, painted)
        table.redraw()
        self.refresh()
        if self.reload_from is not None:
            before, self.reload_from = self.reload_from, None
            view.notify(reload_summary(before, message.entries), timeout=4)

    def probe_shown(self) -> None:
        """Ask for the download sizes of the rows shown, those in view first."""
        todo = [e for e in self.table.visible_first() if e.download_size is None and e.available]
        self.table.probing = bool(todo) and not self.shelf.settings.offline
        if self.table.probing:
            self.probe(todo)

    def sizes_known(self, message: SizesKnown) -> None:
        table = self.table
        sizes = message.sizes

        def with_size(e: Entry) -> Entry:
            size = sizes.get(row_id(e)) if e.download_size is None else None
            return e if size is None else e._replace(download_size=size)

        if sizes:  # onto the rows there now: entries may have loaded again since the probe
            self.swap_rows(with_size)
        if message.kind == "download" and message.finished:
            table.probing = False
            self._probe_again_later()
        table.redraw(None if message.finished else message.row_ids)
        self.refresh()

    def _probe_again_later(self) -> None:
        """Sizes no host answered for are asked again a little later, so they fill in when
        the network returns (a mirror's "no such file" is not asked about again)."""
        unreachable = [
            e for e in self.table.entries.values() if self.shelf.sizes.unreachable(e.build)
        ]
        if unreachable and self._probe_retry is None:
            self._probe_retry = self.view.set_timer(PROBE_RETRY, self._probe_again)

    def _probe_again(self) -> None:
        self._probe_retry = None
        self.shelf.sizes.failures.forget_hosts()  # the network may be back: ask each host once
        self.probe_shown()

    def measured(self, message: LedgerMeasured) -> None:
        if message.generation != self.generation:
            return  # entries loaded since: their own measurement follows
        self.ledger = message.ledger
        sized = {row_id(e): e for e in message.ledger.sized(self.shelf, self.entries)}
        self.swap_rows(lambda e: sized.get(row_id(e), e))
        self.table.measuring.clear()
        self.table.redraw()
        self.refresh()

    def swap_rows(self, new: Callable[[Entry], Entry]) -> None:
        """Replace each row with ``new(row)``, in the list and in the table: rows are never
        changed in place, so a worker reading one never sees it half-changed."""
        self.entries = [new(e) for e in self.entries]
        shown = self.table.entries
        for rid, entry in shown.items():
            shown[rid] = new(entry)

    def failed(self, group: str, line: str) -> None:
        """A worker failed (the view said so): stop showing that it is at work."""
        if group == "probe":
            self.table.probing = False
            self.table.redraw()
        elif group == "measure":
            self.table.measuring.clear()
            self.table.redraw()

    # -- the workers ------------------------------------------------------------------------

    def notes(self, entries: list[Entry]) -> RowNotes:
        """What the rows' tags say (reads pin files)."""
        return RowNotes.of(entries, self.cwd(), offline=self.shelf.settings.offline)

    def load(self) -> None:
        """List the builds (``EntriesLoaded``); without the catalog when it fails to load."""
        in_thread(self.view, "load_entries", self._list, group="entries", exclusive=True)

    def _list(self) -> None:
        worker = get_current_worker()
        error = None
        try:
            entries = self.shelf.entries()
        except CatalogError as exc:
            error = str(exc)
            self.catalog_failed = True
            self.shelf.go_without_catalog("failed to load")
            entries = self.shelf.entries()
        warnings = list(self.shelf.catalog.warnings)
        notes = self.notes(entries)  # here, off the UI thread
        if not worker.is_cancelled:
            self.view.post_message(EntriesLoaded(entries, warnings, error, notes))

    def probe(self, entries: list[Entry]) -> None:
        """Ask the mirrors for download sizes, a batch at a time (``SizesKnown``)."""
        in_thread(
            self.view, "probe_sizes", lambda: self._probe(entries), group="probe", exclusive=True
        )

    def _probe(self, entries: list[Entry]) -> None:
        worker = get_current_worker()
        post = self.view.post_message
        self.painted.wait(SHOW_FIRST)
        for start in range(0, len(entries), PROBE_BATCH):
            if worker.is_cancelled:
                return
            batch = entries[start : start + PROBE_BATCH]
            sized = self.shelf.probe_download_sizes(batch)
            sizes = {row_id(e): e.download_size for e in sized if e.download_size is not None}
            post(SizesKnown([row_id(e) for e in batch], "download", sizes=sizes))
        if not worker.is_cancelled:
            post(SizesKnown([row_id(e) for e in entries], "download", finished=True))

    def walk_sizes(self, generation: int, shown: threading.Event | None = None) -> None:
        """Walk the install dir and the cache once: every size on screen comes from it
        (``LedgerMeasured``). ``shown``: set once the rows are on screen; the walk waits for
        it (a moment at most)."""

        def walk() -> None:
            if shown is not None:
                shown.wait(SHOW_FIRST)
            ledger = self.measure(self.shelf)
            if ledger is not None and not get_current_worker().is_cancelled:
                self.view.post_message(LedgerMeasured(ledger, generation))

        in_thread(self.view, "measure_sizes", walk, group="measure", exclusive=True)

    def _recorded(self) -> Ledger | None:
        """The sizes of every tree from the records, when they all hold: quick enough for the
        first paint (named by the rows' own entries, rather than every platform's)."""
        return self.measure(self.shelf, walk=False, entries=self.entries)

"""The main table: every build in one place, one row each, updated in place."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding, BindingsMap, BindingType
from textual.timer import Timer
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from tui.app import kinds, present, sorting
from tui.app.builds.events import JobRequested, SortChanged
from tui.app.builds.row_tags import RowNotes
from tui.app.commands import Command
from tui.app.keys import bound_key, bound_keys, register
from tui.app.navigation import vi_bindings
from tui.engine.jobs import JobEvent, JobKind
from tui.engine.jobspec import reason, spec
from tui.engine.shelf import Entry

TICK = 0.25  # seconds between progress repaints of the table


class ShelfTable(DataTable[present.Cell]):
    """Rows are keyed by ``present.row_id``; cells change through ``update_cell`` only."""

    BINDINGS: ClassVar[list[BindingType]] = register(
        [
            Binding(
                "space", "toggle_mark", "Mark", tooltip="Mark the row for a batch action", id="mark"
            ),
            *kinds.table_bindings(),  # each kind's job, and its explain when it is disabled
            Binding(
                "s", "cycle_sort", "Sort", show=False, tooltip="Sort by the next column", id="sort"
            ),
            Binding(
                "S",
                "cycle_sort(-1)",
                "Sort back",
                key_display="S",
                show=False,
                tooltip="Sort by the previous column",
                id="sort-previous",
            ),
            Binding(
                "o",
                "reverse_sort",
                "Reverse sort",
                show=False,
                tooltip="Reverse the order of the sort column",
                id="sort-reverse",
            ),
            *vi_bindings(),
            Binding("escape", "clear_marks", "Clear marks", show=False, id="clear-marks"),
        ]
    )

    HELP = (
        "{mark} marks rows; "
        + " ".join(f"{{{action}}}" for action in kinds.table_actions())
        + " act on marked rows or the highlighted one."
    )

    def __init__(
        self, *, sort: tuple[str, bool] = ("version", True), id: str | None = None
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        # A kind added after this class was made (``kinds.add``) binds its keys here.
        known = {b.id for _, b in self._bindings}
        if later := [b for b in kinds.table_bindings() if b.id not in known]:
            self._bindings = BindingsMap([*(b for _, b in self._bindings), *later])
        self.entries: dict[str, Entry] = {}  # row id -> entry, for the rows shown
        self.marked: set[str] = set()
        self.jobs: dict[str, JobEvent] = {}  # installation key -> latest unfinished event
        self.probing = False
        self.measuring: set[str] = set()  # row ids whose install size is being measured
        self.offline = False
        self.notes = RowNotes()  # upgrades and pins, from the last listing
        self.sort_column, self.sort_reverse = sort
        self.narrow = False
        self._ticked: set[str] = set()  # rows with progress not drawn yet
        self._tick_timer: Timer | None = None

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        for key, label in present.columns(self.narrow):
            width = present.COLUMN_WIDTHS.get(key, len(label) + 1)
            self.add_column(self._label(key), key=key, width=width)

    def _fit_columns(self) -> None:
        """Size the text columns to what they hold.

        Every column has a fixed width: DataTable measures auto widths only when idle and
        keeps cells rendered at the old width until something else changes.
        """
        changed = False
        for key, label in present.columns(self.narrow):
            if key in present.COLUMN_WIDTHS:
                continue
            cells = (self.get_cell(rid, key).text.cell_len for rid in self.entries)
            width = max([len(label) + 1, *cells])  # + 1: room for the sort arrow
            if self.columns[key].width != width:  # type: ignore[index]
                self.columns[key].width = width  # type: ignore[index]
                changed = True
        if changed:
            self.notify_style_update()  # drops the cells rendered at the old widths

    def on_resize(self) -> None:
        narrow = self.size.width < present.WIDE_MIN
        if narrow == self.narrow:
            return
        # A different set of columns: the one time rows are rebuilt, keeping the cursor.
        self.narrow = narrow
        keep = self.highlighted_row_id
        self.clear(columns=True)
        self._add_columns()
        for rid, entry in self.entries.items():
            self._add_row(rid, entry)
        self._fit_columns()
        if self.sort_column not in self.columns:
            self.sort_column, self.sort_reverse = "version", True
        self._resort(keep=keep)

    # -- what the rows show --------------------------------------------------------------

    def _label(self, key: str) -> Text:
        label = present.COLUMN_LABELS[key]
        if key == "mark":
            return Text(label)
        arrow = ("▼" if self.sort_reverse else "▲") if key == self.sort_column else ""
        if key in present.SIZE_COLUMNS:  # right-aligned like the sizes under them
            return Text(f"{arrow}{label}", justify="right")
        return Text(f"{label}{arrow}")

    def _cells(self, rid: str, entry: Entry) -> dict[str, present.Cell]:
        return present.row_cells(
            entry,
            marked=rid in self.marked,
            job=self.jobs.get(entry.key),
            probing=self.probing,
            measuring=rid in self.measuring,
            narrow=self.narrow,
            offline=self.offline,
            newer=self.notes.newer(entry),
            pinned=entry.key in self.notes.pinned,
        )

    def _add_row(self, rid: str, entry: Entry) -> None:
        cells = self._cells(rid, entry)
        self.add_row(*(cells[k] for k, _ in present.columns(self.narrow)), key=rid)

    def show(self, entries: Iterable[Entry]) -> None:
        """Make the table show exactly ``entries``: add, remove and update rows in place."""
        wanted = {present.row_id(e): e for e in entries}
        current = self.highlighted_row_id
        structural = False
        for rid in [r for r in self.entries if r not in wanted]:
            self.remove_row(rid)
            del self.entries[rid]
            structural = True
        kept = []
        for rid, entry in wanted.items():
            if rid in self.entries:
                kept.append(rid)
                self.entries[rid] = entry
            else:
                self.entries[rid] = entry
                self._add_row(rid, entry)
                structural = True
        self.marked &= set(wanted)
        self.redraw(kept, bindings=not structural)
        if structural:
            self._fit_columns()
            self._resort(keep=current)

    def redraw(self, row_ids: Iterable[str] | None = None, *, bindings: bool = True) -> None:
        """Recompute the cells of some rows (all by default) and update those that changed.

        ``bindings=False`` for progress ticks: re-checking the footer on every tick would
        rebuild it dozens of times a second while downloads run.
        """
        for rid in list(self.entries) if row_ids is None else row_ids:
            entry = self.entries.get(rid)
            if entry is None:
                continue
            cells = self._cells(rid, entry)
            for key, _ in present.columns(self.narrow):
                cell = cells[key]
                try:
                    if self.get_cell(rid, key) != cell:
                        self.update_cell(rid, key, cell)
                except RowDoesNotExist:
                    break
        if bindings:
            self._changed()

    def rows_for_key(self, key: str) -> list[str]:
        return [rid for rid, e in self.entries.items() if e.key == key]

    def set_job(self, event: JobEvent) -> None:
        """Show an unfinished job's phase in the state column of its rows."""
        started = event.key not in self.jobs
        if event.phase.final:
            self.jobs.pop(event.key, None)
        else:
            self.jobs[event.key] = event
        rows = self.rows_for_key(event.key)
        if started or event.phase.final:
            self.redraw(rows)
            return
        # Any cell update repaints the whole table, so progress ticks are batched: a few
        # repaints a second keep the app responsive while several downloads stream.
        self._ticked.update(rows)
        if self._tick_timer is None:
            self._tick_timer = self.set_timer(TICK, self._flush_ticks)

    def _flush_ticks(self) -> None:
        rows, self._ticked, self._tick_timer = self._ticked, set(), None
        self.redraw(rows, bindings=False)

    def _changed(self) -> None:
        self.refresh_bindings()  # applicability may have changed with the row's state

    # -- cursor and marks ----------------------------------------------------------------

    @property
    def highlighted_row_id(self) -> str | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except RowDoesNotExist:
            return None
        return key.value

    @property
    def highlighted(self) -> Entry | None:
        rid = self.highlighted_row_id
        return self.entries.get(rid) if rid else None

    def ordered(self) -> list[Entry]:
        """The shown entries in table order."""
        return [self.entries[row.key.value] for row in self.ordered_rows if row.key.value]

    def visible_first(self) -> list[Entry]:
        """The shown entries in table order, the rows in view first (sizes are probed so)."""
        rows = self.ordered()
        top = max(0, int(self.scroll_y))
        header = self.header_height if self.show_header else 0
        seen = self.size.height - header  # rows are one line high
        if seen <= 0:  # not laid out yet: any row may be in view
            return rows
        return rows[top : top + seen] + rows[:top] + rows[top + seen :]

    def targets(self) -> list[Entry]:
        """The marked rows in table order, else the highlighted row."""
        if self.marked:
            order = sorted(self.marked, key=lambda rid: self.get_row_index(rid))
            return [self.entries[rid] for rid in order if rid in self.entries]
        entry = self.highlighted
        return [entry] if entry else []

    def action_toggle_mark(self) -> None:
        rid = self.highlighted_row_id
        if rid is None:
            return
        self.marked ^= {rid}
        self.redraw([rid])
        self.action_cursor_down()

    def action_clear_marks(self) -> None:
        marked, self.marked = self.marked, set()
        self.redraw(marked)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_marks":
            return bool(self.marked)
        if action != "job":
            return True
        # None: shown dimmed when it applies to none of the targets, so the footer keeps its
        # place; the explain binding then takes the key and says why.
        kind = JobKind(str(parameters[0]))
        return True if any(self._why_not(kind, e) is None for e in self.targets()) else None

    def _why_not(self, kind: JobKind, entry: Entry) -> str | None:
        """The reason's template: the footer asks per binding, and needs no keys in it."""
        job = self.jobs.get(entry.key)
        return spec(kind).why_not(entry, offline=self.offline, busy=job.kind if job else None)

    def why_not(self, kind: JobKind, entry: Entry) -> str | None:
        """Why ``kind`` does not apply to ``entry``, naming the keys bound now; None if it does."""
        template = self._why_not(kind, entry)
        return None if template is None else reason(template, bound_keys(self.app))

    def action_job(self, kind: str) -> None:
        self.post_message(JobRequested(JobKind(kind)))

    def action_explain(self, kind: str) -> None:
        targets = self.targets()
        if not targets:
            self.notify("no build highlighted", severity="warning")
            return
        why = self.why_not(JobKind(kind), targets[0])
        what = targets[0].build.describe() if len(targets) == 1 else f"{len(targets)} marked"
        self.notify(f"{what}: {why or 'cannot ' + kind}", severity="warning", timeout=4)

    # -- sorting -------------------------------------------------------------------------

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        if reverse is None:
            reverse = column in present.DESCENDING
        self.sort_column, self.sort_reverse = column, reverse
        self.post_message(SortChanged(column, reverse))
        for key, _ in present.columns(self.narrow):
            self.columns[key].label = self._label(key)  # type: ignore[index]
        self._resort(keep=self.highlighted_row_id)

    def action_cycle_sort(self, by: int = 1) -> None:
        """Sort by the column ``by`` places on (-1: the one before), in its usual direction."""
        keys = [k for k, _ in present.columns(self.narrow) if k != "mark"]
        self.sort_by(sorting.step(keys, self.sort_column, by))
        self._say_sort()

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort_column, not self.sort_reverse)
        self._say_sort()

    def _say_sort(self) -> None:
        way = "descending" if self.sort_reverse else "ascending"
        label = present.COLUMN_LABELS[self.sort_column].lower()
        self.notify(f"sorted by {label}, {way}", timeout=2)

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        self.refresh_bindings()  # the footer shows what applies to this row

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        key = event.column_key.value or ""
        if key == "mark":
            return
        if key == self.sort_column:
            self.sort_by(key, not self.sort_reverse)
        else:
            self.sort_by(key)

    def _resort(self, keep: str | None) -> None:
        # Ties fall back to the newest version first, whichever way the column goes.
        pairs = [
            (self.get_cell(rid, self.sort_column).sort, self.get_cell(rid, "version").sort)
            for rid in self.entries
        ]
        ranks = sorting.rank_keys(pairs, reverse=self.sort_reverse)
        self.sort(
            self.sort_column, "version", key=lambda cells: ranks[(cells[0].sort, cells[1].sort)]
        )
        if keep is not None and keep in self.entries:
            self.move_cursor(row=self.get_row_index(keep), animate=False)
        self._changed()

    # -- the command palette's entries for the table ---------------------------------------

    def mark_commands(self) -> Iterator[Command]:
        key = partial(bound_key, self.app)
        if self.targets():
            yield "Mark / unmark the highlighted build", self.action_toggle_mark, key("mark")
        if self.marked:
            yield "Clear marks", self.action_clear_marks, f"{key('clear-marks')} in the table"

    def sort_commands(self) -> Iterator[Command]:
        key = partial(bound_key, self.app)
        yield "Sort by the next column", self.action_cycle_sort, key("sort")
        yield (
            "Sort by the previous column",
            partial(self.action_cycle_sort, -1),
            key("sort-previous"),
        )
        yield "Reverse the sort order", self.action_reverse_sort, key("sort-reverse")

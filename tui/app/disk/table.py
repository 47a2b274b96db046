"""The disk-usage table: every item of an inventory grouped by owner, with sizes and bars.

One header row per owner (its total and share), then its items; cells change through
``update_cell`` only, so sizes fill in while they are measured without the table flickering
or losing the cursor. Marks are kept by row id, so they survive a fresh inventory.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.binding import BindingType
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from tui.app import deferred_keys
from tui.app.disk.rows import (
    BAR_WIDTH,
    GROUP_TITLES,
    MARKED,
    group_id,
    header_cells,
    item_cells,
    labels,
    never_reason,
    row_id,
    version_key,
)
from tui.app.navigation import vi_bindings
from tui.app.present import Cell
from tui.engine.usage.inventory import Inventory, Item, Owner

# The orders s cycles through, each named after the column it sorts by.
SORTS = ["size", "name", "version", "age"]

# (key, label); the order is the table's. Narrow tables drop the version column (the name
# carries the version anyway).
COLUMNS = [
    ("mark", MARKED),
    ("name", "Name"),
    ("version", "Version"),
    ("size", "Size"),
    ("bar", ""),
    ("age", "Age"),
    ("status", "Status"),
]
NARROW_MIN = 100
WIDTHS = {"mark": 1, "version": 8, "size": 10, "age": 4}
STATUS_WIDTH = {False: 23, True: 16}
NAME_MIN = 12
NAME_MAX = 48


class UsageTable(DataTable[Cell]):
    """Rows keyed by ``row_id`` (items) and ``group_id`` (headers)."""

    BINDINGS: ClassVar[list[BindingType]] = [*deferred_keys.USAGE_TABLE, *vi_bindings()]

    HELP = (
        "{cleanup-mark} marks a row (on a group's header: the whole group); {cleanup-group} "
        "marks this row's group; {cleanup-remove} removes what is marked; {cleanup-prune} "
        "prunes by a preset."
    )

    class MarksChanged(Message):
        """The marks changed: the screen counts what they would free."""

    def __init__(
        self, *, host: str, clock: Callable[[], float] = time.time, id: str | None = None
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.host = host
        self.clock = clock
        self.inventory: Inventory | None = None
        self.items: dict[str, Item] = {}  # row id -> item, for the rows shown
        self.groups: dict[Owner, list[Item]] = {}
        self.labels: dict[int, str] = {}
        self.marked: set[str] = set()
        self.implied: set[str] = set()  # row ids the plan takes along with the marks
        self.sort_mode = "size"
        self.narrow = False
        self._now = clock()
        self._max = 0  # the largest item's size: bars are relative to it

    # -- columns -------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.narrow = self.app.size.width < NARROW_MIN
        self._add_columns()

    def _columns(self) -> list[tuple[str, str]]:
        return [(k, label) for k, label in COLUMNS if not (self.narrow and k == "version")]

    def _label(self, key: str) -> Text:
        label = dict(COLUMNS)[key]
        arrow = ""
        if key == self.sort_mode:
            arrow = "▼" if self.sort_mode in ("size", "version") else "▲"
        if key in ("size", "age"):
            return Text(f"{arrow}{label}", justify="right")
        return Text(f"{label}{arrow}")

    def _widths(self) -> dict[str, int]:
        widths = dict(WIDTHS)
        widths["bar"] = BAR_WIDTH[self.narrow]
        widths["status"] = STATUS_WIDTH[self.narrow]
        columns = self._columns()
        # Every column gets 2 cells of padding; the scrollbar takes one more.
        room = (self.size.width or self.app.size.width) - 2 * len(columns) - 1
        room -= sum(widths[k] for k, _ in columns if k != "name")
        names = [len(t) + 2 for t in self.labels.values()]  # + 2: items are indented
        longest = max([*names, *(len(g) + 5 for g in GROUP_TITLES.values())])
        widths["name"] = max(NAME_MIN, min(NAME_MAX, longest, room))
        return widths

    def _add_columns(self) -> None:
        widths = self._widths()
        for key, _ in self._columns():
            self.add_column(self._label(key), key=key, width=widths[key])

    def _fit_columns(self) -> None:
        """Fixed widths: DataTable measures auto widths only when idle (see ShelfTable)."""
        widths = self._widths()
        changed = False
        for key, _ in self._columns():
            column = self.columns[key]  # type: ignore[index]
            if column.width != widths[key]:
                column.width = widths[key]
                changed = True
        if changed:
            self.notify_style_update()

    def on_resize(self) -> None:
        narrow = self.size.width < NARROW_MIN
        if narrow != self.narrow:
            self.narrow = narrow
            keep = self.highlighted_row_id
            self.clear(columns=True)  # a different set of columns: rebuilt once, cursor kept
            self._add_columns()
            self._add_rows(list(self._row_ids()))
            self._resort(keep)
        else:
            self._fit_columns()

    # -- rows ------------------------------------------------------------------------------

    def _row_ids(self) -> Iterable[str]:
        for owner, members in self.groups.items():
            yield group_id(owner)
            for item in members:
                yield row_id(item)

    def _add_rows(self, rids: list[str]) -> None:
        for rid in rids:
            cells = self._cells(rid)
            self.add_row(*(cells[k] for k, _ in self._columns()), key=rid)

    def show(self, inventory: Inventory) -> None:
        """Show ``inventory``: rows of things gone are removed, new ones added, the rest
        updated in place (marks on things still there stay)."""
        self.inventory = inventory
        self.groups = inventory.groups()
        self.labels = labels(inventory.items, self.host)
        self.items = {row_id(i): i for i in inventory.items}
        wanted = list(self._row_ids())
        keep = self.highlighted_row_id
        present = {row.key.value for row in self.ordered_rows if row.key.value is not None}
        for rid in present - set(wanted):
            self.remove_row(rid)
        self._add_rows([rid for rid in wanted if rid not in present])
        self.marked &= set(self.items)
        self.implied &= set(self.items)
        self._fit_columns()
        self.redraw()
        self._resort(keep)

    def redraw(self, *, resort: bool = False) -> None:
        """Recompute every row and update the cells that changed (bars follow the largest
        item, so one new size can move them all)."""
        self._now = self.clock()
        self._max = max((i.size or 0 for i in self.items.values()), default=0)
        columns = self._columns()
        for rid in self._row_ids():
            cells = self._cells(rid)
            for key, _ in columns:
                try:
                    if self.get_cell(rid, key) != cells[key]:
                        self.update_cell(rid, key, cells[key])
                except RowDoesNotExist:
                    break
        if resort:
            self._resort(self.highlighted_row_id)

    def _cells(self, rid: str) -> dict[str, Cell]:
        if rid.startswith("group:"):
            owner = Owner(rid.removeprefix("group:"))
            everything = sum(i.size or 0 for i in self.items.values())
            members = self.groups.get(owner, [])
            return header_cells(owner, members, rid, everything=everything, marked=self.marked)
        item = self.items[rid]
        return item_cells(
            item,
            rid,
            label=self.labels.get(id(item), item.name),
            marked=rid in self.marked,
            implied=rid in self.implied,
            narrow=self.narrow,
            largest=self._max,
            now=self._now,
        )

    # -- sorting ---------------------------------------------------------------------------

    def _rank(self) -> dict[str, tuple[Any, ...]]:
        ranks: dict[str, tuple[Any, ...]] = {}
        for index, (owner, members) in enumerate(self.groups.items()):
            ranks[group_id(owner)] = (index, 0)
            for item in members:
                name = self.labels.get(id(item), item.name).lower()
                if self.sort_mode == "size":
                    key: tuple[Any, ...] = (item.size is None, -(item.size or 0))
                elif self.sort_mode == "version":
                    key = tuple(-n for n in version_key(item.version)) or (1,)
                elif self.sort_mode == "age":
                    key = (item.mtime,)  # oldest first: what a clean-up looks at
                else:
                    key = ()
                ranks[row_id(item)] = (index, 1, key, name)
        return ranks

    def _resort(self, keep: str | None) -> None:
        ranks = self._rank()
        self.sort("mark", key=lambda mark: ranks.get(mark.rid, (len(ranks),)))
        if keep is not None:
            with contextlib.suppress(RowDoesNotExist):  # the row went with a rescan
                self.move_cursor(row=self.get_row_index(keep), animate=False)

    def sort_by(self, mode: str) -> None:
        self.sort_mode = mode
        for key, _ in self._columns():
            self.columns[key].label = self._label(key)  # type: ignore[index]
        self._resort(self.highlighted_row_id)

    def action_cycle_sort(self, step: int = 1) -> None:
        self.sort_by(SORTS[(SORTS.index(self.sort_mode) + step) % len(SORTS)])
        self.notify(f"sorted by {self.sort_mode}", timeout=2)

    # -- cursor and marks ------------------------------------------------------------------

    @property
    def highlighted_row_id(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except RowDoesNotExist:
            return None

    @property
    def highlighted(self) -> Item | None:
        rid = self.highlighted_row_id
        return self.items.get(rid) if rid else None

    @property
    def highlighted_group(self) -> Owner | None:
        rid = self.highlighted_row_id
        if rid is None:
            return None
        if rid.startswith("group:"):
            return Owner(rid.removeprefix("group:"))
        item = self.items.get(rid)
        return item.owner if item else None

    def marked_items(self) -> list[Item]:
        """The marked items in table order."""
        order = [row.key.value for row in self.ordered_rows]
        return [self.items[rid] for rid in order if rid in self.marked and rid in self.items]

    def set_marks(self, rids: Iterable[str]) -> None:
        self.marked = {r for r in rids if r in self.items}
        self.redraw()
        self.post_message(self.MarksChanged())

    def clear_marks(self) -> None:
        self.implied = set()
        self.set_marks(())

    def set_implied(self, rids: Iterable[str]) -> None:
        self.implied = set(rids) - self.marked
        self.redraw()

    def _refuse(self, item: Item, why: str) -> None:
        label = self.labels.get(id(item), item.name)
        self.notify(f"{label} cannot be marked: {why}", severity="warning", timeout=5)

    def action_toggle_mark(self) -> None:
        rid = self.highlighted_row_id
        if rid is None:
            return
        if rid.startswith("group:"):
            self._toggle_group(Owner(rid.removeprefix("group:")))
        else:
            item = self.items[rid]
            why = never_reason(item)
            if why is not None:
                self._refuse(item, why)
                return
            self.set_marks(self.marked ^ {rid})
        self.action_cursor_down()

    def action_toggle_group(self) -> None:
        owner = self.highlighted_group
        if owner is not None:
            self._toggle_group(owner)

    def _toggle_group(self, owner: Owner) -> None:
        members = self.groups.get(owner, [])
        markable = {row_id(i) for i in members if never_reason(i) is None}
        if not markable:
            why = never_reason(members[0]) if members else "empty"
            self.notify(
                f"nothing in {GROUP_TITLES[owner]} can be marked: {why}",
                severity="warning",
                timeout=5,
            )
            return
        if markable <= self.marked:
            self.set_marks(self.marked - markable)
        else:
            self.set_marks(self.marked | markable)

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        if event.column_key.value in SORTS:
            self.sort_by(event.column_key.value)

"""The builds view's messages: results its workers and the queue's threads carry to the UI,
and what its table asks of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.message import Message

from tui.app.builds.row_tags import RowNotes
from tui.engine.jobs import JobKind
from tui.engine.shelf import Entry

if TYPE_CHECKING:  # the disk-usage engine loads when something is measured
    from tui.engine.usage.ledger import Ledger


@dataclass
class EntriesLoaded(Message):
    """A fresh merged view from ``Shelf.entries()``."""

    entries: list[Entry]
    warnings: list[str] = field(default_factory=list)
    catalog_error: str | None = None  # the catalog failed: only cache and installs are listed
    notes: RowNotes = field(default_factory=RowNotes)  # upgrades and pins of these entries


@dataclass
class LedgerMeasured(Message):
    """The install dir and the cache were measured for the entries of load ``generation``."""

    ledger: Ledger
    generation: int


@dataclass
class SizesKnown(Message):
    """Sizes of some rows were learned; the view swaps in rows that carry them."""

    row_ids: list[str]
    kind: str  # "download"
    finished: bool = False  # the probe or measurement is over: unknown stays unknown
    sizes: dict[str, int] = field(default_factory=dict)  # row id -> download size learned


@dataclass
class JobRequested(Message):
    """The user asked for ``kind`` on the highlighted or marked rows."""

    kind: JobKind


@dataclass
class SortChanged(Message):
    """The builds table is sorted by another column or direction (the config remembers it)."""

    column: str
    reverse: bool

"""Messages that carry results from worker threads (and the job queue) to the UI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.message import Message

from tui.app.row_notes import RowNotes
from tui.engine.jobs import JobEvent, JobKind
from tui.engine.shelf import Entry

if TYPE_CHECKING:  # the disk-usage engine loads when something is measured
    from tui.engine.usage.ledger import Ledger
    from tui.engine.usage.removal import Outcome


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
    """Sizes of some rows were learned; the screen swaps in rows that carry them."""

    row_ids: list[str]
    kind: str  # "download"
    finished: bool = False  # the probe or measurement is over: unknown stays unknown
    sizes: dict[str, int] = field(default_factory=dict)  # row id -> download size learned


@dataclass
class JobUpdated(Message):
    """The newest snapshot of one job, posted from the queue's worker threads."""

    event: JobEvent

    def can_replace(self, message: Message) -> bool:
        # A flood of progress collapses to the latest snapshot per job; snapshots are
        # complete, so the newest (even a final one) carries everything older ones did.
        return isinstance(message, JobUpdated) and message.event.job_id == self.event.job_id


@dataclass
class JobRequested(Message):
    """The user asked for ``kind`` on the highlighted or marked rows."""

    kind: JobKind


@dataclass
class JobCancelRequested(Message):
    job_id: int


@dataclass
class JobRetryRequested(Message):
    job_id: int


@dataclass
class SortChanged(Message):
    """The builds table is sorted by another column or direction (the config remembers it)."""

    column: str
    reverse: bool


@dataclass
class RemovalDone(Message):
    """A removal plan the builds view started has run, every step (from a queue thread)."""

    outcome: Outcome
    verb: str  # the job's title ("Uninstall"), as the notification's title

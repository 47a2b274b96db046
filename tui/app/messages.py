"""Messages between the job queue, its panel and the views: what moved on, what the user
asked of a job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from tui.engine.jobs import JobEvent

if TYPE_CHECKING:
    from tui.engine.usage.removal import Outcome


@dataclass
class JobUpdated(Message):
    """The newest snapshot of one job, posted from the queue's worker threads."""

    event: JobEvent

    def can_replace(self, message: Message) -> bool:
        # A flood of progress collapses to the latest snapshot per job; snapshots are
        # complete, so the newest (even a final one) carries everything older ones did.
        return isinstance(message, JobUpdated) and message.event.job_id == self.event.job_id


@dataclass
class JobCancelRequested(Message):
    job_id: int


@dataclass
class JobRetryRequested(Message):
    job_id: int


@dataclass
class RemovalDone(Message):
    """A removal a view or a flow started has run, every step (from a queue thread)."""

    outcome: Outcome
    verb: str  # the job's title ("Uninstall"), as the notification's title

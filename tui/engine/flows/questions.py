"""What a flow asks and says, the answers it takes, and ``drive``, which runs a flow
against an ``Asker``.

A generator keeps every step in one place, in order, and lets a test script the answers and
read back exactly what was asked; the asker may take its time (the app waits for a dialog on
the worker thread that drives the flow, the CLI for a line on stdin).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar

if TYPE_CHECKING:  # the removal and upgrade engines load with the flows that need them
    from tui.engine.usage.removal import Outcome, Plan
    from tui.engine.usage.upgrade import Upgrade

T = TypeVar("T")


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    CANCEL = "cancel"  # the question was put away unanswered (Esc, the app closing)


class Topic(StrEnum):
    """What a question is about, so a front end knows how to show it."""

    UPGRADE = "upgrade"  # go ahead with ``upgrades`` (their environments already sorted)
    REPOINT = "repoint"  # move the environments pinned to ``upgrades[0]``'s old patch
    UNINSTALL_OLD = "uninstall-old"  # remove ``upgrades[0]``'s old patch by ``plan``
    REMOVE = "remove"  # carry out ``plan``
    BREAK = "break"  # ``plan`` breaks environments: the second confirmation


@dataclass(frozen=True, slots=True)
class Question:
    topic: Topic
    text: str  # one line, ending in "?"
    plan: Plan | None = None
    upgrades: tuple[Upgrade, ...] = ()
    # 2 for the second confirmation of a removal that breaks environments: a front end that
    # answers for a script (``--yes``) needs to have been told twice.
    firmness: int = 1
    # True: with nobody to ask, the flow cannot go on (a removal is never a default);
    # False: nobody to ask means no (a follow-up step is left undone, and said).
    must_answer: bool = False


Level = Literal["info", "warning", "error"]


@dataclass(frozen=True, slots=True)
class Note:
    """What a step did or left undone, one line."""

    text: str
    level: Level = "info"
    # A job's own result or error says the same: a front end that shows the queue's job
    # results (the app, the CLI's progress lines) may leave it out.
    detail: bool = False


@dataclass(frozen=True, slots=True)
class Removed:
    """A removal plan has run (every step, or until it was cancelled)."""

    outcome: Outcome
    verb: str  # "Uninstall", "Remove": what the front end calls it


class Stopped(Exception):
    """The thread driving a flow was interrupted (Ctrl-C) while a removal ran: its running
    step was cancelled and what had begun has finished; ``outcome`` says what it freed."""

    def __init__(self, outcome: Outcome | None) -> None:
        super().__init__("interrupted")
        self.outcome = outcome


Event = Question | Note | Removed
# Yields events, receives an Answer after each Question (None after anything else).
Flow = Generator[Event, Answer | None, T]


class Asker(Protocol):
    """A front end, as a flow sees it: it answers questions and hears the rest."""

    def ask(self, question: Question) -> Answer: ...

    def tell(self, event: Note | Removed) -> None: ...


def drive(flow: Flow[T], asker: Asker) -> T:
    """Run ``flow`` to its end on this thread, asking ``asker``; its return value. An
    exception from either ends the flow (closed, so its own clean-up runs) and propagates."""
    reply: Answer | None = None
    try:
        while True:
            event = flow.send(reply)
            if isinstance(event, Question):
                reply = asker.ask(event)
            else:
                asker.tell(event)
                reply = None
    except StopIteration as stop:
        result: T = stop.value
        return result
    finally:
        flow.close()

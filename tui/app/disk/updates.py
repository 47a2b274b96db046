"""The disk-usage view's messages, from its workers to the view: loaded with the view."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from tui.engine.usage.inventory import Inventory
from tui.engine.usage.removal import Outcome, Plan, StepResult


@dataclass
class InventoryTaken(Message):
    inventory: Inventory
    generation: int
    catalog_error: str | None = None  # the catalog failed: only the cache and installs count


@dataclass
class SizesMeasured(Message):
    """Some items have their size now (the engine set ``Item.size``); redraw."""

    generation: int
    done: int
    total: int
    finished: bool = False

    def can_replace(self, message: Message) -> bool:
        # A flood of sizes collapses to the newest: it counts everything the older ones did.
        return isinstance(message, SizesMeasured) and message.generation == self.generation


@dataclass
class EnvsFound(Message):
    generation: int


@dataclass
class PlanCounted(Message):
    """What the marks would free, for the marks it was counted for."""

    plan: Plan
    marks: frozenset[str]
    inventory: Inventory


@dataclass
class PlanReady(Message):
    """A plan to put to the user (from x or a prune preset)."""

    plan: Plan
    title: str
    verb: str


@dataclass
class StepDone(Message):
    result: StepResult
    index: int
    steps: int


@dataclass
class PlanExecuted(Message):
    outcome: Outcome

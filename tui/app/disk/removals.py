"""The disk-usage view's removals: marks counted into a plan, asked about, carried out.

``CleanupScreen`` holds one ``CleanupRemovals`` over its table and routes the messages that
concern it here; the inventory, its scans and the summary lines stay the screen's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from textual.worker import get_current_worker

from tui.app.dialogs.plan_confirm import confirm_plan
from tui.app.disk.prune_menu import PruneChoice, PruneScreen
from tui.app.disk.rows import never_reason, row_id
from tui.app.disk.scope import Scope
from tui.app.disk.table import UsageTable
from tui.app.disk.updates import PlanCounted, PlanExecuted, PlanReady, StepDone
from tui.app.keys import bound_key
from tui.app.removal_notice import notice
from tui.app.threads import in_thread
from tui.app.view import View
from tui.engine.shelf import Shelf
from tui.engine.usage.inventory import Inventory, Item
from tui.engine.usage.prune import prune_plan
from tui.engine.usage.removal import Outcome, Plan, StepResult, execute
from tui.format import human_size


class CleanupRemovals:
    """Plans for the marks of ``table`` (or a prune preset), run on ``view``'s queue, asked
    about and told over ``view``.

    What the view hands over: ``inventory``, the one shown now; ``ensure_envs``, its one
    environment scan per inventory; ``sizes_lock``, held while sizes are measured;
    ``summary``, which shows ``plan`` and ``busy`` again; ``changed``, what runs once a
    removal has changed the disk.
    """

    def __init__(
        self,
        view: View,
        shelf: Shelf,
        scope: Scope,
        table: UsageTable,
        *,
        inventory: Callable[[], Inventory | None],
        ensure_envs: Callable[[Inventory], None],
        sizes_lock: threading.Lock,
        summary: Callable[[], None],
        changed: Callable[[], None],
    ) -> None:
        self.view = view
        self.shelf = shelf
        self.scope = scope
        self.table = table
        self._inventory = inventory
        self._ensure_envs = ensure_envs
        self._sizes_lock = sizes_lock
        self._update_summary = summary
        self.changed = changed
        self.plan: Plan | None = None  # counted for the current marks
        self.counting = False
        self.busy: str | None = None  # what a running removal says about itself
        self.freed_so_far = 0
        self.last_prune = PruneChoice("newest")

    @property
    def inventory(self) -> Inventory | None:
        return self._inventory()

    def notify(self, message: str, **kwargs: Any) -> None:
        self.view.notify(message, **kwargs)

    # -- marks and what they free ---------------------------------------------------------

    def marks_changed(self) -> None:
        marked = self.table.marked_items()
        self.plan = None
        self.counting = bool(marked) and self.inventory is not None
        if self.counting and self.inventory is not None:
            self._count(self.inventory, marked, frozenset(self.table.marked))
        else:
            self.table.set_implied(())
        self._update_summary()

    def _count(self, inventory: Inventory, marked: list[Item], marks: frozenset[str]) -> None:
        def count() -> None:
            self._ensure_envs(inventory)
            plan = self.scope.make_plan(inventory, marked)
            if not get_current_worker().is_cancelled:
                self.view.post_message(PlanCounted(plan, marks, inventory))

        in_thread(self.view, "_count", count, group="cleanup-plan", exclusive=True)

    def counted(self, message: PlanCounted) -> None:
        if message.marks != frozenset(self.table.marked) or message.inventory is not self.inventory:
            return  # counted for marks that changed since
        self.plan = message.plan
        self.counting = False
        self.table.set_implied(row_id(i) for i in message.plan.items)
        self._update_summary()

    # -- removing ---------------------------------------------------------------------------

    def remove_marked(self) -> None:
        """x: the marks (or the highlighted row), counted, asked about, then removed."""
        if self._refuse_while_busy() or self.inventory is None:
            return
        marked = self.table.marked_items()
        if not marked:
            item = self.table.highlighted
            if item is None:
                mark = bound_key(self.view.app, "cleanup-mark")
                self.notify(f"nothing marked: {mark} marks a row", severity="warning", timeout=4)
                return
            why = never_reason(item)
            if why is not None:
                self.notify(f"{item.name}: {why}", severity="warning", timeout=5)
                return
            marked = [item]
        what = self.table.labels.get(id(marked[0]), marked[0].name)
        title = f"Remove {what}?" if len(marked) == 1 else f"Remove {len(marked)} marked items?"
        if self.plan is not None and self.table.marked:  # counted for exactly these marks
            self._ask(self.plan, title, "Remove")
        else:
            self._plan_then_ask(self.inventory, marked, None, title, "Remove")

    def choose_prune(self) -> None:
        """p: the prune menu; the preset picked is previewed as a plan first."""
        if self._refuse_while_busy():
            return
        last = self.last_prune

        def chosen(choice: PruneChoice | None) -> None:
            if choice is not None:
                self.prune(choice)

        self.view.app.push_screen(PruneScreen(f"{last.days:g}", last.cap_text), chosen)

    def prune(self, choice: PruneChoice) -> None:
        """Preview ``choice`` as a plan in the confirmation; nothing goes before a yes."""
        if self._refuse_while_busy() or self.inventory is None:
            return
        self.last_prune = choice
        self.notify(f"counting what “{choice.title}” takes…", timeout=2)
        self._plan_then_ask(self.inventory, [], choice, f"Prune: {choice.title}?", "Prune")

    def _plan_then_ask(
        self,
        inventory: Inventory,
        items: list[Item],
        preset: PruneChoice | None,
        title: str,
        verb: str,
    ) -> None:
        """Make the plan off the UI thread (it walks trees), then ask through a message."""

        def make() -> None:
            self._ensure_envs(inventory)
            if preset is None:
                plan = self.scope.make_plan(inventory, items)
            else:
                with self._sizes_lock:  # a cap needs sizes: wait for the scan, not scan twice
                    plan = prune_plan(inventory, now=self.scope.clock(), **preset.options())
            self.view.post_message(PlanReady(plan, title, verb))

        in_thread(self.view, "_plan_then_ask", make, group="cleanup-ask", exclusive=True)

    def plan_ready(self, message: PlanReady) -> None:
        self._ask(message.plan, message.title, message.verb)

    def _ask(self, plan: Plan, title: str, verb: str) -> None:
        if plan.empty:
            if plan.refused:
                item, why = plan.refused[0]
                self.notify(f"{item.name}: {why}", severity="warning", timeout=5)
            elif verb == "Prune":
                what = title.removeprefix("Prune: ").removesuffix("?")
                self.notify(f"nothing to prune: {what}", timeout=4)
            else:
                self.notify("nothing to remove", timeout=4)
            return

        confirm_plan(self.view.app, plan, title, verb, lambda in_use_ok: self._run(plan, in_use_ok))

    def _run(self, plan: Plan, in_use_ok: bool) -> None:
        self.busy = f"removing: 0 of {len(plan.steps)} done"
        self.freed_so_far = 0
        self._update_summary()
        self._execute(plan, in_use_ok)

    def _execute(self, plan: Plan, in_use_ok: bool) -> None:
        done = 0
        post = self.view.post_message

        def stepped(result: StepResult) -> None:
            nonlocal done
            done += 1
            post(StepDone(result, done, len(plan.steps)))

        def finished(outcome: Outcome) -> None:
            post(PlanExecuted(outcome))

        def run() -> None:
            # Each step goes as a job on the app's queue and shows in its panel, where c
            # cancels it and the steps after it; this returns once the first step is submitted.
            execute(
                plan, self.shelf, self.view.queue, confirmed_in_use=in_use_ok, on_step=stepped,
                on_done=finished,
            )  # fmt: skip

        in_thread(self.view, "_execute", run, group="cleanup-execute")

    def step_done(self, message: StepDone) -> None:
        self.freed_so_far += message.result.freed
        self.busy = (
            f"removing: {message.index} of {message.steps} done, "
            f"freed {human_size(self.freed_so_far)}"
        )
        self._update_summary()  # a failed step is told with the rest, once all have run

    def executed(self, message: PlanExecuted) -> None:
        self.busy = None
        text, failed = notice(message.outcome)  # one removal, one notification
        self.notify(
            text, title="Clean-up", severity="error" if failed else "information",
            timeout=8 if failed else 4,
        )  # fmt: skip
        self.table.clear_marks()
        self.changed()

    def _refuse_while_busy(self) -> bool:
        if self.busy:
            self.notify("a removal is still running", severity="warning", timeout=3)
        return bool(self.busy)

"""D: what every interpreter and archive costs on disk; mark, prune, and free space safely.

The inventory is listed at once (directory listings only); sizes, then the environments
that use each interpreter, fill in from thread workers. Whatever is marked is counted by the
engine's ``make_plan`` (the only count that gets shared files right), shown in a
confirmation, confirmed a second time if it breaks environments, and carried out by
``execute`` on the app's job queue (the screen's ``CleanupRemovals``, in ``removals``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import DataTable, Footer, Header, Label
from textual.worker import Worker

from tui.app import deferred_keys
from tui.app.commands import Command
from tui.app.disk.prune_menu import PruneChoice
from tui.app.disk.removals import CleanupRemovals
from tui.app.disk.rows import GROUP_TITLES, envs, never_reason
from tui.app.disk.scope import Scope
from tui.app.disk.table import UsageTable
from tui.app.disk.updates import (
    EnvsFound,
    InventoryTaken,
    PlanCounted,
    PlanExecuted,
    PlanReady,
    SizesMeasured,
    StepDone,
)
from tui.app.keys import bound_key
from tui.app.messages import JobUpdated
from tui.app.present import show_path
from tui.app.queue.panel import QueuePanel
from tui.app.view import View
from tui.engine.errors import CatalogError
from tui.engine.jobs import JobEvent, JobQueue
from tui.engine.shelf import Shelf
from tui.engine.usage.inventory import Inventory, Item, Owner, take_inventory
from tui.engine.usage.removal import user_name
from tui.format import human_size

GROUP_NOTES = {
    Owner.UV: "interpreters in uv's layout, pyshelf's and uv's own",
    Owner.CACHE: "archives (offline reinstalls), unpacked copies installs link to, partial "
    "downloads",
    Owner.SYSTEM: "the OS package manager owns these: shown, never removed",
}


class CleanupScreen(View):
    CSS_PATH = "../dialogs.tcss"  # loaded when first shown, not for the first frame
    BINDINGS: ClassVar[list[BindingType]] = deferred_keys.CLEANUP
    WORKER_ERRORS: ClassVar[dict[str, str]] = {
        "cleanup-inventory": "cannot list what is on disk",
        "cleanup-sizes": "measuring sizes failed",
        "cleanup-envs": "finding environments failed",
        "cleanup-plan": "counting what the marks free failed",
        "cleanup-ask": "making the plan failed",
        "cleanup-execute": "the removal stopped",
        "cleanup-fix-envs": "bringing environments back failed",
    }

    def __init__(
        self,
        shelf: Shelf,
        queue: JobQueue,
        scope: Scope | None = None,
        *,
        on_change: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(queue)
        self.shelf = shelf
        self.on_change = on_change  # what else shows the disk: the builds view reloads
        self.scope = scope or Scope()
        self.inventory: Inventory | None = None
        self.generation = 0
        self.error: str | None = None  # why the inventory could not be taken; shown in place
        self.catalog_error: str | None = None
        self._taking: Worker[None] | None = None  # the inventory worker of this generation
        self.progress: tuple[int, int] | None = None  # (measured, items) while measuring
        self.envs_found = False
        self._cancel = threading.Event()
        self._venvs_lock = threading.Lock()  # one environment scan per inventory
        self._sizes_lock = threading.Lock()  # a preset that needs sizes waits for the scan
        self._unsubscribe: Callable[[], None] | None = None

    def compose(self) -> ComposeResult:
        self.summary = Label(id="cleanup-summary")
        self.table = UsageTable(host=str(self.shelf.host), clock=self.scope.clock, id="usage")
        self.detail = Label(id="cleanup-detail")
        self.queue_panel = QueuePanel(id="cleanup-queue")
        self.removals = CleanupRemovals(
            self, self.shelf, self.scope, self.table,
            inventory=lambda: self.inventory, ensure_envs=self._ensure_envs,
            sizes_lock=self._sizes_lock, summary=self._update_summary, changed=self._after_change,
        )  # fmt: skip
        yield Header(icon="≡")
        yield self.summary
        yield self.table
        yield self.detail
        yield self.queue_panel
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.sub_title = f"disk usage · {bound_key(self.app, 'cleanup-back')} goes back"
        self.queue_panel.display = False
        # The queue calls back on its worker threads; post_message is thread-safe.
        self._unsubscribe = self.queue.subscribe(self._job_event)
        self.table.focus()
        self._update_summary()
        self.rescan()

    def _job_event(self, event: JobEvent) -> None:
        """The queue calls back on its worker threads; post_message is thread-safe."""
        self.post_message(JobUpdated(event))

    def on_unmount(self) -> None:
        self._cancel.set()
        if self._unsubscribe is not None:
            self._unsubscribe()

    # -- the inventory, its sizes and its environments -----------------------------------

    def rescan(self) -> None:
        """Take the inventory again; scans of the old one stop."""
        self._cancel.set()
        self._cancel = threading.Event()
        self.generation += 1
        self.error = None
        self._update_summary()
        self._taking = self._take(self.generation, self._cancel)

    @work(thread=True, group="cleanup-inventory", exclusive=True, exit_on_error=False)
    def _take(self, generation: int, cancel: threading.Event) -> None:
        catalog_error = None
        try:
            inventory = take_inventory(self.shelf, system_dirs=self.scope.system_dirs)
        except CatalogError as exc:  # as the builds view does: the disk still lists without it
            catalog_error = str(exc)
            self.shelf.go_without_catalog("failed to load")
            inventory = take_inventory(self.shelf, system_dirs=self.scope.system_dirs)
        if not cancel.is_set():
            self.post_message(InventoryTaken(inventory, generation, catalog_error))

    @on(InventoryTaken)
    def _taken(self, message: InventoryTaken) -> None:
        if message.generation != self.generation:
            return
        inventory = self.inventory = message.inventory
        self.catalog_error = message.catalog_error
        if message.catalog_error:
            self.notify(
                f"catalog failed: {message.catalog_error}; listing the cache and installs",
                severity="warning",
                timeout=8,
            )
        self.progress = (0, len(inventory.items))
        self.envs_found = False
        self.table.show(inventory)
        self._measure(inventory, message.generation, self._cancel)
        self._find_envs(inventory, message.generation, self._cancel)
        self.removals.marks_changed()  # marks kept from before are items of the new inventory now
        self._update_detail()

    @work(thread=True, group="cleanup-sizes", exclusive=True, exit_on_error=False)
    def _measure(self, inventory: Inventory, generation: int, cancel: threading.Event) -> None:
        total, done = len(inventory.items), 0

        def measured(item: Item, size: int) -> None:
            nonlocal done
            done += 1
            self.post_message(SizesMeasured(generation, done, total))

        with self._sizes_lock:
            finished = self.scope.scan_sizes(inventory.items, measured, cancel, inventory.records)
        if finished:
            self.post_message(SizesMeasured(generation, total, total, finished=True))

    @on(SizesMeasured)
    def _sized(self, message: SizesMeasured) -> None:
        if message.generation != self.generation:
            return
        self.progress = None if message.finished else (message.done, message.total)
        self.table.redraw(resort=self.table.sort_mode == "size")
        self._update_summary()
        self._update_detail()

    @work(thread=True, group="cleanup-envs", exclusive=True, exit_on_error=False)
    def _find_envs(self, inventory: Inventory, generation: int, cancel: threading.Event) -> None:
        self._ensure_envs(inventory, cancel)
        if not cancel.is_set():
            self.post_message(EnvsFound(generation))

    def _ensure_envs(self, inventory: Inventory, cancel: threading.Event | None = None) -> None:
        """Scan for environments once per inventory, whichever worker needs them first."""
        with self._venvs_lock:
            if inventory.venvs is not None:
                return
            inventory.scan_venvs(
                configured=self.shelf.settings.venv_dirs,
                cwd=self.scope.cwd or Path.cwd(),
                cancel=cancel,
            )
            if cancel is not None and cancel.is_set():
                inventory.venvs = None  # a partial list must never decide what breaks

    @on(EnvsFound)
    def _envs_found(self, message: EnvsFound) -> None:
        if message.generation != self.generation:
            return
        self.envs_found = True
        self.table.redraw()
        self._update_summary()
        self._update_detail()

    # -- jobs, errors, keys ---------------------------------------------------------------

    @on(JobUpdated)
    def _job_updated(self, message: JobUpdated) -> None:
        self.queue_panel.display = True
        self.queue_panel.show_event(message.event)

    @on(QueuePanel.CloseRequested)
    def _queue_closed(self) -> None:
        self.queue_panel.display = False  # the next job shows it again
        self.table.focus()

    def error_matters(self, worker: Worker[object]) -> bool:
        # A scan a rescan replaced: its error no longer matters.
        return worker.group != "cleanup-inventory" or worker is self._taking

    def worker_failed(self, group: str, line: str) -> None:
        if group == "cleanup-inventory":
            self.error = line  # in place of "listing…", which would never end
        elif group == "cleanup-envs":
            self.envs_found = True  # no longer looking; the notification said why
        elif group == "cleanup-sizes":
            self.progress = None
        elif group == "cleanup-plan":
            self.removals.counting = False
        elif group == "cleanup-execute":
            self.removals.busy = None
            self._after_change()
        self._update_summary()

    def _after_change(self) -> None:
        """Totals again from disk, and whatever else shows it (``on_change``)."""
        self.rescan()
        if self.on_change is not None:
            self.on_change()

    # -- removals (``CleanupRemovals``): marks counted, plans asked about and run ------------

    @on(UsageTable.MarksChanged)
    def _marks_changed(self) -> None:
        self.removals.marks_changed()

    @on(PlanCounted)
    def _counted(self, message: PlanCounted) -> None:
        self.removals.counted(message)

    @on(PlanReady)
    def _plan_ready(self, message: PlanReady) -> None:
        self.removals.plan_ready(message)

    @on(StepDone)
    def _step_done(self, message: StepDone) -> None:
        self.removals.step_done(message)

    @on(PlanExecuted)
    def _executed(self, message: PlanExecuted) -> None:
        self.removals.executed(message)

    def action_remove(self) -> None:
        self.removals.remove_marked()

    def action_prune(self) -> None:
        self.removals.choose_prune()

    def action_rescan(self) -> None:
        self.rescan()

    def action_fix_envs(self) -> None:
        self._fix_envs()

    @work(thread=True, group="cleanup-fix-envs", exclusive=True, exit_on_error=False)
    def _fix_envs(self) -> None:
        """As ``pyshelf envs --fix``, on the queue (``disk.env_fix``); then measure again."""
        from tui.app.disk.env_fix import fix_envs

        fix_envs(self.app, self.shelf, self.queue, self.scope.cwd or Path.cwd(), self.rescan)

    def action_back(self) -> None:
        if self.table.marked:
            self.table.clear_marks()
            return
        self.dismiss()

    def action_close(self) -> None:
        self.dismiss()

    # -- what the lines around the table say ----------------------------------------------

    def _update_summary(self) -> None:
        text = Text()
        inventory = self.inventory
        if self.error is not None:
            text.append(self.error, "bold red")
            key = partial(bound_key, self.app)
            text.append(f" · {key('cleanup-rescan')} tries again, {key('cleanup-back')} goes back")
            self.summary.update(text)
            return
        if inventory is None:
            text.append("listing interpreters and archives…", style="dim")
        else:
            known = sum(i.size or 0 for i in inventory.items)
            count = len(inventory.items)
            if self.progress is not None:
                done, total = self.progress
                text.append(f"measured {done} of {total}: {human_size(known)} so far", "bold")
            else:
                text.append(f"total {human_size(known)}", "bold")
                text.append(f" in {count} items")
            if not self.envs_found:
                text.append(" · finding environments…", "dim")
            if self.catalog_error:
                text.append(" · catalog failed: only the cache and installs", "yellow")
        text.append("   ")
        plan, busy = self.removals.plan, self.removals.busy
        if busy:
            text.append(busy, "bold")
        elif self.table.marked:
            text.append(f"marked {len(self.table.marked)} · ")
            if plan is not None:
                text.append(f"to free {human_size(plan.freed)}", "bold")
                if plan.broken_envs:
                    text.append(f" · breaks {envs(len(plan.broken_envs))}", "bold")
            else:
                text.append("to free …", "dim")
        else:
            key = partial(bound_key, self.app)
            text.append(
                f"{key('cleanup-mark')} marks · {key('cleanup-remove')} removes · "
                f"{key('cleanup-prune')} prunes",
                "dim",
            )
        self.summary.update(text)

    def _update_detail(self) -> None:
        table = self.table
        item = table.highlighted
        text = Text(no_wrap=True, overflow="ellipsis")
        if item is None:
            owner = table.highlighted_group
            if owner is not None:
                members = table.groups.get(owner, [])
                text.append(f"{GROUP_TITLES[owner]}: ", "bold")
                text.append(GROUP_NOTES.get(owner, f"{len(members)} interpreters {owner} manages"))
            self.detail.update(text)
            return
        text.append(show_path(item.path))
        if (why := never_reason(item)) is not None:
            text.append(f" · {why}", "bold")
        if item.used_by:
            paths = [user_name(v, show_path) for v in item.used_by[:2]]
            more = f" +{len(item.used_by) - 2}" if len(item.used_by) > 2 else ""
            text.append(f" · used by {', '.join(paths)}{more}")
        self.detail.update(text)

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        self._update_detail()

    # -- the command palette -------------------------------------------------------------

    def commands(self) -> Iterator[Command]:
        """What the palette offers here, each with the key bound to it now."""
        key = partial(bound_key, self.app)
        table = self.table
        if table.highlighted is not None:
            yield (
                "Mark / unmark the highlighted item",
                table.action_toggle_mark,
                key("cleanup-mark"),
            )
        group = table.highlighted_group
        if group is not None:
            yield (
                f"Mark / unmark the whole {group} group",
                table.action_toggle_group,
                key("cleanup-group"),
            )
        if table.marked:
            yield (
                f"Remove the {len(table.marked)} marked items",
                self.action_remove,
                key("cleanup-remove"),
            )
            yield "Clear marks", table.clear_marks, key("cleanup-back")
        prune = key("cleanup-prune")
        for preset in ("newest", "uninstalled"):
            choice = PruneChoice(preset)
            yield (
                f"Prune: {choice.title}",
                partial(self.removals.prune, choice),
                f"{prune}; previewed first",
            )
        yield "Prune: older than N days, or cap the cache…", self.action_prune, prune
        yield "Sort by size, name, version, age", table.action_cycle_sort, key("cleanup-sort")
        yield (
            "Sort by the previous of size, name, version, age",
            partial(table.action_cycle_sort, -1),
            key("cleanup-sort-previous"),
        )
        yield "Measure again", self.action_rescan, key("cleanup-rescan")
        yield "Bring back broken environments", self.action_fix_envs, key("cleanup-fix-envs")
        yield "Back to the builds", self.action_close, key("cleanup-back")

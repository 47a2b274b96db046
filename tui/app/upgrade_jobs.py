"""``U`` in the builds view: the newest patch of the highlighted (or marked) installs, as
``pyshelf upgrade`` does it, by the same flow (``tui.engine.flows.upgrade``).

This module picks what to upgrade from the table and shows the flow's questions: the plan
first (what installs, which environments follow or are repointed), and, once an old patch
is free to go, its removal plan. Repointing needs no question of its own here: the plan's
dialog names every environment it repoints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen

from tui.app.commands import Command
from tui.app.keys import bound_key, register
from tui.app.present import show_path
from tui.app.rules import Replacement
from tui.app.widgets.shelf_table import ShelfTable
from tui.engine.flows.questions import Answer, Question, Topic
from tui.engine.jobs import JobQueue
from tui.engine.shelf import Entry, Shelf
from tui.engine.usage.upgrade import Upgrade, family

if TYPE_CHECKING:  # the upgrade flow and the removal engine load with the first upgrade
    from tui.engine.flows.upgrade import Planner

UPGRADE_BINDINGS: list[BindingType] = register(
    [
        Binding(
            "U", "upgrade", "Upgrade", key_display="U", show=False,
            tooltip="Install the newest patch; environments follow", id="upgrade",
        ),
    ]
)  # fmt: skip


def _why_not(entry: Entry, upgrades: dict[str, Upgrade]) -> str | None:
    if entry.installation is None:  # a rebuild's row shares its install's key
        return "not installed: nothing to upgrade"
    if entry.key in upgrades:
        return None
    for up in upgrades.values():
        if family(up.old) == family(entry):
            return f"{up.old.build.version} is its minor's newest install: upgrade that one"
    return "its minor already has its newest patch installed"


def _summary(up: Upgrade) -> list[str]:
    if up.is_rebuild:
        n = len(up.via_link)
        kept = f"{n} environment{'s keep' if n > 1 else ' keeps'} running it (same path)"
        return [*([kept] if n else []), f"the archive of build {up.old.build.build} stays cached"]
    lines = []
    if up.via_link:
        n = len(up.via_link)
        lines.append(f"{n} environment{'s' if n > 1 else ''} follow the minor link")
    lines += [f"repoint {show_path(v.path)} (uses {up.old.key} itself)" for v in up.pinned]
    lines.append(f"then uninstall {up.old.build.version} once nothing uses it (asks first)")
    return lines


def upgrade_dialog(question: Question) -> ModalScreen[bool] | Answer:
    """How the app shows the upgrade flow's questions."""
    from tui.app.asking import plan_dialogs
    from tui.app.screens.confirm import ConfirmScreen

    if question.topic == Topic.REPOINT:
        return Answer.YES  # the upgrade's own dialog named each environment it repoints
    if question.topic != Topic.UPGRADE:
        return plan_dialogs(question)
    upgrades = question.upgrades
    rows = [
        Replacement(f"install {u.new.key}", 0 if u.new.cached is not None else u.new.download_size)
        for u in upgrades
    ]
    note = "; ".join(line for u in upgrades for line in _summary(u))
    return ConfirmScreen(question.text, rows, verb="Upgrade", total_label="downloads", note=note)


class UpgradeActions:
    """The builds view's upgrade: what ``U`` does on ``table``'s rows, run on ``queue``.

    ``cwd`` says where environments are looked for; ``planner`` plans the old patch's
    removal as the view plans its removals (priced as its table prices them)."""

    def __init__(
        self,
        screen: Screen[Any],
        shelf: Shelf,
        queue: JobQueue,
        table: ShelfTable,
        *,
        cwd: Callable[[], Path],
        planner: Planner,
    ) -> None:
        self.screen = screen
        self.shelf = shelf
        self.queue = queue
        self.table = table
        self.cwd = cwd
        self.planner = planner

    def upgrade(self) -> None:
        targets = self.table.targets()
        notify = self.screen.notify
        if not targets:
            notify("no build highlighted", severity="warning")
            return
        upgrades = self.table.notes.upgrades
        chosen = [upgrades[e.key] for e in targets if _why_not(e, upgrades) is None]
        if not chosen:
            why = _why_not(targets[0], upgrades)
            notify(f"{targets[0].build.describe()}: {why}", severity="warning", timeout=4)
            return
        if skipped := [e for e in targets if _why_not(e, upgrades) is not None]:
            why = _why_not(skipped[0], upgrades)
            notify(
                f"skipped {len(skipped)}: {skipped[0].build.describe()}: {why}",
                severity="warning", timeout=4,
            )  # fmt: skip
        self.screen.run_worker(
            partial(self._run, chosen, self.cwd()), thread=True, group="upgrade",
            exit_on_error=False,
        )  # fmt: skip

    def _run(self, upgrades: list[Upgrade], cwd: Path) -> None:
        """The flow, on a thread worker: it waits there for each job and each answer."""
        from tui.app.asking import DialogAsker
        from tui.engine.flows.questions import drive
        from tui.engine.flows.upgrade import upgrade

        def answered(question: Question, answer: Answer) -> None:
            if question.topic == Topic.UPGRADE and answer is Answer.YES:
                self.table.action_clear_marks()

        asker = DialogAsker(self.screen, upgrade_dialog, title="upgrade", answered=answered)
        flow = upgrade(self.shelf, self.queue, upgrades, cwd=cwd, planner=self.planner)
        drive(flow, asker)

    def commands(self) -> Iterator[Command]:
        upgrades = self.table.notes.upgrades
        if any(_why_not(e, upgrades) is None for e in self.table.targets()):
            yield (
                "Upgrade to the newest patch (environments follow)",
                self.upgrade,
                bound_key(self.screen.app, "upgrade"),
            )

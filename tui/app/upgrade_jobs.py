"""``U`` in the builds view: the newest patch of the highlighted (or marked) installs, as
``pyshelf upgrade`` does it, each step a job in the queue.

The plan is the engine's (tui.engine.usage.upgrade): install the new patch, which moves the
minor-version link, so environments made through it follow at once; repoint environments
made from the old patch's own path (only after the new interpreter starts); then offer to
uninstall the old patch through the same removal plan as ``u``, which keeps it while
anything still uses it — as the CLI does, never with the second "break them" question. A
rebuild of the installed patch installs in its place: nothing to repoint or remove.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.binding import Binding, BindingType

from tui.app.commands import Command
from tui.app.keys import bound_key, register
from tui.app.present import show_path
from tui.app.rules import Replacement
from tui.app.screens.confirm import ConfirmScreen
from tui.app.screens.view import View
from tui.app.widgets.shelf_table import ShelfTable
from tui.engine.jobs import Job, JobKind, JobQueue, Phase
from tui.engine.shelf import Entry, Shelf
from tui.engine.usage.upgrade import Upgrade, family, repoint, sort_users
from tui.engine.usage.venvs import Venv, default_roots, find_users

# The removal engine and its dialog load when an upgrade gets that far, not at start.
if TYPE_CHECKING:
    from tui.engine.usage.removal import Action, Plan


def _why_not(entry: Entry, upgrades: dict[str, Upgrade]) -> str | None:
    if entry.installation is None:  # a rebuild's row shares its install's key
        return "not installed: nothing to upgrade"
    if entry.key in upgrades:
        return None
    for up in upgrades.values():
        if family(up.old) == family(entry):
            return f"{up.old.build.version} is its minor's newest install: upgrade that one"
    return "its minor already has its newest patch installed"


def _repoint_task(venv: Venv, up: Upgrade, job: Job) -> str:
    old, new = up.old.installation, up.new.installation
    assert old is not None and new is not None
    job.set_phase(Phase.LINKING)
    repoint(venv, old.path, new.path, new.parts.executable_name)
    return f"runs {up.new.key}"


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


class UpgradeActions(View):
    """The builds view's upgrade: a mixin over its table, shelf and queue."""

    shelf: Shelf
    queue: JobQueue
    table: ShelfTable
    _cwd: Callable[[], Path]  # where environments are looked for (BuildJobs)
    _execute_plan: Callable[..., object]  # (plan, in use ok, verb): BuildJobs
    plan_builds: Callable[[Action, list[Entry]], Plan]  # BuildJobs: priced as the table prices

    BINDINGS: ClassVar[list[BindingType]] = register(
        [
            Binding(
                "U", "upgrade", "Upgrade", key_display="U", show=False,
                tooltip="Install the newest patch; environments follow", id="upgrade",
            ),
        ]
    )  # fmt: skip

    def action_upgrade(self) -> None:
        targets = self.table.targets()
        if not targets:
            self.notify("no build highlighted", severity="warning")
            return
        upgrades = self.table.notes.upgrades
        chosen = [upgrades[e.key] for e in targets if _why_not(e, upgrades) is None]
        if not chosen:
            why = _why_not(targets[0], upgrades)
            self.notify(f"{targets[0].build.describe()}: {why}", severity="warning", timeout=4)
            return
        if skipped := [e for e in targets if _why_not(e, upgrades) is not None]:
            why = _why_not(skipped[0], upgrades)
            self.notify(
                f"skipped {len(skipped)}: {skipped[0].build.describe()}: {why}",
                severity="warning", timeout=4,
            )  # fmt: skip
        # Fresh copies: the plan fills in the environments of each.
        self._plan_upgrades([Upgrade(u.old, u.new) for u in chosen])

    @work(thread=True, group="upgrade-plan", exclusive=True, exit_on_error=False)
    def _plan_upgrades(self, upgrades: list[Upgrade]) -> None:
        """Find the environments each old patch serves, off the UI thread."""
        roots = default_roots(configured=self.shelf.settings.venv_dirs, cwd=self._cwd())
        venvs, _pins = find_users(roots)
        sort_users(upgrades, venvs, self.shelf.settings.install_dir)
        self.app.call_from_thread(self._ask_upgrade, upgrades)

    def _ask_upgrade(self, upgrades: list[Upgrade]) -> None:
        one = upgrades[0]
        target = f"its rebuild +{one.new.build.build}" if one.is_rebuild else one.new.build.version
        title = (
            f"Upgrade {one.old.build.describe()} to {target}?"
            if len(upgrades) == 1
            else f"Upgrade {len(upgrades)} installs to their newest patch?"
        )
        rows = [
            Replacement(
                f"install {u.new.key}", 0 if u.new.cached is not None else u.new.download_size
            )
            for u in upgrades
        ]
        note = "; ".join(line for u in upgrades for line in _summary(u))
        screen = ConfirmScreen(title, rows, verb="Upgrade", total_label="downloads", note=note)

        def answered(yes: bool | None) -> None:
            if yes:
                self.table.action_clear_marks()
                self._run_upgrades(upgrades)

        self.app.push_screen(screen, answered)

    @work(thread=True, group="upgrade", exit_on_error=False)
    def _run_upgrades(self, upgrades: list[Upgrade]) -> None:
        """Install, repoint, then offer the removal: each step a job, each waited for."""
        from tui.engine.usage.removal import Action

        installs = [self.queue.submit(JobKind.INSTALL, u.new) for u in upgrades]
        self.queue.wait(installs)
        for up, job in zip(upgrades, installs, strict=True):
            if job.phase != Phase.DONE:
                continue  # the queue says why; the old patch stays
            if up.new.installation is None and job.entry is not None:
                up.new = up.new._replace(installation=job.entry.installation)  # the new row
            if up.new.installation is None or up.is_rebuild:
                continue  # a rebuild took the old build's place: nothing to move or remove
            steps = [
                self.queue.submit_task(
                    JobKind.REPOINT,
                    f"{show_path(venv.path)} → {up.new.build.version}",
                    partial(_repoint_task, venv, up),
                )
                for venv in up.pinned
            ]
            self.queue.wait(steps)
            plan = self.plan_builds(Action.UNINSTALL, [up.old])
            if not self._call_ui(self._offer_removal, up, plan):
                return

    def _call_ui(self, callback: Callable[..., object], *args: object) -> bool:
        """Run ``callback`` on the UI thread; False once the app has gone."""
        try:
            self.app.call_from_thread(callback, *args)
        except RuntimeError:
            return False
        return True

    def _offer_removal(self, up: Upgrade, plan: Plan) -> None:
        """As ``pyshelf upgrade``: ask, and keep the old patch while anything uses it."""
        old = up.old.build.describe()
        if plan.empty:
            why = plan.refused[0][1] if plan.refused else "nothing to remove"
            self.notify(f"{old} kept: {why}", title="upgrade", timeout=6)
            return
        from tui.app.screens.plan_confirm import confirm_plan
        from tui.engine.usage.removal import count_users

        if plan.needs_second_confirmation:
            users = count_users(v for v, _ in plan.broken_envs)
            self.notify(f"{old} kept: {users} still use it", title="upgrade", timeout=8)
            return
        title = f"Uninstall {old}, now that {up.new.build.version} is installed?"
        confirm_plan(
            self.app, plan, title, "Uninstall", lambda ok: self._execute_plan(plan, ok, "Uninstall")
        )

    def upgrade_commands(self) -> Iterator[Command]:
        upgrades = self.table.notes.upgrades
        if any(_why_not(e, upgrades) is None for e in self.table.targets()):
            yield (
                "Upgrade to the newest patch (environments follow)",
                self.action_upgrade,
                bound_key(self.app, "upgrade"),
            )

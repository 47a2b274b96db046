"""The upgrade as a flow: ``pyshelf upgrade`` and ``U`` in the builds view.

The plan is ``tui.engine.usage.upgrade``'s. Each step is a job on the queue, waited for:
install the new patches (the minor-version link moves with them, so environments made
through it follow at once); repoint the environments made from an old patch's own path
(only once the new interpreter starts); then offer to uninstall the old patch through a
removal plan, which keeps it while anything still uses it, never with the second "break
them" question. A rebuild of the installed patch installs in its place: nothing to repoint
or remove.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from tui.engine.flows.questions import Answer, Flow, Note, Question, Topic
from tui.engine.jobs import Job, JobKind, JobQueue, Phase
from tui.engine.shelf import Entry, Shelf
from tui.engine.usage.upgrade import Upgrade, repoint, sort_users
from tui.engine.usage.venvs import Venv, default_roots, find_users

if TYPE_CHECKING:  # the removal engine loads when an upgrade gets that far
    from tui.engine.usage.removal import Action, Plan

# Plans the old patch's removal: ``plan_builds`` by default; the app prices it as its table.
Planner = Callable[["Action", list[Entry]], "Plan"]


@dataclass(slots=True)
class Upgraded:
    """How an upgrade went."""

    failed: bool = False  # an install or a repoint did not go through
    kept: list[Entry] = field(default_factory=list)  # old patches kept: something uses them


def upgrade_question(upgrades: list[Upgrade]) -> str:
    one = upgrades[0]
    target = f"its rebuild +{one.new.build.build}" if one.is_rebuild else one.new.build.version
    if len(upgrades) == 1:
        return f"Upgrade {one.old.build.describe()} to {target}?"
    return f"Upgrade {len(upgrades)} installs to their newest patch?"


def upgrade(
    shelf: Shelf,
    queue: JobQueue,
    upgrades: list[Upgrade],
    *,
    cwd: Path,
    planner: Planner | None = None,
) -> Flow[Upgraded]:
    """Upgrade each of ``upgrades`` (found by ``find_upgrades``; its environments are looked
    for here, where ``cwd`` and the settings say), asking first."""
    upgrades = [Upgrade(u.old, u.new) for u in upgrades]  # fresh: their users are filled in
    venvs, _pins = find_users(default_roots(configured=shelf.settings.venv_dirs, cwd=cwd))
    sort_users(upgrades, venvs, shelf.settings.install_dir)
    done = Upgraded()
    ask = Question(Topic.UPGRADE, upgrade_question(upgrades), upgrades=tuple(upgrades))
    if not upgrades or (yield ask) is not Answer.YES:
        return done
    installs = [queue.submit(JobKind.INSTALL, u.new) for u in upgrades]
    queue.wait(installs)
    for up, job in zip(upgrades, installs, strict=True):
        if up.new.installation is None and job.entry is not None:
            up.new.installation = job.entry.installation  # a job shared with another
        if job.phase != Phase.DONE or up.new.installation is None:
            done.failed = True  # the queue says why; the old patch stays
            continue
        if up.is_rebuild:  # in the old build's place: nothing to repoint or remove
            continue
        if not (yield from _follow(up, queue)):
            done.failed = True
        plan_for = planner or partial(_plan_builds, shelf, cwd)
        if not (yield from _offer_removal(up, shelf, queue, plan_for)):
            done.kept.append(up.old)
    return done


def _repoint_task(venv: Venv, up: Upgrade, job: Job) -> str:
    old, new = up.old.installation, up.new.installation
    assert old is not None and new is not None
    job.set_phase(Phase.LINKING)
    repoint(venv, old.path, new.path, new.parts.executable_name)
    return f"runs {up.new.key}"


def _follow(up: Upgrade, queue: JobQueue) -> Flow[bool]:
    """Repoint the environments pinned to the old patch, each a job; False when one could
    not be (it is left as it was)."""
    if not up.pinned:
        return True
    names = ", ".join(str(v.path) for v in up.pinned)
    ask = Question(Topic.REPOINT, f"repoint {names} to {up.new.key}?", upgrades=(up,))
    if (yield ask) is not Answer.YES:
        yield Note(f"left on {up.old.key}: {names}")
        return True
    version = up.new.build.version
    steps = [
        queue.submit_task(
            JobKind.REPOINT, f"{venv.path} → {version}", partial(_repoint_task, venv, up)
        )
        for venv in up.pinned
    ]
    queue.wait(steps)
    ok = True
    for venv, job in zip(up.pinned, steps, strict=True):
        if job.phase == Phase.DONE:
            yield Note(f"repointed {venv.path} to {up.new.key}", detail=True)
        else:
            ok = False
            why = job.error or str(job.phase)
            yield Note(f"cannot repoint {venv.path}: {why}", "error", detail=True)
    return ok


def _plan_builds(shelf: Shelf, cwd: Path, action: Action, entries: list[Entry]) -> Plan:
    from tui.engine.usage.removal import plan_builds

    return plan_builds(shelf, action, entries, cwd=cwd)


def _offer_removal(up: Upgrade, shelf: Shelf, queue: JobQueue, planner: Planner) -> Flow[bool]:
    """Offer to uninstall the old patch; False when it is kept because something uses it."""
    from tui.engine.flows.removal import carry_out
    from tui.engine.usage.removal import Action, count_users

    plan = planner(Action.UNINSTALL, [up.old])
    old = up.old.build.describe()
    if plan.empty:
        why = plan.refused[0][1] if plan.refused else "nothing to remove"
        yield Note(f"{old} kept: {why}", "warning")
        return False
    if plan.needs_second_confirmation:
        users = count_users(v for v, _ in plan.broken_envs)
        yield Note(f"{old} kept: {users} still use it", "warning")
        return False
    title = f"Uninstall {old}, now that {up.new.build.version} is installed?"
    if (yield Question(Topic.UNINSTALL_OLD, title, plan=plan, upgrades=(up,))) is Answer.YES:
        yield from carry_out(plan, shelf, queue, in_use_ok=False, verb="Uninstall")
    return True

"""Removal plans: exactly what goes, what it really frees, and which environments break.

This is the one way anything is removed: ``u`` and ``e`` on builds, the disk-usage view,
``pyshelf prune``, ``pyshelf uninstall`` and ``pyshelf evict`` all make a plan (``make_plan``,
or ``plan_builds`` for builds), confirm it (twice when it breaks environments), and
``execute`` it. A plan is always made (and shown) before anything is deleted. Its byte counts follow
``freed_size``: a hard-linked file counts only if every one of its links goes in the same plan,
so removing an install while its unpacked copy stays frees little, and removing both frees all.

Execution goes through the engine's own paths for uv-managed things (the job queue's
UNINSTALL and EVICT, i.e. ``Shelf.uninstall`` / ``Shelf.evict``, so uv's lock is held and the
minor and bin links stay consistent). Another manager's interpreter goes only as its whole
unit directory, renamed aside (atomically, so the manager never sees half of it) and deleted.
System interpreters never go.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from tui.engine.du import freed_size
from tui.engine.errors import PyshelfError
from tui.engine.jobs import JobKind, JobQueue, Phase
from tui.engine.shelf import Shelf
from tui.engine.usage.inventory import Owner
from tui.engine.usage.managers import is_unit
from tui.engine.usage.plan import (
    KEPT_COPY,
    Action,
    Plan,
    Removal,
    Step,
    count_users,
    envs_use,
    how_used,
    make_plan,
    plan_builds,
    refusal,
)

# The plan's names are part of the removal API: callers plan and execute through this module.
__all__ = [
    "KEPT_COPY", "Action", "InUseError", "Outcome", "Plan", "Removal", "Step", "StepResult",
    "count_users", "envs_use", "execute", "how_used", "make_plan", "plan_builds", "refusal",
]  # fmt: skip

_ASIDE = ".pyshelf-del-"


class InUseError(PyshelfError):
    """The plan breaks environments and the second confirmation was not given."""


# -- execution ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepResult:
    step: Step
    freed: int  # bytes that actually came free
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class Outcome:
    results: tuple[StepResult, ...]
    cancelled: bool = False

    @property
    def freed(self) -> int:
        return sum(r.freed for r in self.results)

    @property
    def failed(self) -> list[StepResult]:
        return [r for r in self.results if r.error]


def execute(
    plan: Plan,
    shelf: Shelf,
    *,
    confirmed_in_use: bool = False,
    queue: JobQueue | None = None,
    on_step: Callable[[StepResult], None] | None = None,
    cancel: threading.Event | None = None,
) -> Outcome:
    """Carry out ``plan`` step by step and report the bytes each step really freed.

    Steps run one after another, not in parallel: an install and its unpacked copy share
    inodes, and each step's count is only exact once the previous one finished. uv-managed
    steps run as jobs on ``queue`` (a private one if None), so a UI sees them in its queue.
    A failed step does not stop the others; ``cancel`` stops before the next step.
    """
    if plan.needs_second_confirmation and not confirmed_in_use:
        envs = plan.broken_envs
        raise InUseError(
            f"{envs_use(len(envs))} interpreters this would remove ({envs[0][0].path}"
            f"{', ...' if len(envs) > 1 else ''}); confirm removing interpreters in use"
        )
    for removal in plan.removals:
        if removal.item.owner == Owner.SYSTEM or not removal.item.deletable:
            raise PyshelfError(f"{removal.item.path} can never be removed")
    own_queue = queue is None
    queue = queue or JobQueue(shelf)
    results: list[StepResult] = []
    try:
        for step in plan.steps:
            if cancel is not None and cancel.is_set():
                return Outcome(tuple(results), cancelled=True)
            result = _run_step(step, shelf, queue)
            results.append(result)
            if on_step is not None:
                on_step(result)
    finally:
        if own_queue:
            queue.close(cancel=False)
    return Outcome(tuple(results))


def _run_step(step: Step, shelf: Shelf, queue: JobQueue) -> StepResult:
    item = step.removals[0].item
    try:
        if step.action in (Action.UNINSTALL, Action.EVICT):
            assert item.entry is not None
            kind = JobKind.UNINSTALL if step.action == Action.UNINSTALL else JobKind.EVICT
            job = queue.submit(kind, item.entry)
            queue.wait([job])
            if job.phase == Phase.CANCELLED:
                return StepResult(step, job.freed, "cancelled")
            return StepResult(step, job.freed, job.error)
        return _as_job(queue, step, str(item.path), partial(_direct_removal, step, shelf))
    except (OSError, PyshelfError, ValueError) as exc:
        return StepResult(step, 0, f"{item.name}: {exc}")


def _direct_removal(step: Step, shelf: Shelf) -> StepResult:
    """The steps that no uninstall or evict covers: done here, inside a REMOVE job."""
    item = step.removals[0].item
    if step.action == Action.DROP_UNPACKED:
        return StepResult(step, shelf.unpacked.remove(item.path.name))
    if step.action == Action.DELETE_FILE:
        return StepResult(step, _delete_file(item.path))
    return _remove_unit(step, item.path)


def _as_job(queue: JobQueue, step: Step, label: str, run: Callable[[], StepResult]) -> StepResult:
    """Run a removal as a REMOVE job, so a UI shows it in its queue like an uninstall."""
    outcome: list[StepResult] = []

    def remove() -> int:
        result = run()
        outcome.append(result)
        if result.error:
            raise PyshelfError(result.error)
        return result.freed

    job = queue.submit_removal(label, remove)
    queue.wait([job])
    if outcome:
        return outcome[0]
    return StepResult(step, job.freed, job.error or "cancelled")


def _delete_file(path: Path) -> int:
    st = os.lstat(path)
    if stat.S_ISDIR(st.st_mode):
        raise PyshelfError(f"{path} is a directory, not a file")
    path.unlink()
    return st.st_size if st.st_nlink == 1 else 0


def _remove_unit(step: Step, path: Path) -> StepResult:
    """Rename the unit aside in its own directory (atomic: the manager sees it whole or not
    at all, and a dot name hides leftovers from it), then delete it."""
    if not is_unit(path):
        return StepResult(step, 0, f"{path} is not a manager's interpreter directory; left alone")
    aside = path.parent / f".{path.name}{_ASIDE}{secrets.token_hex(4)}"
    os.rename(path, aside)
    freed = freed_size(aside)
    try:
        shutil.rmtree(aside)
    except OSError as exc:
        left = 0
        with contextlib.suppress(OSError):
            left = freed_size(aside)
        return StepResult(step, freed - left, f"{path} only partly removed ({aside} left): {exc}")
    return StepResult(step, freed)

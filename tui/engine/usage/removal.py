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
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from tui.engine.du import freed_size
from tui.engine.errors import PyshelfError, describe_error
from tui.engine.fsutil import remove_tree
from tui.engine.jobs import Job, JobKind, JobQueue, Phase
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
    describe_users,
    how_used,
    make_plan,
    plan_builds,
    refusal,
    user_name,
)

# The plan's names are part of the removal API: callers plan and execute through this module.
__all__ = [
    "KEPT_COPY", "Action", "InUseError", "Outcome", "Plan", "Removal", "Step", "StepResult",
    "count_users", "describe_users", "execute", "how_used", "make_plan",
    "plan_builds", "refusal", "user_name",
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
    queue: JobQueue,
    *,
    confirmed_in_use: bool = False,
    on_step: Callable[[StepResult], None] | None = None,
    on_done: Callable[[Outcome], None] | None = None,
) -> Removing:
    """Start carrying out ``plan`` on ``queue``, one job per step, and return at once.

    The returned ``Removing`` says how it goes: ``on_step`` hears each step's result and
    ``on_done`` the outcome (both on a queue thread), ``wait`` blocks until it is over, and
    ``cancel`` stops it. Raises before anything is removed when the plan breaks environments
    without ``confirmed_in_use``, or names something that can never be removed.
    """
    if plan.needs_second_confirmation and not confirmed_in_use:
        envs = plan.broken_envs
        raise InUseError(
            f"{count_users(u for u, _ in envs)} would break ({envs[0][0].path}"
            f"{', ...' if len(envs) > 1 else ''}); confirm removing interpreters in use"
        )
    for removal in plan.removals:
        if removal.item.owner == Owner.SYSTEM or not removal.item.deletable:
            raise PyshelfError(f"{removal.item.path} can never be removed")
    removing = Removing(plan, shelf, queue, on_step, on_done)
    removing._advance()
    return removing


class Removing:
    """A plan under way. Each step is a job on the queue (a UI shows it like an uninstall),
    submitted when the step before it has finished: an install and its unpacked copy share
    inodes, so a step's count is only exact once the one before it is done. Nothing waits
    on a thread while it runs.

    ``cancel``, or cancelling the running step's job (``c`` in the queue), stops it: that
    step stops unless it has begun removing (then it finishes, and counts), and no later step
    starts. A failed step does not stop the others.
    """

    def __init__(
        self,
        plan: Plan,
        shelf: Shelf,
        queue: JobQueue,
        on_step: Callable[[StepResult], None] | None,
        on_done: Callable[[Outcome], None] | None,
    ) -> None:
        self.plan = plan
        self.job: Job | None = None  # the running step's
        self.outcome: Outcome | None = None  # once it is over
        self._shelf, self._queue = shelf, queue
        self._on_step, self._on_done = on_step, on_done
        self._lock = threading.Lock()
        self._over = threading.Event()
        self._results: list[StepResult] = []
        self._next = 0
        self._cancelled = False

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            job = self.job
        if job is not None:
            job.cancel()

    def wait(self, timeout: float | None = None) -> Outcome | None:
        """The outcome once every step has run or it was cancelled; None on a timeout.
        Waits in short slices, so Ctrl-C reaches a CLI's main thread."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._over.wait(0.1):
            if deadline is not None and time.monotonic() >= deadline:
                return None
        return self.outcome

    def _advance(self) -> None:
        """Submit the next step, or finish. A step the queue refuses (it is closing) fails."""
        while True:
            with self._lock:
                if self._cancelled or self._next >= len(self.plan.steps):
                    outcome = Outcome(tuple(self._results), cancelled=self._cancelled)
                    self.outcome, self.job = outcome, None
                    break
                step = self.plan.steps[self._next]
                self._next += 1
                submitted: Job | None = None
                try:
                    job, results = self._submit(step)
                except RuntimeError as exc:
                    refused = StepResult(step, 0, f"{step.label}: {describe_error(exc)}")
                    self._results.append(refused)
                else:
                    self.job = submitted = job
            if submitted is not None:
                submitted.when_ended(partial(self._finished, step, job, results))
                return
            if self._on_step is not None:
                self._on_step(refused)
        self._over.set()
        if self._on_done is not None:
            self._on_done(outcome)

    def _submit(self, step: Step) -> tuple[Job, list[StepResult]]:
        """The step's job: the queue's own UNINSTALL or EVICT for uv-managed things, else a
        REMOVE job around the removal done here. The list receives a REMOVE job's result."""
        item = step.removals[0].item
        results: list[StepResult] = []
        if step.action in (Action.UNINSTALL, Action.EVICT):
            assert item.entry is not None
            kind = JobKind.UNINSTALL if step.action == Action.UNINSTALL else JobKind.EVICT
            return self._queue.submit(kind, item.entry), results

        def remove() -> int:
            result = _direct_removal(step, self._shelf)
            results.append(result)
            if result.error:
                raise PyshelfError(result.error)
            return result.freed

        return self._queue.submit_removal(str(item.path), remove), results

    def _finished(self, step: Step, job: Job, results: list[StepResult]) -> None:
        """A step's job is over (on the queue thread that ran it): note it, then go on."""
        try:
            if job.phase == Phase.CANCELLED:
                with self._lock:
                    self._cancelled = True  # stopped before it removed anything: no result
                return
            result = results[0] if results else StepResult(step, job.freed, job.error)
            with self._lock:
                self._results.append(result)
            if self._on_step is not None:
                self._on_step(result)
        finally:
            self._advance()


def _direct_removal(step: Step, shelf: Shelf) -> StepResult:
    """The steps that no uninstall or evict covers: done here, inside a REMOVE job."""
    item = step.removals[0].item
    if step.action == Action.DROP_UNPACKED:
        return StepResult(step, shelf.unpacked.remove(item.path.name))
    if step.action == Action.DELETE_FILE:
        return StepResult(step, _delete_file(item.path))
    return _remove_unit(step, item.path)


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
        remove_tree(aside)  # no recursion: a unit may hold a folder any depth
    except OSError as exc:
        left = 0
        with contextlib.suppress(OSError):
            left = freed_size(aside)
        return StepResult(step, freed - left, f"{path} only partly removed ({aside} left): {exc}")
    return StepResult(step, freed)

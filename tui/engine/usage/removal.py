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
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from pathlib import Path

from tui.engine.du import freed_size
from tui.engine.du import stat_tree as lstat_tree
from tui.engine.errors import PyshelfError, RequestError, describe_error
from tui.engine.jobs import Job, JobKind, JobQueue, Phase
from tui.engine.resolve import parse_request
from tui.engine.shelf import Entry, Shelf
from tui.engine.usage.inventory import Inventory, Item, Kind, Owner, take_inventory
from tui.engine.usage.managers import is_unit
from tui.engine.usage.venvs import Pin, User, link_through

_ASIDE = ".pyshelf-del-"


class InUseError(PyshelfError):
    """The plan breaks environments and the second confirmation was not given."""


class Action(StrEnum):
    UNINSTALL = "uninstall"  # JobKind.UNINSTALL: Shelf.uninstall, links repointed or removed
    EVICT = "evict"  # JobKind.EVICT: an archive with its partial download and unpacked copy
    DROP_UNPACKED = "drop unpacked"  # UnpackedStore.remove: only the unpacked copy
    DELETE_FILE = "delete"  # an archive or partial download no known build describes
    REMOVE_UNIT = "remove"  # another manager's whole interpreter directory


_ORDER = list(Action)


@dataclass(frozen=True, slots=True)
class Removal:
    item: Item
    freed: int  # bytes removing this item gives back, the plan's earlier removals done
    reason: str  # why it is in the plan: "marked", a preset's explanation, "evicted together"
    breaks: tuple[User, ...] = ()  # environments and pins left without their interpreter
    switches: tuple[User, ...] = ()  # via the minor link (or a pin), they move to another patch


@dataclass(frozen=True, slots=True)
class Step:
    """One action; an eviction takes several items at once."""

    action: Action
    removals: tuple[Removal, ...]

    @property
    def freed(self) -> int:
        return sum(r.freed for r in self.removals)

    @property
    def label(self) -> str:
        return self.removals[0].item.name


@dataclass(frozen=True, slots=True)
class Plan:
    steps: tuple[Step, ...]
    refused: tuple[tuple[Item, str], ...] = ()  # marked, but never removable: (item, why)

    @property
    def removals(self) -> list[Removal]:
        return [r for s in self.steps for r in s.removals]

    @property
    def items(self) -> list[Item]:
        return [r.item for r in self.removals]

    @property
    def freed(self) -> int:
        """Bytes that will really come free."""
        return sum(s.freed for s in self.steps)

    @property
    def broken_envs(self) -> list[tuple[User, Item]]:
        """(environment or pin, the interpreter it loses) for every user the plan breaks."""
        return [(v, r.item) for r in self.removals for v in r.breaks]

    @property
    def switched_envs(self) -> list[tuple[User, Item]]:
        return [(v, r.item) for r in self.removals for v in r.switches]

    @property
    def needs_second_confirmation(self) -> bool:
        """Interpreters in use go only with ``execute(..., confirmed_in_use=True)``."""
        return bool(self.broken_envs)

    @property
    def empty(self) -> bool:
        return not self.steps


def make_plan(
    inventory: Inventory,
    marked: Iterable[Item],
    reasons: Mapping[Item, str] | None = None,
) -> Plan:
    """What removing ``marked`` takes: each item's whole unit, bytes freed, environments hit.

    Scans for environments first if the inventory has not (``Inventory.scan_venvs``).
    """
    reasons = reasons or {}
    marked = list(dict.fromkeys(marked))  # keeps order, drops repeats
    refused: list[tuple[Item, str]] = []
    units: dict[tuple[Action, int], list[tuple[Item, str]]] = {}
    for item in marked:
        why = refusal(item)
        if why is not None:
            refused.append((item, why))
            continue
        action = _action(item)
        if action == Action.EVICT:
            assert item.entry is not None
            unit = units.setdefault((action, id(item.entry)), [])
            for member in inventory.items:  # Shelf.evict takes the archive's whole unit
                same = member.entry is item.entry and member.kind != Kind.INSTALL
                if same and all(member is not m for m, _ in unit):
                    unit.append((member, "same build: evicted together"))
            _set_reason(unit, item, reasons.get(item, "marked"))
        else:
            units[(action, id(item))] = [(item, reasons.get(item, "marked"))]
    _take_unpacked_along(inventory, units)
    # An unpacked copy marked on its own but also evicted with its archive goes once.
    evicted = {id(m) for (a, _), u in units.items() if a == Action.EVICT for m, _ in u}
    units = {
        k: u for k, u in units.items()
        if k[0] == Action.EVICT or id(u[0][0]) not in evicted
    }  # fmt: skip

    _note_kept_copies(inventory, units)

    ordered = sorted(units.items(), key=lambda kv: _ORDER.index(kv[0][0]))
    flat = [item for _, unit in ordered for item, _ in unit]
    freed = _freed_together([i.path for i in flat])
    if inventory.venvs is None and any(i.is_interpreter for i in flat):
        inventory.scan_venvs(cwd=Path.cwd())
    removed = {id(i) for i in flat}
    survivors = [
        i for i in inventory.items
        if i.kind == Kind.INSTALL and id(i) not in removed and i.entry is not None
    ]  # fmt: skip
    pinned = _pin_impact(inventory, removed)

    steps = []
    index = 0
    for (action, _), unit in ordered:
        removals = []
        for item, why in unit:
            breaks, switches = _impact(item, inventory, survivors)
            pin_breaks, pin_switches = pinned.get(id(item), ((), ()))
            removals.append(
                Removal(item, freed[index], why, breaks + pin_breaks, switches + pin_switches)
            )
            index += 1
        steps.append(Step(action, tuple(removals)))
    return Plan(tuple(steps), tuple(refused))


def plan_builds(
    shelf: Shelf,
    action: Action,
    entries: Iterable[Entry],
    *,
    cwd: Path | None = None,
) -> Plan:
    """The plan for uninstalling (or evicting) builds: ``u`` and ``e``, ``pyshelf uninstall``
    and ``pyshelf evict``. Their items in a fresh inventory go through ``make_plan``, exactly
    as if they were marked in the disk-usage view, so the count and the users are the same.

    Environments and ``.python-version`` files are looked for where the view looks: the
    usual places, ``Settings.venv_dirs`` (and PYSHELF_VENV_DIRS) and ``cwd``.
    Walks trees: call it from a worker, not a UI thread.
    """
    if action not in (Action.UNINSTALL, Action.EVICT):
        raise ValueError(f"builds are uninstalled or evicted, not {action}")
    inventory = take_inventory(shelf, foreign=False)
    inventory.scan_venvs(configured=shelf.settings.venv_dirs, cwd=cwd or Path.cwd())
    wanted: set[str] = set()
    for entry in entries:
        if action == Action.UNINSTALL:
            if entry.installation is not None:
                wanted.add(os.fspath(entry.installation.path))
        elif entry.cached is not None:  # make_plan takes its partial and unpacked copy along
            wanted.add(os.fspath(entry.cached.path))
        elif entry.partial_bytes:
            wanted.add(os.fspath(shelf.cache.partial_for(entry.build)))
    kinds = (Kind.INSTALL,) if action == Action.UNINSTALL else (Kind.ARCHIVE, Kind.PARTIAL)
    marked = [i for i in inventory.items if i.kind in kinds and os.fspath(i.path) in wanted]
    return make_plan(inventory, marked)


def _take_unpacked_along(
    inventory: Inventory, units: dict[tuple[Action, int], list[tuple[Item, str]]]
) -> None:
    """Shelf.uninstall also drops the unpacked copies no install uses any more, beyond the
    hot copies kept: each goes in its build's uninstall step, any other in the first one."""
    uninstalls = [u for (a, _), u in units.items() if a == Action.UNINSTALL]
    if not uninstalls or inventory.unpacked_going is None:
        return
    entries = [u[0][0].entry for u in uninstalls if u[0][0].entry is not None]
    going = {os.fspath(p) for p in inventory.unpacked_going(entries)}
    for item in inventory.items:
        if item.kind != Kind.UNPACKED or os.fspath(item.path) not in going:
            continue
        unit = next((u for u in uninstalls if u[0][0].entry is item.entry), uninstalls[0])
        if all(item is not m for m, _ in unit):
            why = "its unpacked copy goes with the uninstall"
            unit.append((item, why if unit[0][0].entry is item.entry else "unused unpacked copy"))
        units.pop((Action.DROP_UNPACKED, id(item)), None)  # marked too: it goes once
        for key, other in list(units.items()):  # and not again with its archive's eviction
            if key[0] == Action.EVICT:
                other[:] = [(m, w) for m, w in other if m is not item]
                if not other:
                    del units[key]


KEPT_COPY = "files it shares with its unpacked copy stay in the cache for a quick reinstall"


def _note_kept_copies(
    inventory: Inventory, units: dict[tuple[Action, int], list[tuple[Item, str]]]
) -> None:
    """Say why an uninstall frees less than the install's size: a hot copy kept (see
    ``Settings.keep_unpacked``) still holds the payload."""
    going = {id(m) for unit in units.values() for m, _ in unit}
    for (action, _), unit in units.items():
        install, why = unit[0]
        if action != Action.UNINSTALL or install.entry is None:
            continue
        kept = any(
            i.kind == Kind.UNPACKED and i.entry is install.entry and id(i) not in going
            for i in inventory.items
        )
        if kept:
            unit[0] = (install, KEPT_COPY if why == "marked" else f"{why}; {KEPT_COPY}")


def _set_reason(unit: list[tuple[Item, str]], item: Item, why: str) -> None:
    for n, (member, _) in enumerate(unit):
        if member is item:
            unit[n] = (item, why)
            return
    unit.insert(0, (item, why))


def refusal(item: Item) -> str | None:
    """Why ``item`` can never be removed, or None."""
    if item.owner == Owner.SYSTEM:
        return item.reason or "system interpreters are never removed"
    if not item.deletable:
        return item.reason or "not deletable"
    if item.kind == Kind.INSTALL and item.entry is None:
        return "no install entry to uninstall it through"
    return None


def _action(item: Item) -> Action:
    if item.kind == Kind.INSTALL:
        return Action.UNINSTALL
    if item.kind == Kind.INTERPRETER:
        return Action.REMOVE_UNIT
    if item.kind == Kind.UNPACKED:
        return Action.DROP_UNPACKED
    return Action.EVICT if item.entry is not None else Action.DELETE_FILE


def _impact(
    item: Item, inventory: Inventory, survivors: list[Item]
) -> tuple[tuple[User, ...], tuple[User, ...]]:
    """(environments broken, environments moved to another patch by the minor link)."""
    if not item.used_by:
        return (), ()
    if item.kind != Kind.INSTALL:
        return item.used_by, ()
    breaks: list[User] = []
    switches: list[User] = []
    for venv in item.used_by:
        link = link_through(venv, inventory.install_root)
        kept = link is not None and any(
            s.entry.installation is not None and s.entry.installation.minor_link_name == link
            for s in survivors
            if s.entry is not None
        )
        (switches if kept else breaks).append(venv)
    return tuple(breaks), tuple(switches)


def _pin_impact(
    inventory: Inventory, removed: set[int]
) -> dict[int, tuple[tuple[Pin, ...], tuple[Pin, ...]]]:
    """For each removed install: (pins left with no installed match, pins that move to
    another match). A pin is charged to the install it resolves to today: the newest
    matching one, stable releases first, as ``Shelf.find`` picks."""
    installs = [i for i in inventory.items if i.kind == Kind.INSTALL and i.entry is not None]
    out: dict[int, tuple[list[Pin], list[Pin]]] = {}
    for pin in inventory.pins:
        try:
            request = parse_request(pin.request)
        except RequestError:
            continue  # not a request pyshelf reads: it names no install of ours
        matches = [i for i in installs if i.entry is not None and request.matches(i.entry.build)]
        if not matches:
            continue
        stable = [i for i in matches if i.entry is not None and not i.entry.build.is_prerelease]
        target = max(stable or matches, key=lambda i: i.entry.build.sort_key() if i.entry else ())
        if id(target) not in removed:
            continue
        breaks, switches = out.setdefault(id(target), ([], []))
        left = any(id(i) not in removed for i in matches)
        (switches if left else breaks).append(pin)
    return {k: (tuple(b), tuple(s)) for k, (b, s) in out.items()}


def _freed_together(paths: list[Path]) -> list[int]:
    """``freed_size`` of the union of ``paths``, split per path: a shared inode whose links
    all lie in the union counts once, for the last path that holds one. Paths go in that
    order, so that is the removal that really frees it: each step's figure is what its
    execution reports."""
    per = [0] * len(paths)
    shared: dict[tuple[int, int], list[int]] = {}  # inode -> [links seen, nlink, size, index]
    for index, path in enumerate(paths):
        for st in lstat_tree(os.fspath(path)):
            if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode):
                key = (st.st_dev, st.st_ino)
                found = shared.setdefault(key, [0, st.st_nlink, st.st_size, index])
                found[0] += 1
                found[3] = index
            else:
                per[index] += st.st_size
    for seen, nlink, size, index in shared.values():
        if seen >= nlink:
            per[index] += size
    return per


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


def envs_use(count: int) -> str:
    return "1 environment uses" if count == 1 else f"{count} environments use"


def count_users(users: Iterable[User]) -> str:
    """``2 environments``, ``1 .python-version file``, or both joined by "and"."""
    users = list(users)
    pins = sum(isinstance(u, Pin) for u in users)
    venvs = len(users) - pins
    parts = []
    if venvs or not pins:
        parts.append("1 environment" if venvs == 1 else f"{venvs} environments")
    if pins:
        parts.append("1 .python-version file" if pins == 1 else f"{pins} .python-version files")
    return " and ".join(parts)


def how_used(user: User, item: Item) -> str:
    """How ``user`` depends on ``item``, for a confirmation that names it."""
    if isinstance(user, Pin):
        return f"asks for {user.request}: {item.name}, and no other install left matches"
    return f"uses {item.name}"


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
            f"{envs_use(len(envs))} interpreters this would remove ({envs[0][0].path}"
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
                assert submitted.future is not None
                submitted.future.add_done_callback(partial(self._finished, step, job, results))
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

    def _finished(self, step: Step, job: Job, results: list[StepResult], _: object) -> None:
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
        shutil.rmtree(aside)
    except OSError as exc:
        left = 0
        with contextlib.suppress(OSError):
            left = freed_size(aside)
        return StepResult(step, freed - left, f"{path} only partly removed ({aside} left): {exc}")
    return StepResult(step, freed)

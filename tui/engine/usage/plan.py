"""Removal plans: exactly what goes, what it really frees, and which environments break.

``make_plan`` (and ``plan_builds`` for builds) turns marked items into ordered steps, each
removal with the bytes it frees (``freed_sizes``: a hard-linked file counts only if every one
of its links goes in the same plan) and the environments and pins it breaks or moves. Nothing
here deletes anything; ``tui.engine.usage.removal.execute`` carries a plan out.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from tui.engine.du import freed_sizes
from tui.engine.errors import RequestError
from tui.engine.resolve import parse_request
from tui.engine.shelf import Entry, Shelf
from tui.engine.usage.inventory import Inventory, Item, Kind, Owner, take_inventory
from tui.engine.usage.venvs import Pin, User, Venv, link_through
from tui.engine.usage.versionfiles import ManagerPin


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
    freed = freed_sizes([i.path for i in flat])
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
    """(environments broken, environments moved to another patch by the minor link).
    Pins, ours and other managers', are ``_pin_impact``'s."""
    venvs = tuple(u for u in item.used_by or () if isinstance(u, Venv))
    if not venvs:
        return (), ()
    if item.kind != Kind.INSTALL:
        return venvs, ()
    breaks: list[User] = []
    switches: list[User] = []
    for venv in venvs:
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
) -> dict[int, tuple[tuple[User, ...], tuple[User, ...]]]:
    """For each removed interpreter: (pins left with no match, pins that move to another
    match). A pin is charged to the interpreter it resolves to today: for uv's, the newest
    matching install, stable releases first, as ``Shelf.find`` picks; for another manager's,
    the newest of its installs it names (``versionfiles.resolve``), wherever that leads."""
    installs = [i for i in inventory.items if i.kind == Kind.INSTALL and i.entry is not None]
    # (pin, the interpreter it resolves to, whether another match stays); None: not ours
    charged: list[tuple[User, Item | None, bool]] = []
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
        charged.append((pin, target, any(id(i) not in removed for i in matches)))
    for claim in inventory.claims:
        holders = [inventory.holder(t) for t in claim.targets]  # None: out of the inventory
        if holders:
            left = any(h is None or id(h) not in removed for h in holders)
            charged.append((claim.pin, holders[0], left))
    out: dict[int, tuple[list[User], list[User]]] = {}
    for user, holder, left in charged:
        if holder is None or id(holder) not in removed:
            continue
        breaks, switches = out.setdefault(id(holder), ([], []))
        (switches if left else breaks).append(user)
    return {k: (tuple(b), tuple(s)) for k, (b, s) in out.items()}


def count_users(users: Iterable[User]) -> str:
    """``2 environments``, ``1 .python-version file``, ``pyenv global``, joined by "and"
    (other managers' pins by name, up to two; more are counted)."""
    users = list(users)
    pins = sum(isinstance(u, Pin) for u in users)
    others = list(dict.fromkeys(u.label() for u in users if isinstance(u, ManagerPin)))
    venvs = len(users) - pins - sum(isinstance(u, ManagerPin) for u in users)
    parts = []
    if venvs or not (pins or others):
        parts.append("1 environment" if venvs == 1 else f"{venvs} environments")
    if pins:
        parts.append("1 .python-version file" if pins == 1 else f"{pins} .python-version files")
    if len(others) > 2:
        parts.append(f"{len(others)} pins of other managers")
    else:
        parts += others
    return " and ".join(parts)


def describe_users(users: Iterable[User], show: Callable[[Path], str] = str) -> str:
    """In a few words, who uses an interpreter: ``pyenv global``, ``2 environments``,
    ``~/proj/.tool-versions (asdf) +1``. Another manager's default or pin comes first: it
    is what a user knows the interpreter by."""
    users = list(users)
    pins = [u for u in users if isinstance(u, ManagerPin)]
    if not pins:
        return count_users(users)
    more = len(users) - 1
    return pins[0].label(show) + (f" +{more}" if more else "")


def user_name(user: User, show: Callable[[Path], str] = str) -> str:
    """A user as a list names it: its path, or another manager's pin by what it is."""
    return user.label(show) if isinstance(user, ManagerPin) else show(user.path)


def how_used(user: User, item: Item) -> str:
    """How ``user`` depends on ``item``, for a confirmation that names it."""
    if isinstance(user, ManagerPin):
        asked = f"{user.label()} asks for {user.request}"
        if os.path.basename(item.path) == user.request:
            return asked
        return f"{asked}: {item.name}, and no other install of {user.manager} left matches"
    if isinstance(user, Pin):
        return f"asks for {user.request}: {item.name}, and no other install left matches"
    return f"uses {item.name}"

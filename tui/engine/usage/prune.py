"""Prune presets: rules that mark uv-managed installs and cache items for removal.

Presets only mark; ``prune_plan`` turns the marks into a ``Plan`` to preview, and nothing is
deleted until ``tui.engine.usage.removal.execute`` runs it. Other managers' interpreters are never
marked by a preset: removing those is always an explicit choice.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

from tui.engine.du import tree_size
from tui.engine.errors import PyshelfError, shown
from tui.engine.names import parse_archive_name, split_version
from tui.engine.settings import parse_size as parse_size  # where the CLI finds it
from tui.engine.usage.inventory import Inventory, Item, Kind, Owner
from tui.engine.usage.removal import Plan, make_plan

Marks = dict[Item, str]  # item -> why a preset marked it

DAY = 86400.0
MAX_DAYS = 36500.0  # a century: older than any file's mtime can say


def parse_days(text: str) -> float:
    """A number of days, ``0`` to a century; ``nan``, ``inf`` and negatives are refused."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= MAX_DAYS:  # nan fails every comparison
        raise PyshelfError(
            f"not a number of days: {shown(text)} (try 30, or 0.5 for twelve hours; "
            f"at most {MAX_DAYS:g})"
        )
    return value


def _installs(inventory: Inventory) -> list[Item]:
    return [
        i for i in inventory.items
        if i.kind == Kind.INSTALL and i.entry is not None and i.entry.installation is not None
    ]  # fmt: skip


def _cache(inventory: Inventory) -> list[Item]:
    return [i for i in inventory.items if i.owner == Owner.CACHE and i.deletable]


def newest_patch_only(inventory: Inventory) -> Marks:
    """Every install but the newest patch of its minor (per implementation, variant, platform)."""
    groups: dict[str, list[Item]] = {}
    for item in _installs(inventory):
        assert item.entry is not None and item.entry.installation is not None
        groups.setdefault(item.entry.installation.minor_link_name, []).append(item)
    marks: Marks = {}
    for members in groups.values():
        ranked = sorted(members, key=_install_rank, reverse=True)
        for item in ranked[1:]:
            marks[item] = f"older patch: {ranked[0].version} is kept"
    return marks


def _install_rank(item: Item) -> tuple:
    assert item.entry is not None and item.entry.installation is not None
    return item.entry.installation.parts.sort_key()


def _cache_key(item: Item) -> str | None:
    """The installation key a cache item would install, when known."""
    if item.entry is not None:
        return item.entry.build.key
    if item.kind != Kind.ARCHIVE:
        return None
    parsed = parse_archive_name(item.path.name.partition("-")[2])
    if parsed is None:
        return None
    variant = f"+{parsed.variant}" if parsed.variant else ""
    try:
        split_version(parsed.version)
    except ValueError:
        return None
    platform = f"{parsed.os}-{parsed.arch}-{parsed.libc}"
    return f"{parsed.implementation}-{parsed.version}{variant}-{platform}"


def uninstalled_archives(inventory: Inventory, removing: Iterable[Item] = ()) -> Marks:
    """Cache items of builds whose version is not installed, or will not be once ``removing``
    (installs other presets take) is gone. Items we cannot name stay."""
    gone = {id(i) for i in removing}
    installed = {
        i.entry.key for i in _installs(inventory) if i.entry is not None and id(i) not in gone
    }
    marks: Marks = {}
    for item in _cache(inventory):
        key = _cache_key(item)
        if key is not None and key not in installed:
            marks[item] = f"{item.version or key} is not installed"
    return marks


def older_than(inventory: Inventory, days: float, now: float | None = None) -> Marks:
    """Archives and partial downloads last written more than ``days`` ago (an archive's
    eviction takes its unpacked copy along); an unpacked copy whose archive is gone goes by
    its own age."""
    now = time.time() if now is None else now
    with_archive = {id(i.entry) for i in _cache(inventory) if i.kind == Kind.ARCHIVE and i.entry}
    marks: Marks = {}
    for item in _cache(inventory):
        if item.kind == Kind.UNPACKED and item.entry and id(item.entry) in with_archive:
            continue
        age = item.age(now) / DAY
        if age > days:
            marks[item] = f"{age:.0f} days old (over {days:g})"
    return marks


def over_cap(inventory: Inventory, limit: int, already: Iterable[Item] = ()) -> Marks:
    """The oldest cache units (an archive with its partial download and unpacked copy) until
    what the cache holds is at most ``limit`` bytes. Measures sizes first if needed.

    An unpacked copy costs what it adds beyond its install while that install stays, and its
    whole tree once the install goes too (``already`` holds what other presets remove).
    """
    if not inventory.measured():
        inventory.scan_sizes()
    gone = {id(i) for i in already}
    kept_keys = {
        i.entry.key for i in _installs(inventory) if id(i) not in gone and i.entry is not None
    }
    units: dict[int, list[Item]] = {}
    for item in _cache(inventory):
        units.setdefault(id(item.entry) if item.entry else id(item), []).append(item)
    for key, unit in list(units.items()):
        # An archive or partial download marked elsewhere is evicted with its whole unit.
        if any(id(i) in gone and i.kind != Kind.UNPACKED and i.entry for i in unit):
            del units[key]
        else:
            units[key] = [i for i in unit if id(i) not in gone]

    def cost(item: Item) -> int:
        entry = item.entry
        if item.kind == Kind.UNPACKED and entry is not None and entry.key not in kept_keys:
            return tree_size(item.path)
        return item.size or 0

    def age_key(unit: list[Item]) -> float:
        archives = [i.mtime for i in unit if i.kind == Kind.ARCHIVE]
        return min(archives) if archives else max(i.mtime for i in unit)

    sized = [(age_key(u), u, sum(cost(i) for i in u)) for u in units.values() if u]
    # What stays whatever goes (state files, directories, leftovers) counts too: the cap is
    # on the cache as ``du`` measures it (tui.engine.usage.ledger).
    fixed = sum(i.size or 0 for i in inventory.items if i.owner == Owner.CACHE and not i.deletable)
    total = fixed + sum(size for _, _, size in sized)
    marks: Marks = {}
    for _, unit, size in sorted(sized, key=lambda t: t[0]):
        if total <= limit:
            break
        for item in unit:
            marks[item] = f"oldest first, to bring the cache under {limit} bytes"
        total -= size
    return marks


def prune_plan(
    inventory: Inventory,
    *,
    keep_newest_patch: bool = False,
    evict_uninstalled: bool = False,
    older_than_days: float | None = None,
    max_cache: int | None = None,
    now: float | None = None,
) -> Plan:
    """The plan for the chosen presets together (an item several mark goes once)."""
    marks: Marks = {}

    def add(more: Marks) -> None:
        for item, why in more.items():
            marks[item] = f"{marks[item]}; {why}" if item in marks else why

    if keep_newest_patch:
        add(newest_patch_only(inventory))
    if evict_uninstalled:
        add(uninstalled_archives(inventory, removing=list(marks)))
    if older_than_days is not None:
        add(older_than(inventory, older_than_days, now))
    if max_cache is not None:
        add(over_cap(inventory, max_cache, already=list(marks)))
    return make_plan(inventory, list(marks), marks)

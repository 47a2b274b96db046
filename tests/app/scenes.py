"""A fixed shelf for snapshots and screenshots: same builds, states and sizes on every run.

Nothing here touches the network: the catalog points at a host that is never contacted
(every size is already known, every archive it needs is already in the cache). Paths live
under the home directory, which the app writes as ``~``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.conftest import WORLD_ARCHIVES
from tests.pbs_fixtures import catalog_json, make_archive
from tests.test_managers import make_system, make_unit, make_venv
from tui.app.app import PyshelfApp
from tui.app.screens.cleanup import Scope
from tui.engine.host import Host
from tui.engine.jobs import JobEvent, JobKind, JobQueue, Phase
from tui.engine.settings import Settings
from tui.engine.shelf import Shelf
from tui.engine.usage.inventory import Inventory, Item, Kind, take_inventory, uv_items
from tui.engine.usage.ledger import Ledger
from tui.engine.usage.removal import Plan, make_plan

HOST = Host("linux", "x86_64", "gnu")
MIRROR = "https://mirror.example.invalid/python-build-standalone"
KIB = 1024
# Install sizes depend on the filesystem (directory sizes differ); a fixed figure per build
# keeps the pictures identical everywhere.
INSTALL_SIZES = {"cpython-3.12.7-linux-x86_64-gnu": 61_234 * KIB}


def build_shelf(root: Path, home: Path) -> Shelf:
    """Cache 3.12.7 (installed) and 3.11.9; 40% of 3.13.1t downloaded; the rest available."""
    specs = [make_archive(root / "www" / a.get("build", "20991231"), **a) for a in WORLD_ARCHIVES]
    catalog = root / "catalog.json"
    catalog.write_text(json.dumps(catalog_json(specs, MIRROR), indent=1))
    settings = Settings(
        cache_dir=home / ".cache" / "pyshelf",
        install_dir=home / ".local" / "share" / "uv" / "python",
        bin_dir=home / ".local" / "bin",
        catalog=str(catalog),
    )
    shelf = Shelf(settings, host=HOST)
    by_key = {s.key: s for s in specs}
    for build in shelf.builds():
        shelf.sizes.remember(build, by_key[build.key].size)
    entries = {e.key: e for e in shelf.entries()}
    for key in ("cpython-3.12.7-linux-x86_64-gnu", "cpython-3.11.9-linux-x86_64-gnu"):
        target = shelf.cache.path_for(entries[key].build)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(by_key[key].path, target)
    partial_key = "cpython-3.13.1+freethreaded-linux-x86_64-gnu"
    partial = shelf.cache.partial_for(entries[partial_key].build)
    partial.parent.mkdir(parents=True, exist_ok=True)
    data = by_key[partial_key].path.read_bytes()
    partial.write_bytes(data[: len(data) * 2 // 5])
    entries = {e.key: e for e in shelf.entries()}
    shelf.install(entries["cpython-3.12.7-linux-x86_64-gnu"])
    return shelf


# What the ledger's other items hold, by kind: fixed like the install sizes.
FIXED_BY_KIND = {Kind.UNPACKED: 12 * KIB, Kind.OTHER: 24 * KIB, Kind.LEFTOVER: 0}


def fixed_ledger(shelf: Shelf) -> Ledger:
    """The ledger with the filesystem-dependent sizes fixed (archives keep their real size)."""
    items = uv_items(shelf, shelf.entries(all_platforms=True))
    for item in items:
        if item.kind == Kind.INSTALL:
            item.size = INSTALL_SIZES.get(item.name, 12_345 * KIB)
        elif item.kind in FIXED_BY_KIND:
            item.size = FIXED_BY_KIND[item.kind]
        else:
            item.size = item.path.stat().st_size
    return Ledger.of(shelf, items)


def make_app(root: Path, home: Path) -> PyshelfApp:
    shelf = build_shelf(root, home)
    return PyshelfApp(shelf, JobQueue(shelf), measure=fixed_ledger)


def jobs_in_flight(sizes: dict[str, int]) -> list[JobEvent]:
    """Synthetic queue snapshots: the same numbers every time, whatever the machine's speed."""
    k312 = "cpython-3.13.1-linux-x86_64-gnu"
    kft = "cpython-3.13.1+freethreaded-linux-x86_64-gnu"
    done = sizes[k312] * 2 // 5
    mib = 1024 * 1024
    return [
        JobEvent(9001, JobKind.FETCH, k312, Phase.DOWNLOADING, done, sizes[k312],
                 2.5 * mib, 12.0, None, None),
        JobEvent(9002, JobKind.INSTALL, kft, Phase.EXTRACTING, 7_000, 10_000,
                 None, 3.0, None, None),
        JobEvent(9003, JobKind.FETCH, "pypy-3.10.14-linux-x86_64-gnu", Phase.QUEUED, 0, None,
                 None, None, None, None),
        JobEvent(9004, JobKind.FETCH, "cpython-3.12.6-linux-x86_64-gnu", Phase.FAILED, 0, None,
                 None, None, "cannot reach mirror.example.invalid (name not resolved); check "
                 "the network, or use --offline to work from the cache", None),
    ]  # fmt: skip


# -- the disk-usage view -----------------------------------------------------------------

DAY = 86400.0
NOW = 1_767_225_600.0  # 2026-01-01: the view's clock, so ages never change
MIB = 1024 * KIB
# (size, age in days) by the engine's item name (or the last part of it). Sizes and plans are
# fixed too: du's numbers depend on the filesystem (directory sizes differ).
USAGE: dict[str, tuple[int, float]] = {
    "cpython-3.12.7-linux-x86_64-gnu": (61_234 * KIB, 12),
    "cpython-3.12.7-linux-x86_64-gnu (archive 20991231)": (31 * MIB + 417 * KIB, 12),
    "cpython-3.12.7-linux-x86_64-gnu (unpacked)": (212 * KIB, 12),
    "cpython-3.11.9-linux-x86_64-gnu (archive 20991231)": (29 * MIB + 80 * KIB, 95),
    "cpython-3.13.1+freethreaded-linux-x86_64-gnu (partial download)": (11 * MIB, 3),
    "3.9.18": (183 * MIB + 600 * KIB, 700),
    "3.11.7": (201 * MIB + 300 * KIB, 400),
    "cpython@3.12.3": (98 * MIB, 150),
    "python3.11": (6 * MIB + 700 * KIB, 900),
    "(links, locks, dirs)": (8 * KIB, 12),
    "(pyshelf state, dirs)": (24 * KIB, 12),
}


def _fixed_sizes(
    items: Sequence[Item],
    on_size: Callable[[Item, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> bool:
    for item in items:
        item.size = USAGE[item.name][0]
        if on_size is not None:
            on_size(item, item.size)
    return True


def _fixed_plan(inventory: Inventory, marked: list[Item]) -> Plan:
    """The engine's plan with each removal freeing the item's fixed size."""
    plan = make_plan(inventory, marked)
    steps = tuple(
        dataclasses.replace(
            step,
            removals=tuple(
                dataclasses.replace(r, freed=USAGE[r.item.name][0]) for r in step.removals
            ),
        )
        for step in plan.steps
    )
    return Plan(steps, plan.refused)


def cleanup_app(root: Path, home: Path) -> PyshelfApp:
    """The shelf above, plus pyenv and rye interpreters, a system python and environments
    that use some of them, with fixed sizes, ages and plans.

    Callers clear PYENV_ROOT and the other managers' variables: they would point elsewhere.
    """
    shelf = build_shelf(root, home)
    for name, version in (("3.9.18", "3.9.18"), ("3.11.7", "3.11.7")):
        make_unit(home / ".pyenv" / "versions" / name, version)
    make_unit(home / ".rye" / "py" / "cpython@3.12.3", "3.12.3")
    sysbin = root / "sysbin"
    make_system(sysbin)
    work = home / "work"
    install = shelf.installs.root / "cpython-3.12.7-linux-x86_64-gnu"
    make_venv(work / "api" / ".venv", install / "bin", "3.12.7")
    make_venv(work / "site" / ".venv", install / "bin", "3.12.7")
    make_venv(work / "legacy" / ".venv", home / ".pyenv" / "versions" / "3.9.18" / "bin", "3.9.18")
    for item in take_inventory(shelf, system_dirs=[sysbin]).items:
        when = NOW - USAGE[item.name][1] * DAY
        os.utime(item.path, (when, when), follow_symlinks=False)
    scope = Scope(
        system_dirs=[sysbin],
        cwd=work,
        clock=lambda: NOW,
        scan_sizes=_fixed_sizes,
        make_plan=_fixed_plan,
    )
    return PyshelfApp(shelf, JobQueue(shelf), measure=fixed_ledger, scope=scope)

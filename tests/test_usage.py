"""The disk-usage inventory: every kind of item, sizes equal to du's, and who uses what."""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import World
from tests.test_managers import clear_manager_env, make_system, make_unit, make_venv
from tui.engine.du import tree_size
from tui.engine.shelf import Shelf
from tui.engine.usage.inventory import Inventory, Item, Kind, Owner, take_inventory

K126 = "cpython-3.12.6-linux-x86_64-gnu"
K127 = "cpython-3.12.7-linux-x86_64-gnu"
K131 = "cpython-3.13.1-linux-x86_64-gnu"
MINOR_312 = "cpython-3.12-linux-x86_64-gnu"
ORPHAN_ARCHIVE = "abcdef012-pypy3.9-v7.3.1-linux64.tar.bz2"
ORPHAN_UNPACKED = "0123456789abcdef"


@pytest.fixture(autouse=True)
def _no_manager_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_manager_env(monkeypatch)


@dataclass
class Machine:
    """A world with installs and cache, plus pyenv, rye and system interpreters."""

    world: World
    shelf: Shelf
    home: Path
    sysbin: Path

    @property
    def install_root(self) -> Path:
        return self.world.root / "installs"

    @property
    def cache_dir(self) -> Path:
        return self.world.root / "cache"

    def inventory(self, *, foreign: bool = True) -> Inventory:
        return take_inventory(self.shelf, foreign=foreign, system_dirs=[self.sysbin])

    def pyenv(self, name: str) -> Path:
        return self.home / ".pyenv" / "versions" / name


def stock(world: World, home: Path, *, foreign: bool = True) -> Machine:
    """3.12.6 and 3.12.7 installed (hard-linked from unpacked copies), 3.11 only cached,
    a partial download of 3.13.1, an orphan archive and unpacked copy; other managers."""
    code, _, err = world.cli("install", "3.12.6", "3.12.7")
    assert code == 0, err
    assert world.cli("fetch", "3.11")[0] == 0
    shelf = world.shelf()
    build = next(b for b in shelf.builds() if b.key == K131)
    partial = shelf.cache.partial_for(build)
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(os.urandom(5000))
    (shelf.cache.root / ORPHAN_ARCHIVE).write_bytes(os.urandom(3000))
    orphan = shelf.unpacked.root / ORPHAN_UNPACKED
    make_unit(orphan / "python", "3.10.2")
    sysbin = world.root / "sysbin"
    if foreign:
        make_unit(home / ".pyenv" / "versions" / "3.11.7", "3.11.7", payload=20000)
        make_unit(home / ".pyenv" / "versions" / "3.12.1", "3.12.1", payload=10000)
        make_unit(home / ".rye" / "py" / "cpython@3.12.3", "3.12.3")
        make_system(sysbin)
    return Machine(world, shelf, home, sysbin)


@pytest.fixture
def machine(world: World, isolated_home: Path) -> Machine:
    return stock(world, isolated_home)


def by_name(inventory: Inventory, name: str) -> Item:
    return next(i for i in inventory.items if i.name == name)


def du_sb(paths: list[Path]) -> list[int]:
    out = subprocess.run(
        ["du", "-sb", *map(str, paths)], capture_output=True, text=True, check=True
    ).stdout
    return [int(line.split("\t")[0]) for line in out.splitlines()]


def test_inventory_finds_each_kind(machine: Machine) -> None:
    inv = machine.inventory()
    assert list(inv.groups()) == [Owner.UV, Owner.CACHE, Owner.PYENV, Owner.RYE, Owner.SYSTEM]
    kinds = {(i.owner, i.kind, i.name) for i in inv.items}
    uv = [i.name for i in inv.groups()[Owner.UV]]
    # Newest first; the minor links count in the rest of the install dir, never removed alone.
    assert uv == [K127, K126, "(links, locks, dirs)"]
    rest = inv.groups()[Owner.CACHE][-1]
    assert rest.kind == Kind.OTHER and not rest.deletable and rest.path == machine.cache_dir
    cache = inv.groups()[Owner.CACHE]
    assert sorted(i.kind for i in cache).count(Kind.ARCHIVE) == 4  # 3.12.6, 3.12.7, 3.11, orphan
    assert (Owner.CACHE, Kind.UNPACKED, f"{K127} (unpacked)") in kinds
    assert (Owner.CACHE, Kind.UNPACKED, f"{ORPHAN_UNPACKED} (unpacked)") in kinds
    assert [i.kind for i in cache].count(Kind.PARTIAL) == 1
    assert (Owner.PYENV, Kind.INTERPRETER, "3.11.7") in kinds
    assert (Owner.RYE, Kind.INTERPRETER, "cpython@3.12.3") in kinds
    assert (Owner.SYSTEM, Kind.INTERPRETER, "python3.11") in kinds

    install = by_name(inv, K127)
    assert install.version == "3.12.7" and install.path == machine.install_root / K127
    assert install.deletable and install.entry is not None
    # The archive, unpacked copy and install of one build share the entry Shelf.evict takes.
    unpacked = by_name(inv, f"{K127} (unpacked)")
    archive = next(i for i in cache if i.kind == Kind.ARCHIVE and i.entry is install.entry)
    assert unpacked.entry is install.entry and archive.version == "3.12.7"
    assert archive.name == f"{K127} (archive 20991231)" and archive.path.name.endswith(".tar.gz")
    partial = next(i for i in cache if i.kind == Kind.PARTIAL)
    assert partial.entry is not None and partial.name == f"{K131} (partial download)"
    orphan = next(i for i in cache if i.path.name == ORPHAN_ARCHIVE)
    assert orphan.entry is None and orphan.deletable and orphan.name == ORPHAN_ARCHIVE[10:]
    assert by_name(inv, f"{ORPHAN_UNPACKED} (unpacked)").version == "3.10.2"  # read, not run
    pyenv = by_name(inv, "3.11.7")
    assert pyenv.version == "3.11.7" and pyenv.deletable and pyenv.path == machine.pyenv("3.11.7")
    system = by_name(inv, "python3.11")
    assert not system.deletable and system.reason and "system" in system.reason
    assert system.path == machine.sysbin / "python3.11"
    # Listing is immediate: no sizes yet, ages from mtimes.
    assert all(i.size is None for i in inv.items) and inv.total() is None
    assert all(i.age() >= 0 for i in inv.items)


def test_sizes_equal_du_with_hard_links_counted_once(machine: Machine) -> None:
    # One inode linked into two pyenv versions and twice inside one: counted once overall.
    shared = machine.pyenv("3.11.7") / "lib" / "python3.11" / "payload.bin"
    os.link(shared, machine.pyenv("3.12.1") / "lib" / "python3.12" / "shared.bin")
    os.link(shared, machine.pyenv("3.11.7") / "bin" / "again.bin")
    inv = machine.inventory()
    seen: list[tuple[Item, int]] = []
    assert inv.scan_sizes(lambda item, size: seen.append((item, size)))
    # Each reported once, as its walk ends (the cache's own files once the records are saved).
    assert len(seen) == len(inv.items) and {id(i) for i, _ in seen} == {id(i) for i in inv.items}
    assert all(size == item.size for item, size in seen)
    plain = [i for i in inv.items if i.kind != Kind.OTHER]
    assert [i.size for i in plain] == du_sb([i.path for i in plain])
    # The rest of the install dir and the cache make each group what du says of its directory.
    dirs = du_sb([machine.install_root, machine.cache_dir])
    assert dirs == [inv.total(Owner.UV), inv.total(Owner.CACHE)]
    total = inv.total()
    assert total == sum(i.size or 0 for i in inv.items)
    assert total == sum(inv.total(owner) or 0 for owner in inv.groups())
    # Hard links are real: measured alone, the unpacked copy and pyenv 3.12.1 cost more.
    unpacked = by_name(inv, f"{K127} (unpacked)")
    assert unpacked.size is not None and unpacked.size < tree_size(unpacked.path) // 4
    assert by_name(inv, "3.12.1").size == tree_size(machine.pyenv("3.12.1")) - 20000


def test_size_scan_can_be_cancelled(machine: Machine) -> None:
    inv = machine.inventory()
    cancel = threading.Event()
    assert not inv.scan_sizes(lambda item, size: cancel.set(), cancel)
    assert inv.items[0].size is not None and inv.items[1].size is None


def test_used_by_reads_pyvenv_cfg_through_the_minor_link(
    machine: Machine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = machine.install_root
    project = tmp_path / "project"
    via_minor = make_venv(project / ".venv", root / MINOR_312 / "bin", "3.12.7")
    make_venv(project / "node_modules" / "pkg" / "venv", root / K126 / "bin")  # skipped
    tools = machine.home / ".local" / "share" / "uv" / "tools"
    tool = make_venv(tools / "ruff", root / K126 / "bin", "3.12.6")
    elsewhere = tmp_path / "envs"
    monkeypatch.setenv("PYSHELF_VENV_DIRS", str(elsewhere))
    pyenv_user = make_venv(elsewhere / "a" / "py311", machine.pyenv("3.11.7") / "bin", "3.11.7")
    system_user = make_venv(elsewhere / "sys", machine.sysbin, "3.11.4")
    inv = machine.inventory()
    venvs = inv.scan_venvs(cwd=project)
    assert {v.path for v in venvs} == {via_minor, tool, pyenv_user, system_user}
    used = {i.name: [v.path for v in i.used_by or ()] for i in inv.items if i.is_interpreter}
    assert used[K127] == [via_minor]  # home names the minor link; it resolves to 3.12.7
    assert used[K126] == [tool]
    assert used["3.11.7"] == [pyenv_user]
    assert used["python3.11"] == [system_user]
    assert used["3.12.1"] == [] and used["cpython@3.12.3"] == []
    assert all(i.used_by is None for i in inv.items if not i.is_interpreter)

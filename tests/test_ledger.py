"""One ledger: every size pyshelf shows agrees with the others and with ``du -sb``, on real
trees (the running interpreter unpacked and hard-linked), with several builds, a partial
download, a hot unpacked copy and leftovers of killed runs."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from tests.conftest import World, build_world
from tests.loopback import LoopbackServer
from tests.pbs_fixtures import ArchiveSpec, catalog_json
from tui.app.present import row_cells, totals, totals_text
from tui.engine import du
from tui.engine.du import tree_size
from tui.engine.installs.unpacked import UnpackedStore
from tui.engine.shelf import Entry, Shelf
from tui.engine.usage.inventory import Kind, Owner, take_inventory
from tui.engine.usage.ledger import Ledger, evict_frees, uninstall_frees
from tui.format import human_size

T = TypeVar("T")
K3126 = "cpython-3.12.6-linux-x86_64-gnu"
K3127 = "cpython-3.12.7-linux-x86_64-gnu"
K3131 = "cpython-3.13.1-linux-x86_64-gnu"
K3131T = "cpython-3.13.1+freethreaded-linux-x86_64-gnu"
PARTIAL_BYTES = 12_345
LEFTOVER_BYTES = 70_000


def du_sb(*paths: Path) -> list[int]:
    """What coreutils says, one invocation for all ``paths`` (hard links counted once)."""
    out = subprocess.run(
        ["du", "-sb", *map(str, paths)], capture_output=True, text=True, check=True
    ).stdout
    return [int(line.split("\t")[0]) for line in out.splitlines()]


@dataclass
class Stocked:
    world: World
    real: ArchiveSpec  # the running interpreter, installed
    install_dir: Path
    cache_dir: Path

    def shelf(self) -> Shelf:
        return self.world.shelf()

    def du(self) -> list[int]:
        return du_sb(self.install_dir, self.cache_dir)


def stock(world: World, real: ArchiveSpec) -> Stocked:
    """The real interpreter and 3.12.6 installed (each hard-linked from its unpacked copy),
    3.12.7 uninstalled with its copy kept hot, 3.13.1 only fetched, 40 % of 3.13.1t, and the
    scratch of a killed unpack and of a killed install."""
    for args in (
        ("install", real.key, "3.12.6", "3.12.7"),
        ("--keep-unpacked", "1G", "uninstall", "3.12.7"),
        ("fetch", "3.13.1"),
    ):
        code, _, err = world.cli(*args)
        assert code == 0, err
    shelf = world.shelf()
    entries = {e.key: e for e in shelf.entries()}
    partial = shelf.cache.partial_for(entries[K3131T].build)
    partial.write_bytes(os.urandom(PARTIAL_BYTES))
    scratch = shelf.unpacked.root / ".tmp-0123456789abcdef.pyshelf-dead"
    (scratch / "tree" / "lib").mkdir(parents=True)
    (scratch / "tree" / "lib" / "big.so").write_bytes(os.urandom(LEFTOVER_BYTES))
    killed = shelf.installs.temp_dir / f"{K3126}.pyshelf-0badc0de"
    killed.mkdir()
    (killed / "half.py").write_bytes(b"x" * 5000)
    # Listing learns the download sizes once (a state file in the cache); later runs read it.
    assert world.cli("list", "--all")[0] == 0
    return Stocked(world, real, world.root / "installs", world.root / "cache")


@pytest.fixture
def stocked(tmp_path: Path, loopback_server: LoopbackServer, real_pbs_archive: ArchiveSpec):
    target = loopback_server.root / real_pbs_archive.build / real_pbs_archive.filename
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(real_pbs_archive.path.read_bytes())
    world = build_world(tmp_path, loopback_server)
    world.specs.append(real_pbs_archive)
    world.catalog_path.write_text(json.dumps(catalog_json(world.specs, loopback_server.url)))
    return stock(world, real_pbs_archive)


def measured(stocked: Stocked) -> tuple[Shelf, Ledger, dict[str, Entry]]:
    shelf = stocked.shelf()
    ledger = Ledger.measure(shelf)
    assert ledger is not None
    entries = shelf.entries()
    entries = ledger.sized(shelf, entries)
    return shelf, ledger, {e.key: e for e in entries}


def test_every_figure_agrees_with_du_and_with_the_others(stocked: Stocked) -> None:
    du = stocked.du()
    (cache_alone,) = du_sb(stocked.cache_dir)
    shelf, ledger, entries = measured(stocked)

    # The totals are du's: the install dir, then the cache with the installs' files left out.
    assert [ledger.installs_total, ledger.cache_total] == du
    assert ledger.cache_total + ledger.shared == cache_alone
    assert ledger.shared > 10 * 1024 * 1024  # the real interpreter's files, counted once
    assert ledger.leftovers == tree_size(
        shelf.unpacked.root / ".tmp-0123456789abcdef.pyshelf-dead"
    ) + tree_size(shelf.installs.temp_dir / f"{K3126}.pyshelf-0badc0de")

    # The columns add up to the totals, with what no build owns (state, directories, scratch).
    rest_of = {
        owner: ledger.total(owner, Kind.OTHER) + ledger.total(owner, Kind.LEFTOVER)
        for owner in (Owner.UV, Owner.CACHE)
    }
    cached = sum(e.cache_size or 0 for e in entries.values())
    installed = sum(e.install_size or 0 for e in entries.values())
    assert installed + rest_of[Owner.UV] == du[0]
    assert cached + rest_of[Owner.CACHE] == du[1]

    # Each kind of build costs what it holds.
    real = entries[stocked.real.key]
    assert real.cached is not None and real.install_size is not None
    assert real.unpacked_size is not None and 0 < real.unpacked_size < real.install_size // 50
    assert real.cache_size == real.cached.size + real.unpacked_size  # the copy adds little
    hot = entries[K3127]
    copy = shelf.unpacked.path_for(hot.build.sha256 or "")
    assert hot.installation is None and hot.unpacked_size == tree_size(copy) > 0
    assert hot.cached is not None and hot.cache_size == hot.cached.size + tree_size(copy)
    assert entries[K3131].cache_size == entries[K3131].cached.size  # type: ignore[union-attr]
    assert entries[K3131T].cache_size == PARTIAL_BYTES and entries[K3131T].state == "partial"

    # The table shows exactly these, and the header du's totals.
    for entry in entries.values():
        cells = row_cells(entry)
        want_cached = human_size(entry.cache_size) if entry.in_cache else "—"
        assert cells["cached"].plain == want_cached, entry.key
        want_installed = human_size(entry.install_size) if entry.installation else "—"
        assert cells["installed"].plain == want_installed, entry.key
    header = totals(entries.values(), ledger)
    assert (header.installed_size, header.cache_size) == tuple(du)
    assert header.cached == 5 and header.installed == 2
    text = totals_text(header)
    assert f"installed 2 · {human_size(du[0])}" in text
    assert f"cache 5 · {human_size(du[1])}" in text

    # The disk view: its groups are du's lines, its items the ledger's figures.
    inventory = take_inventory(shelf, foreign=False)
    assert inventory.scan_sizes()
    assert [inventory.total(Owner.UV), inventory.total(Owner.CACHE)] == du
    sizes = {i.path: i.size for i in inventory.items}
    assert sizes[copy] == hot.unpacked_size
    assert sizes[real.installation.path] == real.install_size  # type: ignore[union-attr]

    # list --json: the same numbers per build, the copy included in cache_size.
    code, out, err = stocked.world.cli("list", "--all", "--json")
    assert code == 0, err
    rows = {r["key"]: r for r in json.loads(out)}
    for key, entry in entries.items():
        assert rows[key]["cache_size"] == (entry.cache_size if entry.in_cache else None), key
        assert rows[key]["install_size"] == entry.install_size, key
    assert rows[K3127]["unpacked_size"] == hot.unpacked_size
    assert rows[stocked.real.key]["unpacked_shared"] == ledger.shared - sum(
        i.shared for i in inventory.items if i.path != shelf.unpacked.path_for(real.build.sha256)
    )
    assert sum(r["cache_size"] or 0 for r in rows.values()) == cached

    # du --json: the same totals, and the same items.
    code, out, err = stocked.world.cli("du", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert [report["ledger"]["installs_total"], report["ledger"]["cache_total"]] == du
    assert report["ledger"]["cache_shared_with_installs"] + du[1] == cache_alone
    groups = {g["owner"]: g["total"] for g in report["groups"]}
    assert [groups["uv"], groups["cache"]] == du
    assert sum(report["ledger"]["cache_parts"].values()) == du[1]


def test_what_an_action_frees_is_what_it_frees(stocked: Stocked) -> None:
    shelf, _, entries = measured(stocked)
    # Evicting any build frees its Cached column: the copy of an installed build adds only
    # its directories and manifest, the hot copy of an uninstalled one its whole tree.
    for entry in entries.values():
        if entry.in_cache:
            assert evict_frees(shelf, [entry]) == entry.cache_size, entry.key
    hot, real = entries[K3127], entries[stocked.real.key]
    predicted = evict_frees(shelf, [hot])
    assert shelf.evict(hot) == predicted
    # Uninstalling takes the unpacked copy along (no hot copies kept by default): the
    # Installed column and what the copy adds.
    predicted = uninstall_frees(shelf, [real])
    assert predicted == (real.install_size or 0) + (real.unpacked_size or 0)
    assert shelf.uninstall(real) == predicted
    # Kept hot, a copy keeps the files it shares: the uninstall frees little of the install.
    other = entries[K3126]
    keeping = stocked.world.shelf(keep_unpacked=1 << 30)
    frees = uninstall_frees(keeping, [other])
    assert frees < (other.install_size or 0) // 2
    assert keeping.uninstall(other) == frees


def _counted(calls: Counter[str], name: str, real: Callable[..., T]) -> Callable[..., T]:
    def counted(*args: object, **kwargs: object) -> T:
        calls[name] += 1
        return real(*args, **kwargs)

    return counted


@pytest.mark.parametrize("keep", [None, 0, 1 << 30])
def test_a_listings_frees_are_what_each_action_would_free(
    stocked: Stocked, keep: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``list --json`` answers every row from one measurement, not a walk per row (with a
    trim plan each, which read every copy's manifest): each figure is still the walk's."""
    args = () if keep is None else ("--keep-unpacked", str(keep))
    calls: Counter[str] = Counter()
    with monkeypatch.context() as patched:
        for owner, name in ((du, "stat_tree"), (UnpackedStore, "idle_copies")):
            patched.setattr(owner, name, _counted(calls, name, getattr(owner, name)))
        code, out, err = stocked.world.cli(*args, "list", "--json", "--all")
    assert code == 0, err
    assert calls == {"idle_copies": 1}  # no freed-size walk; the copies a trim takes, once
    rows = {(r["key"], r["build"]): r for r in json.loads(out)}
    shelf = stocked.world.shelf() if keep is None else stocked.world.shelf(keep_unpacked=keep)
    entries = shelf.entries()
    assert len(rows) == len(entries)
    for entry in entries:
        row = rows[entry.key, entry.build.build or None]
        walked = uninstall_frees(shelf, [entry]) if entry.installation else None
        assert row["uninstall_frees"] == walked, entry.key
        walked = evict_frees(shelf, [entry]) if entry.in_cache else None
        assert row["evict_frees"] == walked, entry.key
    assert any(r["uninstall_frees"] for r in rows.values())


def test_the_ledger_follows_each_change(stocked: Stocked) -> None:
    """After an eviction and an uninstall (which sweeps the leftovers), still du's numbers."""
    shelf, _, entries = measured(stocked)
    shelf.evict(entries[K3131])
    shelf.uninstall(entries[stocked.real.key])
    _, ledger, entries = measured(stocked)
    assert [ledger.installs_total, ledger.cache_total] == stocked.du()
    real = entries[stocked.real.key]
    assert real.installation is None and real.unpacked_size == 0  # the copy went along

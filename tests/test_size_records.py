"""Recorded tree sizes: a listing reads an unchanged install's size from the record, and every
change pip, uv or pyshelf makes is seen, so the ledger still agrees with ``du -sb``."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from tests.conftest import World
from tests.test_ledger import du_sb
from tui.engine import sizerecords
from tui.engine.du import Measured, tree_size
from tui.engine.shelf import Shelf
from tui.engine.sizerecords import FILE_NAME, SizeRecords, Tree, stamp
from tui.engine.usage.inventory import take_inventory
from tui.engine.usage.ledger import Ledger

K3127 = "cpython-3.12.7-linux-x86_64-gnu"
K3126 = "cpython-3.12.6-linux-x86_64-gnu"


def _ledger(world: World) -> Ledger:
    ledger = Ledger.measure(world.shelf())
    assert ledger is not None
    return ledger


def _agrees(world: World) -> Ledger:
    ledger = _ledger(world)
    assert [ledger.installs_total, ledger.cache_total] == du_sb(
        world.root / "installs", world.root / "cache"
    )
    return ledger


def _install_sizes(world: World, ledger: Ledger) -> dict[str, int | None]:
    shelf = world.shelf()
    return {e.key: e.install_size for e in ledger.sized(shelf, shelf.entries()) if e.installation}


def _records(shelf: Shelf) -> dict[str, dict[str, object]]:
    return json.loads((shelf.settings.state_dir / FILE_NAME).read_bytes())["trees"]


@pytest.fixture
def installed(world: World) -> World:
    code, _, err = world.cli("install", "3.12.7", "3.12.6")
    assert code == 0, err
    return world


def _site_packages(world: World, key: str) -> Path:
    return world.root / "installs" / key / "lib" / "python3.12" / "site-packages"


def test_a_listing_records_the_trees_and_the_next_one_reads_them(installed: World) -> None:
    shelf = installed.shelf()
    _agrees(installed)
    records = _records(shelf)
    install = os.path.abspath(installed.root / "installs" / K3127)
    assert records[install]["size"] == tree_size(install)
    copies = [p for p in records if p.startswith(os.path.abspath(shelf.unpacked.root))]
    assert len(copies) == 2 and all(records[c]["by"] for c in copies)  # linked from installs

    # A change no stamp sees (a file rewritten in place below the top two levels): the
    # listing still shows the recorded size, which is how it is seen not to walk the tree.
    deep = next(
        p for p in Path(install).rglob("*")
        if p.is_file() and not p.is_symlink() and len(p.relative_to(install).parts) >= 3
    )  # fmt: skip
    before = _install_sizes(installed, _ledger(installed))[K3127]
    assert before is not None
    with open(deep, "ab") as handle:
        handle.write(b"#" * 1000)
    assert _install_sizes(installed, _ledger(installed))[K3127] == before
    # du measures in full and corrects the record; the listing agrees with du -sb again.
    assert installed.cli("--offline", "du")[0] == 0
    assert _install_sizes(installed, _agrees(installed))[K3127] == before + 1000


@pytest.mark.parametrize(
    "change",
    ["package", "script", "top file", "package removed", "bytecode"],
)
def test_what_pip_and_pyshelf_change_is_seen(installed: World, change: str) -> None:
    _agrees(installed)
    root = installed.root / "installs" / K3127
    site = _site_packages(installed, K3127)
    if change == "package":
        (site / "demo").mkdir(parents=True)
        (site / "demo" / "__init__.py").write_bytes(b"x" * 40_000)
    elif change == "script":
        (root / "bin" / "demo").write_bytes(b"#!/bin/sh\n" * 300)
    elif change == "top file":
        (root / "NOTES.txt").write_bytes(b"n" * 7000)
    elif change == "package removed":
        (site / "demo").mkdir(parents=True)
        (site / "demo" / "big.py").write_bytes(b"x" * 40_000)
        _agrees(installed)
        shutil.rmtree(site / "demo")
    else:
        pycache = root / "lib" / "python3.12" / "__pycache__"
        pycache.mkdir(exist_ok=True)
        (pycache / "os.cpython-312.pyc").write_bytes(b"\0" * 9000)
    _agrees(installed)


def test_uninstall_reinstall_and_an_install_linked_from_a_kept_copy(installed: World) -> None:
    _agrees(installed)
    assert installed.cli("--keep-unpacked", "1G", "uninstall", "3.12.6")[0] == 0
    _agrees(installed)  # the copy keeps its files alone now: its link counts changed
    assert installed.cli("install", "3.12.6")[0] == 0  # linked from the kept copy again
    _agrees(installed)
    assert installed.cli("reinstall", "3.12.7")[0] == 0
    _agrees(installed)
    assert installed.cli("evict", "3.12.6")[0] == 0
    _agrees(installed)


def test_records_of_trees_that_are_gone_are_dropped(installed: World) -> None:
    shelf = installed.shelf()
    _agrees(installed)
    assert installed.cli("uninstall", "3.12.6")[0] == 0
    _agrees(installed)
    assert not any("3.12.6" in path for path in _records(shelf))
    assert installed.cli("uninstall", "3.12.7")[0] == 0
    assert installed.cli("evict", "3.12.7", "3.12.6")[0] == 0
    _agrees(installed)
    assert _records(shelf) == {}  # no tree left: none recorded


def test_records_that_are_damaged_planted_or_another_users_are_ignored(installed: World) -> None:
    shelf = installed.shelf()
    _agrees(installed)
    path = shelf.settings.state_dir / FILE_NAME
    real = json.loads(path.read_bytes())
    for tree in real["trees"].values():
        tree["size"] = 1  # a lie with the right stamps
    lying = json.dumps(real).encode()
    for bad in (b"{", b"[]", b'{"version": 1, "trees": {"/x": {"size": -1}}}', b"\0" * 64):
        path.write_bytes(bad)
        _agrees(installed)
    # A link planted in the record's place is not read (nor written through).
    elsewhere = installed.root / "elsewhere.json"
    elsewhere.write_bytes(lying)
    path.unlink()
    path.symlink_to(elsewhere)
    _agrees(installed)
    assert elsewhere.read_bytes() == lying


def test_a_read_only_state_folder_only_forgets(installed: World) -> None:
    shelf = installed.shelf()
    state = shelf.settings.state_dir
    state.mkdir(parents=True, exist_ok=True)
    mode = state.stat().st_mode
    os.chmod(state, 0o555)
    try:
        if os.access(state, os.W_OK):
            pytest.skip("permissions are not enforced for this user")
        _agrees(installed)
        assert not (state / FILE_NAME).exists()
    finally:
        os.chmod(state, mode)


def test_a_record_that_cannot_be_written_only_forgets(installed: World) -> None:
    """Whatever the user: a folder where the record file goes makes every write fail."""
    shelf = installed.shelf()
    blocked = shelf.settings.state_dir / FILE_NAME
    blocked.mkdir(parents=True)
    _agrees(installed)
    _agrees(installed)
    assert blocked.is_dir() and not any(blocked.iterdir())


def test_verify_drops_the_records(installed: World) -> None:
    shelf = installed.shelf()
    _agrees(installed)
    assert (shelf.settings.state_dir / FILE_NAME).exists()
    assert installed.cli("verify")[0] == 0
    assert not (shelf.settings.state_dir / FILE_NAME).exists()


def test_a_full_scan_records_and_a_cancelled_one_does_not(installed: World) -> None:
    shelf = installed.shelf()
    inventory = take_inventory(shelf)
    assert inventory.scan_sizes()
    assert len(_records(shelf)) == 4  # two installs, two unpacked copies
    (shelf.settings.state_dir / FILE_NAME).unlink()
    cancel = threading.Event()
    cancel.set()
    assert not take_inventory(shelf).scan_sizes(cancel=cancel)
    assert not (shelf.settings.state_dir / FILE_NAME).exists()


def test_trees_tied_by_links_are_walked_together(tmp_path: Path) -> None:
    """A copy whose install changed is walked with it, though its own stamp holds."""
    records = SizeRecords(tmp_path / "state", trust=True)
    for name in ("install", "copy"):
        (tmp_path / name / "a").mkdir(parents=True)
    trees = {
        str(tmp_path / "install"): Tree(2),
        str(tmp_path / "copy"): Tree(3, True, str(tmp_path / "install")),
    }
    assert records.known(trees) == {}
    for path in trees:
        records.note(path, Measured(10, 0), [])
    records.save(trees)
    again = SizeRecords(tmp_path / "state", trust=True)
    assert set(again.known(trees)) == set(trees)
    (tmp_path / "install" / "new").mkdir()
    assert SizeRecords(tmp_path / "state", trust=True).known(trees) == {}
    assert stamp(tmp_path / "nothing") is None


def _count_scans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    scanned: list[str] = []
    scan = sizerecords._scan

    def counted(root: str, depth: int, files: bool) -> object:
        scanned.append(root)
        return scan(root, depth, files)

    monkeypatch.setattr(sizerecords, "_scan", counted)
    return scanned


def test_unchanged_trees_are_stamped_without_listing_a_folder(
    installed: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record keeps the paths its stamp was read from: while the tree is unchanged, the
    stamp is read again from them alone (a stat each), and only a changed tree is listed."""
    shelf = installed.shelf()
    _agrees(installed)
    assert all(record.get("probe") for record in _records(shelf).values())
    scanned = _count_scans(monkeypatch)
    _agrees(installed)
    assert scanned == []
    (_site_packages(installed, K3127) / "added").mkdir(parents=True)
    _agrees(installed)
    assert scanned == [os.path.abspath(installed.root / "installs" / K3127)]


@pytest.mark.parametrize(
    "probe",
    [["../../.."], ["/etc"], ["lib//x"], ["lib/./x"], [""], "lib", [1], ["lib"] * 5000, ["gone"]],
)
def test_a_records_probe_paths_are_checked_before_use(
    installed: World, monkeypatch: pytest.MonkeyPatch, probe: object
) -> None:
    """The paths a stamp is read again from come from a file: one outside the tree, or any
    malformed list, is not used; the tree is listed instead, and the sizes stay right."""
    shelf = installed.shelf()
    _agrees(installed)
    path = shelf.settings.state_dir / FILE_NAME
    saved = json.loads(path.read_bytes())
    for record in saved["trees"].values():
        record["probe"] = probe
    path.write_bytes(json.dumps(saved).encode())
    scanned = _count_scans(monkeypatch)
    _agrees(installed)
    assert len(scanned) == len(saved["trees"])


def test_records_without_probe_paths_gain_them(installed: World) -> None:
    shelf = installed.shelf()
    _agrees(installed)
    path = shelf.settings.state_dir / FILE_NAME
    saved = json.loads(path.read_bytes())
    for record in saved["trees"].values():
        del record["probe"]
    path.write_bytes(json.dumps(saved).encode())
    _agrees(installed)
    assert all(record.get("probe") for record in _records(shelf).values())

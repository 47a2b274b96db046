"""Deep trees: deleting one never recurses, so a 1,500-deep folder left in the install dir's
``.temp`` or in the unpacked store's scratch (by a hostile archive, or planted) no longer
makes every later install and uninstall fail with "unexpected RecursionError"; and a
leftover that cannot be removed is reported once and skipped."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import World
from tests.pbs_fixtures import _file, catalog_json, make_archive
from tui.engine.fsutil import remove_path, remove_tree
from tui.engine.usage.plan import Action, Step
from tui.engine.usage.removal import _remove_unit

KEY = "cpython-3.12.7-linux-x86_64-gnu"
_DIR = os.O_RDONLY | os.O_DIRECTORY


def deep_tree(root: Path, depth: int) -> Path:
    """``root/d/d/…`` ``depth`` folders deep, each with a file and a link out of the tree.

    Built relative to each folder's descriptor: a path that deep is too long to name."""
    root.mkdir()
    fd = os.open(root, _DIR)
    try:
        for _ in range(depth):
            os.close(os.open("f", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
            os.symlink("/", "out", dir_fd=fd)  # followed, it would lead to everything
            os.mkdir("d", dir_fd=fd)
            old, fd = fd, os.open("d", _DIR, dir_fd=fd)
            os.close(old)
    finally:
        os.close(fd)
    return root


@contextlib.contextmanager
def few_descriptors(spare: int = 32) -> Iterator[None]:
    """Only ``spare`` descriptors beyond those open now: a removal that kept one per level
    would run out."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/dev/fd")) + spare, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.parametrize("depth", [1500, 10_000])
def test_a_deep_tree_is_removed(tmp_path: Path, depth: int) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("kept")
    tree = deep_tree(tmp_path / "tree", depth)
    os.symlink(outside, tree / "d" / "outside")  # a link to a folder is removed, not entered
    with few_descriptors():
        remove_tree(tree)
    assert not tree.exists()
    assert (outside / "keep").read_text() == "kept"


def test_remove_path_takes_a_deep_tree_and_a_special_file(tmp_path: Path) -> None:
    remove_path(deep_tree(tmp_path / "tree", 1500))
    os.mkfifo(tmp_path / "fifo")
    remove_path(tmp_path / "fifo")
    remove_path(tmp_path / "missing")
    assert os.listdir(tmp_path) == []


def test_a_folder_moved_midway_stops_the_removal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Back up through ``..`` must land in the folder the walk came from: one moved away
    meanwhile is not where to go on deleting."""
    tree = deep_tree(tmp_path / "tree", 3)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious").write_text("kept")
    real_rmdir, moved = os.rmdir, []

    def rmdir(path: object, *, dir_fd: int | None = None) -> None:
        if dir_fd is not None and not moved:  # the deepest folder is empty: move its parent
            os.rename(tree / "d" / "d", elsewhere / "d")
            moved.append(True)
        real_rmdir(path, dir_fd=dir_fd)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "rmdir", rmdir)
    with pytest.raises(OSError, match="moved while it was being removed"):
        remove_tree(tree)
    assert (elsewhere / "precious").read_text() == "kept"


def test_another_managers_unit_with_a_deep_folder_is_removed(tmp_path: Path) -> None:
    """A pyenv version goes as one unit (prune, the disk view): its depth is no limit."""
    unit = tmp_path / ".pyenv" / "versions" / "3.11.7"
    unit.mkdir(parents=True)
    deep_tree(unit / "lib", 1500)
    step = Step(Action.REMOVE_UNIT, ())
    result = _remove_unit(step, unit)
    assert result.ok and result.freed > 0
    assert os.listdir(unit.parent) == []


# -- the commands ------------------------------------------------------------------------


def store(world: World) -> Path:
    return world.root / "cache" / ".pyshelf" / "unpacked"


def plant(world: World, where: str, depth: int = 1500) -> Path:
    """A deep folder named as pyshelf's own scratch, where a killed or hostile unpack leaves
    one: the install dir's ``.temp``, or the unpacked store."""
    if where == "temp":
        folder = world.root / "installs" / ".temp"
        name = f"{KEY}.pyshelf-0badc0de"
    else:
        folder = store(world)
        name = ".tmp-0123456789abcdef.pyshelf-0badc0de"
    folder.mkdir(parents=True, exist_ok=True)
    return deep_tree(folder / name, depth)


@pytest.mark.parametrize("where", ["temp", "store"])
def test_install_and_uninstall_sweep_a_planted_deep_folder(world: World, where: str) -> None:
    planted = plant(world, where)
    code, _, err = world.cli("install", "3.12.7")
    assert code == 0, err
    assert not planted.exists()
    planted = plant(world, where)
    code, _, err = world.cli("uninstall", "3.12.7")
    assert code == 0, err
    assert "unexpected" not in err
    code, _, err = world.cli("install", "3.12.7")  # and the next one works as well
    assert code == 0, err
    assert not planted.exists()


def test_an_archive_too_deep_to_unpack_fails_in_one_line_and_leaves_nothing(
    world: World,
) -> None:
    """2,100 levels of ``a/`` pass no path limit in the archive, but the unpack hits
    ENAMETOOLONG; cleaning up after it used to raise RecursionError instead."""
    spec = world.spec(KEY)
    deep = _file("python/" + "a/" * 2100 + "f", b"deep")
    hostile = make_archive(spec.path.parent, version="3.12.7", extra_members=[deep])
    specs = [hostile if s.key == KEY else s for s in world.specs]
    world.catalog_path.write_text(json.dumps(catalog_json(specs, world.server.url)))
    code, _, err = world.cli("install", "3.12.7")
    assert code == 1 and "unexpected" not in err, err
    (failed,) = [line for line in err.splitlines() if "failed" in line]
    assert "File name too long" in failed
    assert os.listdir(world.root / "installs" / ".temp") == []
    assert [p.name for p in store(world).glob(".tmp-*")] == []


# -- a leftover that cannot be removed -----------------------------------------------------


@pytest.fixture(params=["temp", "store"])
def stuck(world: World, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A leftover holding a file that cannot be deleted, in the install dir's ``.temp`` or
    the unpacked store: its folder read-only (for anyone but root), or the file immutable
    (root, where chattr can; else skipped)."""
    leftover = plant(world, request.param, depth=1)
    if os.geteuid() != 0:
        leftover.chmod(0o500)
        undo = [["chmod", "700", str(leftover)]]
    else:
        undo = [["chattr", "-i", str(leftover / "f")]]
        if subprocess.run(["chattr", "+i", str(leftover / "f")], capture_output=True).returncode:
            pytest.skip("running as root, and chattr cannot make a file immutable here")
    try:
        yield leftover
    finally:
        for command in undo:
            subprocess.run(command, check=True)


def test_a_leftover_that_cannot_be_removed_is_reported_once(world: World, stuck: Path) -> None:
    """Every command that writes there sweeps (an install twice, for the store): the line
    comes once per command, and the command does its work."""
    for command in ("install", "uninstall"):
        code, _, err = world.cli(command, "3.12.7")
        assert code == 0, err
        reports = [line for line in err.splitlines() if str(stuck) in line]
        why = "Operation not permitted" if os.geteuid() == 0 else "Permission denied"
        line = f"pyshelf: warning: left {stuck} in place: {why}: {stuck}/f; remove it by hand"
        assert reports == [line], err
        assert "unexpected" not in err and "Traceback" not in err
    assert (stuck / "f").exists()

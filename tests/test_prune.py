"""Removal plans, their execution, prune presets and ``pyshelf prune``."""

from __future__ import annotations

import fcntl
import io
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import World
from tests.test_managers import clear_manager_env, make_venv
from tests.test_usage import (
    K126,
    K127,
    K131,
    MINOR_312,
    ORPHAN_ARCHIVE,
    ORPHAN_UNPACKED,
    Machine,
    by_name,
    stock,
)
from tui.cli import cleanup as cleanup_cli
from tui.cli.exit_codes import EXIT_INTERRUPTED
from tui.engine.du import tree_size
from tui.engine.errors import PyshelfError
from tui.engine.jobs import Job, JobKind, JobQueue, Phase
from tui.engine.shelf import Shelf
from tui.engine.usage.inventory import Kind
from tui.engine.usage.prune import over_cap, parse_days, parse_size, prune_plan
from tui.engine.usage.removal import (
    Action,
    InUseError,
    Outcome,
    Plan,
    Removal,
    Removing,
    Step,
    StepResult,
    execute,
    make_plan,
)
from tui.format import human_size

DAY = 86400


@pytest.fixture(autouse=True)
def _no_manager_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, isolated_home: Path) -> None:
    clear_manager_env(monkeypatch)
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)  # venvs under the real cwd must not count


@pytest.fixture
def machine(world: World, isolated_home: Path) -> Machine:
    return stock(world, isolated_home)


def run_plan(plan: Plan, shelf: Shelf, *, confirmed_in_use: bool = False) -> Outcome:
    """``execute`` on a queue of its own, waited for, as the CLI does."""
    queue = JobQueue(shelf)
    try:
        outcome = execute(plan, shelf, queue, confirmed_in_use=confirmed_in_use).wait()
    finally:
        queue.close()
    assert outcome is not None
    return outcome


def wait_until(find: Callable[[], Job | None], timeout: float = 30.0) -> Job:
    deadline = time.monotonic() + timeout
    while (found := find()) is None:
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
    return found


def snapshot(root: Path) -> dict[str, tuple[int, float, int]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            st = os.lstat(os.path.join(dirpath, name))
            out[os.path.join(dirpath, name)] = (st.st_size, st.st_mtime, st.st_ino)
    return out


def file_bytes(root: Path) -> int:
    """Bytes of every non-directory inode under root, each once: what deleting frees."""
    seen: set[int] = set()
    total = 0
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            st = os.lstat(os.path.join(dirpath, name))
            if st.st_ino not in seen:
                seen.add(st.st_ino)
                total += st.st_size
    return total


def dir_bytes(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        for dirpath, _, _ in os.walk(path):
            total += os.lstat(dirpath).st_size
    return total


def age(path: Path, days: float) -> None:
    when = time.time() - days * DAY
    os.utime(path, (when, when), follow_symlinks=False)


# -- plans and execution -------------------------------------------------------------------


def test_dry_run_changes_nothing_and_the_real_run_frees_what_it_previewed(
    machine: Machine,
) -> None:
    world = machine.world
    before = snapshot(world.root)
    code, out, err = world.cli("prune", "--keep-newest-patch", "--evict-uninstalled", "--dry-run")
    assert code == 0, err
    assert snapshot(world.root) == before
    assert "would remove:" in out and K126 in out and "3.12.7 is kept" in out

    inv = machine.inventory(foreign=False)
    plan = prune_plan(inv, keep_newest_patch=True, evict_uninstalled=True)
    assert f"would free {human_size(plan.freed)}" in out
    names = [(s.action, r.item.kind, r.item.name) for s in plan.steps for r in s.removals]
    # 3.12.6 goes with its unpacked copy, and then its archive is of a version not installed.
    assert names[:2] == [
        (Action.UNINSTALL, Kind.INSTALL, K126),
        (Action.UNINSTALL, Kind.UNPACKED, f"{K126} (unpacked)"),
    ]
    evicted = {(k, n) for a, k, n in names if a == Action.EVICT}
    assert (Kind.ARCHIVE, f"{K126} (archive 20991231)") in evicted
    partial = next(i for i in inv.items if i.kind == Kind.PARTIAL)
    assert partial.entry is not None and partial.entry.key == K131
    assert (Kind.PARTIAL, partial.name) in evicted
    assert sum(1 for k, _ in evicted if k == Kind.ARCHIVE) == 2  # 3.12.6 and 3.11.9
    assert not plan.needs_second_confirmation and not plan.refused
    kept = {by_name(inv, K127).path, machine.shelf.unpacked.root / ORPHAN_UNPACKED}
    kept |= {machine.shelf.cache.root / ORPHAN_ARCHIVE}  # unnamed: the preset leaves it

    files_before = file_bytes(world.root)
    dirs = dir_bytes([r.item.path for r in plan.removals])
    outcome = run_plan(plan, machine.shelf)
    assert not outcome.failed
    assert outcome.freed == plan.freed  # what the executor reports is what it previewed
    assert [r.freed for r in outcome.results] == [s.freed for s in plan.steps]
    assert files_before - file_bytes(world.root) == plan.freed - dirs  # and what the disk lost
    assert not any(os.path.lexists(r.item.path) for r in plan.removals)
    assert all(p.exists() for p in kept)
    assert (machine.install_root / MINOR_312).resolve() == machine.install_root / K127


def test_an_interpreter_in_use_needs_a_second_confirmation(
    machine: Machine, tmp_path: Path
) -> None:
    root = machine.install_root
    pinned = make_venv(tmp_path / "work" / "pinned", root / K126 / "bin", "3.12.6")
    inv = machine.inventory(foreign=False)
    plan = prune_plan(inv, keep_newest_patch=True)
    assert [r.item.name for r in plan.removals] == [K126, f"{K126} (unpacked)"]
    assert plan.needs_second_confirmation
    assert [(v.path, i.name) for v, i in plan.broken_envs] == [(pinned, K126)]
    with pytest.raises(InUseError, match="confirm"):
        run_plan(plan, machine.shelf)  # one confirmation is not enough
    assert (root / K126).is_dir()
    outcome = run_plan(plan, machine.shelf, confirmed_in_use=True)
    assert outcome.freed == plan.freed and not (root / K126).exists()


def test_minor_link_users_move_to_the_remaining_patch(machine: Machine, tmp_path: Path) -> None:
    via_minor = make_venv(tmp_path / "work" / ".venv", machine.install_root / MINOR_312 / "bin")
    inv = machine.inventory(foreign=False)
    newest = by_name(inv, K127)
    plan = make_plan(inv, [newest])
    assert [v.path for v, _ in plan.switched_envs] == [via_minor]
    assert not plan.needs_second_confirmation  # the link moves to 3.12.6: it keeps working
    both = make_plan(inv, [newest, by_name(inv, K126)])
    assert [v.path for v, _ in both.broken_envs] == [via_minor] and both.needs_second_confirmation
    run_plan(plan, machine.shelf)
    assert (machine.install_root / MINOR_312).resolve() == machine.install_root / K126


def test_units_follow_the_engine_paths(machine: Machine) -> None:
    inv = machine.inventory(foreign=False)
    shelf = machine.shelf
    install = by_name(inv, K127)
    archive = next(i for i in inv.items if i.kind == Kind.ARCHIVE and i.entry is install.entry)
    orphan_archive = next(i for i in inv.items if i.path.name == ORPHAN_ARCHIVE)
    orphan_unpacked = by_name(inv, f"{ORPHAN_UNPACKED} (unpacked)")
    unpacked_126 = by_name(inv, f"{K126} (unpacked)")
    plan = make_plan(inv, [archive, orphan_archive, orphan_unpacked, unpacked_126])
    steps = [(s.action, [r.item.name for r in s.removals]) for s in plan.steps]
    assert steps == [
        (Action.EVICT, [archive.name, f"{K127} (unpacked)"]),  # Shelf.evict takes both
        (Action.DROP_UNPACKED, [orphan_unpacked.name]),
        (Action.DROP_UNPACKED, [unpacked_126.name]),  # only the copy: its archive stays
        (Action.DELETE_FILE, [orphan_archive.name]),
    ]
    assert plan.removals[1].reason == "same build: evicted together"
    # While the installs stay, dropping their unpacked copies frees only what they add.
    assert plan.removals[1].freed < tree_size(plan.removals[1].item.path) // 4
    outcome = run_plan(plan, shelf)
    assert outcome.freed == plan.freed and not outcome.failed
    assert not archive.path.exists() and not unpacked_126.path.exists()
    assert (machine.install_root / K127 / "bin" / "python3.12").is_file()  # install untouched
    assert next(
        i for i in inv.items if i.kind == Kind.ARCHIVE and i.version == "3.12.6"
    ).path.exists()


def test_system_interpreters_are_never_deletable(machine: Machine) -> None:
    inv = machine.inventory()
    system = by_name(inv, "python3.11")
    plan = make_plan(inv, [system])
    assert plan.empty and len(plan.refused) == 1
    refused, why = plan.refused[0]
    assert refused is system and "system" in why
    forged = Plan((Step(Action.REMOVE_UNIT, (Removal(system, 1, "forged"),)),))
    with pytest.raises(PyshelfError, match="never"):
        run_plan(forged, machine.shelf, confirmed_in_use=True)
    assert system.path.is_file()


def test_a_pyenv_version_goes_as_a_whole_unit(machine: Machine) -> None:
    unit = machine.pyenv("3.11.7")
    inner = make_venv(unit / "envs" / "tool", unit / "bin", "3.11.7")  # pyenv-virtualenv
    size = sum(  # no hard links in this unit: its freed size is its whole size
        os.lstat(os.path.join(d, n)).st_size
        for d, ds, fs in os.walk(unit) for n in ds + fs
    ) + os.lstat(unit).st_size  # fmt: skip
    inv = machine.inventory()
    item = by_name(inv, "3.11.7")
    plan = make_plan(inv, [item])
    assert [(s.action, [r.item.path for r in s.removals]) for s in plan.steps] == [
        (Action.REMOVE_UNIT, [unit])
    ]
    assert plan.freed == size
    assert [v.path for v, _ in plan.broken_envs] == [inner]  # lives inside it, dies with it
    with pytest.raises(InUseError):
        run_plan(plan, machine.shelf)
    outcome = run_plan(plan, machine.shelf, confirmed_in_use=True)
    assert outcome.freed == size and not outcome.failed
    versions = unit.parent
    assert sorted(os.listdir(versions)) == ["3.12.1"]  # the sibling stays; no leftovers


# -- presets -------------------------------------------------------------------------------


def test_older_than_and_max_cache_take_the_oldest_first(machine: Machine) -> None:
    inv = machine.inventory(foreign=False)
    archives = {i.version: i for i in inv.items if i.kind == Kind.ARCHIVE and i.entry}
    for version, days in (("3.11.9", 40), ("3.12.6", 20), ("3.12.7", 1)):
        age(archives[version].path, days)
    age(by_name(inv, f"{K126} (unpacked)").path, 50)  # follows its 20-day-old archive
    age(by_name(inv, f"{ORPHAN_UNPACKED} (unpacked)").path, 50)  # no archive: its own age
    inv = machine.inventory(foreign=False)
    old = prune_plan(inv, older_than_days=30)
    assert [r.item.name for r in old.removals] == [
        archives["3.11.9"].name,
        f"{ORPHAN_UNPACKED} (unpacked)",
    ]
    assert "40 days old" in old.removals[0].reason

    age(by_name(inv, f"{ORPHAN_UNPACKED} (unpacked)").path, 0)
    inv = machine.inventory(foreign=False)
    inv.scan_sizes()
    cache = sum(i.size or 0 for i in inv.items if i.owner == "cache")
    oldest = next(i for i in inv.items if i.version == "3.11.9" and i.kind == Kind.ARCHIVE)
    assert oldest.size is not None
    # A cap just below what removing the oldest unit leaves takes the next oldest unit too.
    assert list(over_cap(inv, cache - oldest.size)) == [oldest]
    marks = over_cap(inv, cache - oldest.size - 1)
    assert {i.name for i in marks} == {oldest.name, archives["3.12.6"].name, f"{K126} (unpacked)"}
    assert over_cap(inv, cache) == {}


def test_parse_size() -> None:
    assert parse_size("2G") == 2 << 30 and parse_size("500M") == 500 << 20
    assert parse_size("1.5GiB") == 3 << 29 and parse_size("100k") == 102400
    assert parse_size("4096") == 4096 and parse_size("2gb") == 2 << 30
    for bad in ("2X", "nan", "inf", "-1", "1e3", "", "\uff12G"):  # \uff12: a fullwidth 2
        with pytest.raises(PyshelfError, match="not a size"):
            parse_size(bad)
    assert parse_size("1024T") == 1 << 50
    for absurd in ("1025T", "9" * 400, "9" * 5000 + "T"):  # inf as a float: refused, not raised
        with pytest.raises(PyshelfError, match="too large"):
            parse_size(absurd)


def test_parse_days() -> None:
    assert parse_days("30") == 30 and parse_days(" 0.5 ") == 0.5 and parse_days("0") == 0
    for bad in ("nan", "inf", "-inf", "-1", "abc", "", "1e308", "36501"):
        with pytest.raises(PyshelfError, match="not a number of days"):
            parse_days(bad)


# -- the command line ----------------------------------------------------------------------


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_cli_prune_confirms_and_reports(
    machine: Machine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    world = machine.world

    def state() -> dict[str, tuple[int, float, int]]:
        return snapshot(world.root / "installs") | snapshot(world.root / "cache")

    code, _, err = world.cli("prune")
    assert code == 2 and "choose what to prune" in one_line(err)
    code, _, err = world.cli("prune", "--max-cache", "2X")  # a usage error, like argparse's
    assert code == 2 and "not a size" in one_line(err)
    code, _, err = world.cli("prune", "--older-than", "soon")
    assert code == 2 and "--older-than" in one_line(err)
    code, out, _ = world.cli("prune", "--older-than", "365")
    assert code == 0 and out.strip() == "nothing to prune"

    before = state()
    code, out, err = world.cli("prune", "--keep-newest-patch")  # no terminal, no --yes
    assert code == 1 and "--yes" in one_line(err) and "--dry-run" in err
    assert K126 in out and state() == before

    monkeypatch.setattr("tui.cli.prompt.interactive", lambda: True)
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    code, _, err = world.cli("prune", "--keep-newest-patch")
    assert code == 1 and "nothing removed" in err and state() == before

    # In use: the first yes is not enough, neither at the prompt nor as --yes.
    pinned = make_venv(tmp_path / "work" / "pinned", machine.install_root / K126 / "bin")
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\nn\n"))
    code, out, err = world.cli("prune", "--keep-newest-patch")
    assert code == 1 and "1 environment will break" in err and f"breaks {pinned}" in out
    monkeypatch.setattr("tui.cli.prompt.interactive", lambda: False)
    code, _, err = world.cli("prune", "--keep-newest-patch", "--yes")
    assert code == 1 and "twice" in one_line(err) and state() == before

    code, out, err = world.cli("prune", "--keep-newest-patch", "-yy")
    assert code == 0, err
    freed = out.strip().splitlines()[-1].removeprefix("frees ")
    assert err.strip().splitlines()[-1] == f"freed {freed}"
    assert not (machine.install_root / K126).exists()


def test_cli_du_groups_and_totals(machine: Machine) -> None:
    code, out, err = machine.world.cli("du")
    assert code == 0, err
    assert out.splitlines()[0].startswith("uv ") and "total " in out.splitlines()[-1]
    assert "pyenv" in out and "3.11.7" in out
    code, out, _ = machine.world.cli("du", "--json")
    data = json.loads(out)
    owners = [g["owner"] for g in data["groups"]]
    assert owners[:2] == ["uv", "cache"] and "pyenv" in owners
    assert data["total"] == sum(g["total"] for g in data["groups"])
    pyenv = next(g for g in data["groups"] if g["owner"] == "pyenv")["items"]
    assert {i["name"]: i["deletable"] for i in pyenv} == {"3.11.7": True, "3.12.1": True}


def test_only_a_managers_unit_directory_is_ever_removed(machine: Machine, tmp_path: Path) -> None:
    inv = machine.inventory()
    item = by_name(inv, "3.12.1")
    stray = tmp_path / "work" / "important"
    stray.mkdir()
    item.path = stray  # a stale or forged item pointing anywhere else
    outcome = run_plan(make_plan(inv, [item]), machine.shelf)
    assert outcome.failed and "left alone" in (outcome.failed[0].error or "")
    assert stray.is_dir() and outcome.freed == 0


def test_a_removal_cancelled_midway_runs_no_more_steps_and_counts_only_what_went(
    machine: Machine,
) -> None:
    inv = machine.inventory(foreign=False)
    shelf = machine.shelf
    orphan = next(i for i in inv.items if i.path.name == ORPHAN_ARCHIVE)
    plan = make_plan(inv, [by_name(inv, K126), by_name(inv, K127), orphan])
    assert [s.action for s in plan.steps] == [
        Action.UNINSTALL,
        Action.UNINSTALL,
        Action.DELETE_FILE,
    ]
    queue = JobQueue(shelf)
    held: list[int] = []
    first_done = threading.Event()

    def hold_uvs_lock(result: StepResult) -> None:
        # Once the first step is done, hold uv's lock: the second step waits for it.
        if not held:
            fd = os.open(shelf.installs.lock_path, os.O_RDWR)
            fcntl.flock(fd, fcntl.LOCK_EX)
            held.append(fd)
            first_done.set()

    removing = execute(plan, shelf, queue, confirmed_in_use=True, on_step=hold_uvs_lock)
    try:
        assert first_done.wait(30)
        second = wait_until(
            lambda: (
                removing.job
                if removing.job is not None
                and removing.job.key == K127
                and removing.job.phase == Phase.REMOVING
                else None
            )
        )
        removing.cancel()
        outcome = removing.wait(30)
    finally:
        for fd in held:
            os.close(fd)
        queue.close()
    assert outcome is not None and outcome.cancelled
    assert [r.step for r in outcome.results] == [plan.steps[0]]
    assert outcome.freed == plan.steps[0].freed > 0 and not outcome.failed
    assert second.phase == Phase.CANCELLED and second.freed == 0
    # The step it stopped and the one after it removed nothing.
    assert (machine.install_root / K127 / "bin").is_dir()
    assert orphan.path.exists()
    assert not (machine.install_root / K126).exists()
    assert [j.kind for j in queue.jobs] == [JobKind.UNINSTALL, JobKind.UNINSTALL]


def test_ctrl_c_cancels_a_cli_removal_and_exits_interrupted(
    machine: Machine, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_wait = Removing.wait
    interrupted: list[Job] = []

    def wait_then_ctrl_c(self: Removing, timeout: float | None = None) -> Outcome | None:
        if not interrupted:  # Ctrl-C while the uninstall waits for uv's lock
            interrupted.append(
                wait_until(
                    lambda: self.job if self.job and self.job.phase == Phase.REMOVING else None
                )
            )
            raise KeyboardInterrupt
        return real_wait(self, timeout)

    fd = os.open(machine.shelf.installs.lock_path, os.O_RDWR)
    print_plan = cleanup_cli._print_plan

    def print_plan_then_lock(*args: Any, **kwargs: Any) -> None:
        print_plan(*args, **kwargs)
        fcntl.flock(fd, fcntl.LOCK_EX)  # the CLI's own repair is done: now hold uv's lock

    monkeypatch.setattr(Removing, "wait", wait_then_ctrl_c)
    monkeypatch.setattr(cleanup_cli, "_print_plan", print_plan_then_lock)
    try:
        code, _, err = machine.world.cli("uninstall", "3.12.7")
    finally:
        os.close(fd)
    assert code == EXIT_INTERRUPTED, err
    assert interrupted[0].phase == Phase.CANCELLED and interrupted[0].freed == 0
    assert (machine.install_root / K127 / "bin").is_dir() and "freed" not in err

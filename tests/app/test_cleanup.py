"""The disk-usage view (D): groups and sizes as du sees them, marks, plans, confirmations,
prune presets, and pictures of it."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import ListView

from tests.app.conftest import AppMaker, cell, loaded, settle, wait_for
from tests.app.test_flow import _palette_options as palette_options
from tests.conftest import World
from tests.test_managers import clear_manager_env, make_venv
from tests.test_prune import snapshot
from tests.test_usage import K126, K127, Machine, du_sb, stock
from tui.app.app import PyshelfApp
from tui.app.dialogs.plan_confirm import BreakConfirmScreen, PlanConfirmScreen, plain
from tui.app.disk.prune_menu import PruneScreen
from tui.app.disk.rows import bar, group_id, row_id
from tui.app.disk.scope import Scope
from tui.app.disk.screen import CleanupScreen
from tui.app.disk.table import SORTS
from tui.app.help.screen import HelpScreen
from tui.app.present import show_path
from tui.engine.jobs import JobKind, Phase
from tui.engine.usage.inventory import Item, Kind, Owner, scan_sizes, take_inventory
from tui.engine.usage.removal import make_plan
from tui.format import human_size


@pytest.fixture(autouse=True)
def _no_manager_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, isolated_home: Path
) -> Iterator[None]:
    # PYENV_ROOT and friends may point at the real machine's interpreters: never in a test.
    clear_manager_env(monkeypatch)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # environments under the real cwd must not count
    yield


@pytest.fixture
def machine(world: World, isolated_home: Path) -> Machine:
    return stock(world, isolated_home)


def view_app(make_app: AppMaker, machine: Machine) -> PyshelfApp:
    app = make_app(machine.shelf, scope=Scope(system_dirs=[machine.sysbin], cwd=Path.cwd()))
    return app


def ready(screen: CleanupScreen) -> bool:
    return screen.inventory is not None and screen.progress is None and screen.envs_found


async def open_view(pilot: Pilot) -> CleanupScreen:
    app: PyshelfApp = pilot.app  # type: ignore[assignment]
    await loaded(pilot)
    await pilot.press("D")
    await wait_for(pilot, lambda: isinstance(app.screen, CleanupScreen))
    screen: CleanupScreen = app.screen  # type: ignore[assignment]
    await wait_for(pilot, lambda: ready(screen))
    await pilot.pause()
    return screen


def go(screen: CleanupScreen, rid: str) -> None:
    screen.table.move_cursor(row=screen.table.get_row_index(rid), animate=False)


def item_rid(screen: CleanupScreen, path: Path) -> str:
    return next(rid for rid, i in screen.table.items.items() if i.path == path)


def text(screen: CleanupScreen, rid: str, column: str) -> str:
    return screen.table.get_cell(rid, column).plain


def summary(screen: CleanupScreen) -> str:
    return str(screen.summary.render())


def notices(app: PyshelfApp) -> str:
    return " | ".join(n.message for n in app._notifications)


async def answer_and_wait(pilot: Pilot, screen: CleanupScreen, key: str) -> None:
    """Give the last answer; then the plan runs, its jobs finish, and the view measures the
    disk again."""
    generation = screen.generation
    await pilot.press(key)
    await settle(pilot)
    await wait_for(pilot, lambda: screen.removals.busy is None and screen.generation > generation)
    await wait_for(pilot, lambda: ready(screen))
    await settle(pilot)


async def test_view_sizes_marks_and_frees_what_the_plan_said(
    machine: Machine, make_app: AppMaker
) -> None:
    app = view_app(make_app, machine)
    pyenv = machine.pyenv("3.11.7")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_view(pilot)
        table = screen.table
        assert list(table.groups) == [Owner.UV, Owner.CACHE, Owner.PYENV, Owner.RYE, Owner.SYSTEM]
        assert text(screen, group_id(Owner.UV), "name") == "uv installs (2)"
        # The newest install comes first in the engine's order, so it owns all its links:
        # its size is what du -sb says of it alone.
        install = machine.install_root / K127
        rid = item_rid(screen, install)
        assert table.items[rid].size == du_sb([install])[0]
        assert text(screen, rid, "size") == human_size(du_sb([install])[0])
        assert text(screen, item_rid(screen, pyenv), "size") == human_size(du_sb([pyenv])[0])
        uv_total = sum(i.size or 0 for i in table.groups[Owner.UV])
        assert text(screen, group_id(Owner.UV), "size") == human_size(uv_total)
        assert "█" in text(screen, item_rid(screen, pyenv), "bar")  # the largest has a full bar
        assert text(screen, rid, "status") == "unused"
        before = screen.inventory.total() if screen.inventory else None
        assert f"total {human_size(before)}" in summary(screen)

        # One item, then a whole group by its header row.
        go(screen, item_rid(screen, pyenv))
        await pilot.press("space")
        go(screen, group_id(Owner.CACHE))
        await pilot.press("space")
        # Everything but the cache's own state and directories, which never go alone.
        cache_items = [i for i in table.groups[Owner.CACHE] if i.kind != Kind.OTHER]
        assert table.marked == {row_id(i) for i in cache_items} | {item_rid(screen, pyenv)}
        assert text(screen, group_id(Owner.CACHE), "mark") == "✓"
        await wait_for(pilot, lambda: screen.removals.plan is not None)

        # "to free" is the engine's plan for the same items, counted independently here.
        inventory = take_inventory(machine.shelf, system_dirs=[machine.sysbin])
        marked_paths = {i.path for i in table.marked_items()}
        expected = make_plan(inventory, [i for i in inventory.items if i.path in marked_paths])
        assert screen.removals.plan is not None and screen.removals.plan.freed == expected.freed
        assert f"to free {human_size(expected.freed)}" in summary(screen)

        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanConfirmScreen))
        confirm: PlanConfirmScreen = app.screen  # type: ignore[assignment]
        assert confirm.plan is screen.removals.plan
        listing = plain(confirm.listing())
        assert show_path(pyenv) in listing
        assert human_size(expected.freed) in plain(confirm.total())
        await answer_and_wait(pilot, screen, "y")

        assert not pyenv.exists() and machine.pyenv("3.12.1").is_dir()
        assert not any(i.path.exists() for i in cache_items)
        assert (machine.install_root / K127 / "bin").is_dir()  # evicting keeps the installs
        assert [i.kind for i in table.groups[Owner.CACHE]] == [Kind.OTHER]
        assert len(table.groups[Owner.PYENV]) == 1
        after = screen.inventory.total() if screen.inventory else None
        assert before is not None and after is not None and after < before
        assert f"total {human_size(after)}" in summary(screen)
        assert not table.marked and "freed" in notices(app)
        kinds = {i.event.kind.value for i in screen.queue_panel.items}
        assert kinds == {"evict", "remove"}  # the cache and the pyenv version, both queued
        # The main table was reloaded: 3.12.7 is installed but no longer cached.
        await wait_for(pilot, lambda: cell(app, K127, "state") == "● installed")


async def test_an_interpreter_in_use_needs_the_second_confirmation(
    machine: Machine, make_app: AppMaker
) -> None:
    pinned = make_venv(Path.cwd() / "pinned", machine.install_root / K126 / "bin", "3.12.6")
    app = view_app(make_app, machine)
    target = machine.install_root / K126
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_view(pilot)
        rid = item_rid(screen, target)
        assert text(screen, rid, "status") == "in use by 1 env"
        go(screen, rid)
        await pilot.press("space")
        await wait_for(pilot, lambda: screen.removals.plan is not None)
        assert "breaks 1 env" in summary(screen)

        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanConfirmScreen))
        await pilot.press("y")  # the first yes
        await wait_for(pilot, lambda: isinstance(app.screen, BreakConfirmScreen))
        second: BreakConfirmScreen = app.screen  # type: ignore[assignment]
        assert "breaks 1 environment" in second.title_text
        assert show_path(pinned) in plain(second.listing())
        await pilot.press("y")  # not the answer to this question: nothing happens
        await pilot.pause()
        assert app.screen is second
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is screen)
        await settle(pilot)
        assert target.is_dir() and not app.queue.jobs  # one confirmation removed nothing

        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, BreakConfirmScreen))
        await answer_and_wait(pilot, screen, "b")
        assert not target.exists()
        assert [j.kind.value for j in app.queue.jobs] == ["uninstall"]
        assert rid not in screen.table.items


async def test_another_managers_default_is_in_use_and_asked_about_twice(
    machine: Machine, make_app: AppMaker
) -> None:
    (machine.home / ".pyenv" / "version").write_text("3.11.7\n")  # pyenv global 3.11.7
    default = machine.pyenv("3.11.7")
    app = view_app(make_app, machine)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_view(pilot)
        rid = item_rid(screen, default)
        assert text(screen, rid, "status") == "in use by pyenv global"
        assert text(screen, item_rid(screen, machine.pyenv("3.12.1")), "status") == "unused"
        go(screen, rid)
        await pilot.pause()
        assert "used by pyenv global" in str(screen.detail.render())
        await pilot.press("space")
        await wait_for(pilot, lambda: screen.removals.plan is not None)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanConfirmScreen))
        first: PlanConfirmScreen = app.screen  # type: ignore[assignment]
        assert "this breaks pyenv global" in plain(first.total())
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, BreakConfirmScreen))
        second: BreakConfirmScreen = app.screen  # type: ignore[assignment]
        assert "breaks pyenv global" in second.title_text
        assert "pyenv global asks for 3.11.7" in plain(second.listing())
        await answer_and_wait(pilot, screen, "b")
        assert not default.exists()


async def test_system_interpreters_cannot_be_marked(machine: Machine, make_app: AppMaker) -> None:
    app = view_app(make_app, machine)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_view(pilot)
        table = screen.table
        system = table.groups[Owner.SYSTEM][0]
        rid = row_id(system)
        assert text(screen, rid, "mark") == "⊘" and text(screen, rid, "status") == "⊘ never removed"
        go(screen, rid)
        await pilot.press("space")
        await pilot.press("x")  # nor removed when merely highlighted
        go(screen, group_id(Owner.SYSTEM))
        await pilot.press("space")
        await pilot.press("a")  # the whole group: nothing in it can be marked
        await pilot.pause()
        assert not table.marked and not isinstance(app.screen, PlanConfirmScreen)
        assert "never removed" in notices(app) and "cannot be marked" in notices(app)
        assert system.path.is_file()

        # s cycles the order inside each group; headers stay on top of their groups.
        order = lambda: [  # noqa: E731
            table.items[r.key.value].name for r in table.ordered_rows if r.key.value in table.items
        ]
        await pilot.press("s")
        assert table.sort_mode == "name"
        uv = [i.name for i in table.groups[Owner.UV]]
        assert [n for n in order() if n in uv] == sorted(uv)
        assert table.ordered_rows[0].key.value == group_id(Owner.UV)
        await pilot.press("S")  # and back
        assert table.sort_mode == "size"
        await pilot.press("S")  # wrapping to the last
        assert table.sort_mode == SORTS[-1]


async def test_a_prune_preset_is_previewed_and_changes_nothing_until_confirmed(
    machine: Machine, make_app: AppMaker
) -> None:
    app = view_app(make_app, machine)
    root = machine.world.root
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_view(pilot)
        before = snapshot(root)
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PruneScreen))
        await pilot.press("enter")  # the first preset: keep only the newest patch of each minor
        await wait_for(pilot, lambda: isinstance(app.screen, PlanConfirmScreen))
        confirm: PlanConfirmScreen = app.screen  # type: ignore[assignment]
        assert "newest patch" in confirm.title_text
        # Its unpacked copy goes with the uninstall (no hot copies are kept by default).
        assert [r.item.name for r in confirm.plan.removals] == [K126, f"{K126} (unpacked)"]
        assert "3.12.7 is kept" in plain(confirm.listing())
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is screen)
        await settle(pilot)
        assert snapshot(root) == before and not app.queue.jobs

        # Archives older than N days, with N typed into the menu.
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PruneScreen))
        await pilot.press("tab", "ctrl+a", "ctrl+k", *"0", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanConfirmScreen))
        confirm = app.screen  # type: ignore[assignment]
        assert "older than 0 days" in confirm.title_text
        assert {r.item.kind for r in confirm.plan.removals} >= {Kind.ARCHIVE, Kind.PARTIAL}
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        assert snapshot(root) == before

        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PruneScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanConfirmScreen))
        await answer_and_wait(pilot, screen, "y")
        assert not (machine.install_root / K126).exists()
        assert (machine.install_root / K127).is_dir()


async def test_the_view_is_there_before_the_sizes(machine: Machine, make_app: AppMaker) -> None:
    release = threading.Event()

    def slow_scan(items, on_size=None, cancel=None, records=None) -> bool:  # type: ignore[no-untyped-def]
        # The first item is measured, then the scan waits: the rest are still unknown.
        def gated(item: Item, size: int) -> None:
            if on_size is not None:
                on_size(item, size)
            release.wait(10)

        return scan_sizes(items, gated, cancel, records)

    app = make_app(
        machine.shelf,
        scope=Scope(system_dirs=[machine.sysbin], cwd=Path.cwd(), scan_sizes=slow_scan),
    )
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, CleanupScreen))
        screen: CleanupScreen = app.screen  # type: ignore[assignment]
        try:
            await wait_for(pilot, lambda: screen.progress == (1, len(screen.table.items)))
            table = screen.table
            first, second = (row_id(i) for i in screen.inventory.items[:2])  # type: ignore[union-attr]
            assert text(screen, first, "size") != "…" and text(screen, second, "size") == "…"
            assert text(screen, group_id(Owner.PYENV), "size") == "…"
            assert "measured 1 of" in summary(screen)
            rows = dict(table.rows)
            go(screen, group_id(Owner.PYENV))
        finally:
            release.set()  # a failure above must not leave the scan waiting
        await wait_for(pilot, lambda: ready(screen))
        await pilot.pause()
        assert all(text(screen, rid, "size") != "…" for rid in table.items)
        # Filled in place: the very same row objects (never cleared), the cursor where it was.
        assert table.rows.keys() == rows.keys()
        assert all(table.rows[key] is row for key, row in rows.items())
        assert table.highlighted_row_id == group_id(Owner.PYENV)


async def test_keys_in_the_palette_and_the_help(machine: Machine, make_app: AppMaker) -> None:
    app = view_app(make_app, machine)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("ctrl+p", *"disk usage")
        await wait_for(pilot, lambda: "Disk usage" in palette_options(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CleanupScreen))
        screen: CleanupScreen = app.screen  # type: ignore[assignment]
        await wait_for(pilot, lambda: ready(screen))
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen: HelpScreen = app.screen  # type: ignore[assignment]
        assert "a marks this row's group" in help_screen.context
        await pilot.press("escape")
        await pilot.press("ctrl+p", *"keep only the newest")
        await wait_for(pilot, lambda: "Prune: keep only the newest" in palette_options(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanConfirmScreen))
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is screen)
        await pilot.press("escape")  # nothing marked: back to the builds
        await wait_for(pilot, lambda: app.screen is app.main.table.screen)
        assert (machine.install_root / K126).is_dir()


def test_bars_are_block_characters_relative_to_the_largest() -> None:
    assert bar(100, 100, 8) == "█" * 8
    assert bar(50, 100, 8) == "████    "
    assert bar(1, 10_000, 8) == "▏       "  # anything above zero shows
    assert bar(None, 100, 4) == bar(0, 100, 4) == "    "
    assert bar(3, 16, 2) == "▍ "


# -- pictures ------------------------------------------------------------------------------


@pytest.fixture
def scene(disk: PyshelfApp) -> PyshelfApp:
    return disk


async def _marked_view(pilot: Pilot) -> None:
    app: PyshelfApp = pilot.app  # type: ignore[assignment]
    screen = await open_view(pilot)
    home = Path.home()
    go(screen, item_rid(screen, home / ".pyenv" / "versions" / "3.9.18"))
    await pilot.press("space")
    go(screen, group_id(Owner.CACHE))
    await pilot.press("space")
    await wait_for(pilot, lambda: screen.removals.plan is not None)
    go(screen, item_rid(screen, home / ".pyenv" / "versions" / "3.11.7"))
    await app.workers.wait_for_complete()
    app.clear_notifications()
    await pilot.pause()


def test_cleanup_view_with_marks(snap_compare, scene: PyshelfApp) -> None:
    assert snap_compare(scene, terminal_size=(120, 36), run_before=_marked_view)


def test_cleanup_view_at_80x24(snap_compare, scene: PyshelfApp) -> None:
    assert snap_compare(scene, terminal_size=(80, 24), run_before=_marked_view)


def test_cleanup_confirmation(snap_compare, scene: PyshelfApp) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _marked_view(pilot)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, PlanConfirmScreen))
        await pilot.pause()

    assert snap_compare(scene, terminal_size=(100, 30), run_before=run_before)


async def test_c_in_the_queue_cancels_a_removal_and_the_steps_after_it(
    machine: Machine, make_app: AppMaker
) -> None:
    app = view_app(make_app, machine)
    install, pyenv = machine.install_root / K127, machine.pyenv("3.11.7")
    fd = os.open(machine.shelf.installs.lock_path, os.O_RDWR)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_view(pilot)
            for path in (install, pyenv):
                go(screen, item_rid(screen, path))
                await pilot.press("space")
            await wait_for(
                pilot,
                lambda: screen.removals.plan is not None and len(screen.removals.plan.steps) == 2,
            )
            await pilot.press("x")
            await wait_for(pilot, lambda: isinstance(app.screen, PlanConfirmScreen))
            fcntl.flock(fd, fcntl.LOCK_EX)  # the uninstall, the first step, waits for uv's lock
            await pilot.press("y")
            await wait_for(
                pilot,
                lambda: any(i.event.phase == Phase.REMOVING for i in screen.queue_panel.items),
            )
            screen.queue_panel.query_one(ListView).focus()
            await pilot.pause()
            await pilot.press("c")
            await wait_for(pilot, lambda: screen.removals.busy is None)
            await settle(pilot)
            assert [(j.kind, j.phase) for j in app.queue.jobs] == [
                (JobKind.UNINSTALL, Phase.CANCELLED)
            ]  # and the pyenv version's removal was never submitted
            assert (install / "bin").is_dir() and pyenv.is_dir()
            assert f"freed {human_size(0)}; cancelled" in notices(app)
    finally:
        os.close(fd)

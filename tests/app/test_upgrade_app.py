"""The app's side of issue 13: newer patches shown and upgraded with U (environments follow,
as `pyshelf upgrade` has it), pinned builds marked and filtered, and the notice that uv cannot
see the cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.app.conftest import AppMaker, cell, highlight, loaded, messages, settle, wait_for
from tests.conftest import World
from tests.test_managers import make_venv
from tui.app.builds import screen as main_screen
from tui.app.dialogs.confirm import ConfirmScreen
from tui.app.dialogs.plan_confirm import PlanConfirmScreen, plain
from tui.engine.checks import uvcache
from tui.engine.jobs import Phase

OLD = "cpython-3.12.6-linux-x86_64-gnu"
NEW = "cpython-3.12.7-linux-x86_64-gnu"
LINK = "cpython-3.12-linux-x86_64-gnu"


def _envs(root: Path, installs: Path) -> tuple[Path, Path]:
    """One environment made from the old patch's own path, one through the minor link."""
    pinned = make_venv(root / "pinned", installs / OLD / "bin", "3.12.6")
    (pinned / "bin" / "python").symlink_to(installs / OLD / "bin" / "python3.12")
    linked = make_venv(root / "linked", installs / LINK / "bin", "3.12.6")
    (linked / "bin" / "python").symlink_to(installs / LINK / "bin" / "python3.12")
    return pinned, linked


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # environments and pins are looked for here
    return work


async def test_U_upgrades_repoints_and_offers_the_old_patch(
    world: World, make_app: AppMaker, work: Path
) -> None:
    assert world.cli("install", "3.12.6")[0] == 0
    installs = world.root / "installs"
    pinned, linked = _envs(work, installs)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert cell(app, OLD, "version") == "3.12.6 → 3.12.7"
        assert cell(app, NEW, "version") == "3.12.7"  # not installed: nothing to upgrade
        await highlight(pilot, NEW)
        await pilot.press("U")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert any("not installed" in m for m in messages(app))

        await highlight(pilot, OLD)
        await pilot.press("U")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        ask: ConfirmScreen = app.screen  # type: ignore[assignment]
        assert ask.title_text == "Upgrade CPython 3.12.6 to 3.12.7?"
        assert [r.path for r in ask.rows] == [f"install {NEW}"]
        assert "1 environment follow the minor link" in ask.note
        assert f"repoint {pinned} (uses {OLD} itself)" in ask.note
        await pilot.press("y")
        # Install, repoint, then the old patch's removal plan: nothing uses it any more.
        await wait_for(pilot, lambda: isinstance(app.screen, PlanConfirmScreen), timeout=30)
        plan_screen: PlanConfirmScreen = app.screen  # type: ignore[assignment]
        assert plan_screen.title_text.startswith("Uninstall CPython 3.12.6, now that 3.12.7")
        assert str(installs / OLD) in plain(plan_screen.listing()).replace("~", str(Path.home()))
        kinds = [(j.kind.value, j.phase) for j in app.queue.jobs]
        assert kinds == [("install", Phase.DONE), ("repoint", Phase.DONE)]
        cfg = (pinned / "pyvenv.cfg").read_text()
        assert f"home = {installs / NEW / 'bin'}" in cfg and "version_info = 3.12.7" in cfg
        assert os.readlink(pinned / "bin" / "python") == str(installs / NEW / "bin" / "python3.12")
        # The linked environment needed nothing: the link moved with the install.
        assert os.path.realpath(installs / LINK) == str(installs / NEW)
        linked_python = os.path.realpath(linked / "bin" / "python")
        assert linked_python == str(installs / NEW / "bin" / "python3.12")
        assert "3.12.6" in (linked / "pyvenv.cfg").read_text()  # untouched
        await pilot.press("y")
        await wait_for(pilot, lambda: not (installs / OLD).exists())
        await settle(pilot)
        assert [j.kind.value for j in app.queue.jobs] == ["install", "repoint", "uninstall"]
        assert cell(app, NEW, "version") == "3.12.7"
        assert "● installed" in cell(app, NEW, "state")


async def test_the_old_patch_stays_while_an_environment_still_uses_it(
    world: World, make_app: AppMaker, work: Path
) -> None:
    assert world.cli("install", "3.12.6")[0] == 0
    installs = world.root / "installs"
    # No bin/python: the environment cannot be checked after the change, so it is put back.
    stuck = make_venv(work / "stuck", installs / OLD / "bin", "3.12.6")
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await highlight(pilot, OLD)
        await pilot.press("U")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: any("kept" in m for m in messages(app)), timeout=30)
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)  # never the "break them" question
        assert (installs / OLD).is_dir() and (installs / NEW).is_dir()
        assert any("CPython 3.12.6 kept: 1 environment" in m for m in messages(app))
        repoint = next(j for j in app.queue.jobs if j.kind.value == "repoint")
        assert repoint.phase == Phase.FAILED
        assert f"home = {installs / OLD / 'bin'}" in (stuck / "pyvenv.cfg").read_text()


async def test_U_says_why_a_row_has_nothing_to_upgrade(
    world: World, make_app: AppMaker, work: Path
) -> None:
    assert world.cli("install", "3.12.6")[0] == 0
    assert world.cli("install", "3.12.7")[0] == 0
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert cell(app, OLD, "version") == "3.12.6"  # the minor's newest patch is installed
        await highlight(pilot, OLD)
        await pilot.press("U")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert any("its minor already has its newest patch installed" in m for m in messages(app))


async def test_offline_only_a_cached_patch_is_offered(
    world: World, make_app: AppMaker, work: Path
) -> None:
    assert world.cli("install", "3.12.6")[0] == 0
    app = make_app(offline=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert cell(app, OLD, "version") == "3.12.6"  # 3.12.7 cannot be downloaded now
    assert world.cli("fetch", "3.12.7")[0] == 0
    app = make_app(offline=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert cell(app, OLD, "version") == "3.12.6 → 3.12.7"


async def test_pinned_builds_are_marked_and_filtered(
    world: World, make_app: AppMaker, work: Path
) -> None:
    (work / ".python-version").write_text("3.11\n")
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert cell(app, "cpython-3.11.9-linux-x86_64-gnu", "version") == "3.11.9 pinned"
        assert cell(app, NEW, "version") == "3.12.7"
        app.main.filter_to("pinned")  # what the palette's "Filter: builds the folder pins" does
        await wait_for(pilot, lambda: app.main.table.row_count == 1)
        assert [e.key for e in app.main.table.entries.values()] == [
            "cpython-3.11.9-linux-x86_64-gnu"
        ]
        assert app.main.filter_box.display and app.main.filter_box.value == "pinned"


async def test_a_bad_pin_file_is_one_warning(world: World, make_app: AppMaker, work: Path) -> None:
    (work / ".python-version").write_text("three-twelve\n")
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert any(".python-version" in m for m in messages(app))
        assert app.main.table.row_count == 5  # the builds are listed all the same


async def test_the_notice_that_uv_cannot_see_the_cache(
    world: World, make_app: AppMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(main_screen, "uv_cache_notice", uvcache.uv_cache_notice)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        said = [m for m in messages(app) if "uv" in m]
        assert len(said) == 1 and "UV_PYTHON_CACHE_DIR is unset" in said[0]
        assert 'eval "$(pyshelf dir --env)"' in said[0]
    monkeypatch.setenv("UV_PYTHON_CACHE_DIR", str(world.root / "elsewhere"))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert any(f"not pyshelf's cache {world.root / 'cache'}" in m for m in messages(app))
    monkeypatch.setenv("UV_PYTHON_CACHE_DIR", str(world.root / "cache"))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert not [m for m in messages(app) if "uv" in m]

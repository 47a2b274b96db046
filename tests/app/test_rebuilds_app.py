"""The app's side of rebuilds (issue 21): the installed row names its build and the rebuild,
and U installs the rebuild in its place, with nothing to repoint or remove."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app.conftest import AppMaker, loaded, messages, settle, wait_for
from tests.conftest import World
from tests.loopback import LoopbackServer
from tests.test_rebuilds import KEY, NEW, OLD, rebuild_world
from tui.app.app import PyshelfApp
from tui.app.dialogs.confirm import ConfirmScreen
from tui.app.dialogs.plan_confirm import PlanConfirmScreen
from tui.app.present import row_id
from tui.engine.shelf import Entry


@pytest.fixture
def world(tmp_path: Path, loopback_server: LoopbackServer) -> World:
    return rebuild_world(tmp_path, loopback_server)[0]


def _row(app: PyshelfApp, build: str) -> Entry:
    return next(
        e for e in app.main.table.entries.values() if e.key == KEY and e.build.build == build
    )


def _cell(app: PyshelfApp, build: str, column: str) -> str:
    return app.main.table.get_cell(row_id(_row(app, build)), column).plain


async def test_U_installs_the_rebuild_in_the_old_builds_place(
    world: World, make_app: AppMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    install = world.root / "installs" / KEY
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert _cell(app, OLD, "version") == f"3.12.1 +{OLD} → +{NEW}"
        assert _cell(app, OLD, "build") == OLD and "installed" in _cell(app, OLD, "state")
        assert _cell(app, NEW, "version") == "3.12.1"  # the rebuild's own row: not installed
        table = app.main.table
        table.move_cursor(row=table.get_row_index(row_id(_row(app, NEW))))
        await pilot.press("U")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert any("not installed" in m for m in messages(app))

        table.move_cursor(row=table.get_row_index(row_id(_row(app, OLD))))
        await pilot.press("U")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        ask: ConfirmScreen = app.screen  # type: ignore[assignment]
        assert ask.title_text == f"Upgrade CPython 3.12.1 to its rebuild +{NEW}?"
        assert f"the archive of build {OLD} stays cached" in ask.note
        await pilot.press("y")
        await wait_for(pilot, lambda: (install / "BUILD").read_text() == NEW, timeout=30)
        await settle(pilot)
        assert not isinstance(app.screen, PlanConfirmScreen)  # no old install to remove
        assert [j.kind.value for j in app.queue.jobs] == ["install"]
        assert "installed" in _cell(app, NEW, "state")
        assert "cached" in _cell(app, OLD, "state")  # the way back stays

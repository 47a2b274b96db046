"""The app shows the ledger's figures: the table, the header and the disk view agree with each
other and with ``du -sb`` on real trees (see tests/test_ledger.py for the scene)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app.conftest import AppMaker, cell, loaded, wait_for
from tests.app.test_cleanup import open_view, text
from tests.test_ledger import K3127, Stocked, measured
from tests.test_ledger import stocked as stocked  # the fixture
from tests.test_managers import clear_manager_env
from tui.app.disk.rows import group_id
from tui.app.disk.scope import Scope
from tui.engine.usage.inventory import Owner
from tui.format import human_size


@pytest.fixture
def make_app(stocked: Stocked):
    maker = AppMaker(stocked.world)
    yield maker
    maker.close()


async def test_table_header_and_disk_view_agree_with_du(
    stocked: Stocked, make_app: AppMaker, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clear_manager_env(monkeypatch)
    monkeypatch.chdir(tmp_path)
    du = stocked.du()
    _, _, entries = measured(stocked)
    app = make_app(scope=Scope(system_dirs=[], cwd=tmp_path))
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        app.main.show_all = True
        await wait_for(pilot, lambda: app.main.ledger is not None)
        await pilot.pause()
        for key, entry in entries.items():
            want = human_size(entry.cache_size) if entry.in_cache else "—"
            assert cell(app, key, "cached") == want, key
            want = human_size(entry.install_size) if entry.installation else "—"
            assert cell(app, key, "installed") == want, key
        assert cell(app, K3127, "cached") == human_size(entries[K3127].cache_size)
        status = str(app.main.status.query_one("#status-totals").render())
        assert f"installed 2 · {human_size(du[0])}" in status
        assert f"cache 5 · {human_size(du[1])}" in status
        screen = await open_view(pilot)
        assert [screen.inventory.total(Owner.UV), screen.inventory.total(Owner.CACHE)] == du
        assert text(screen, group_id(Owner.UV), "size") == human_size(du[0])
        assert text(screen, group_id(Owner.CACHE), "size") == human_size(du[1])

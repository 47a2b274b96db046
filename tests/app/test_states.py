"""What the builds view says about states that used to pass silently: a partial download
beside an install, a filter that matches nothing, a reload, sizes nobody could learn."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.app.conftest import (
    CPYTHON_312,
    AppMaker,
    cell,
    entry,
    highlight,
    loaded,
    messages,
    settle,
    wait_for,
)
from tests.conftest import World
from tui.app.builds import listing as loading
from tui.app.builds.details import DetailsPane
from tui.engine.shelf import Shelf
from tui.format import human_size

K313 = "cpython-3.13.1-linux-x86_64-gnu"
PYPY = "pypy-3.10.14-linux-x86_64-gnu"


async def test_an_installed_build_with_a_partial_download_shows_both(
    world: World, make_app: AppMaker
) -> None:
    assert world.cli("install", "3.12.7")[0] == 0
    assert world.cli("evict", "3.12.7")[0] == 0
    shelf = world.shelf()
    build = next(e.build for e in shelf.entries() if e.key == CPYTHON_312)
    partial = shelf.cache.partial_for(build)
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(b"x" * (world.spec(CPYTHON_312).size // 4))
    app = make_app(shelf)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert cell(app, CPYTHON_312, "state") == "●◐ installed"
        await highlight(pilot, CPYTHON_312)
        await pilot.press("d")
        await pilot.pause()
        text = app.query_one(DetailsPane).text()
        assert "partial  64.3 KiB (24%) downloaded; fetching resumes it" in text
        await pilot.press("slash", *"partial", "enter")  # the filter finds it as partial too
        await wait_for(pilot, lambda: CPYTHON_312 in [e.key for e in app.main.table.ordered()])


async def test_an_empty_filter_says_what_matched_nothing_and_esc_clears_it(
    world: World, make_app: AppMaker
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        note = app.main.query_one("#empty-note")
        assert not note.display
        await pilot.press("slash", *"nosuch", "enter")
        await wait_for(pilot, lambda: app.main.table.row_count == 0)
        assert note.display
        assert str(note.render()) == "no build matches “nosuch” — Esc clears the filter"
        await pilot.press("escape")  # from the table, not only from the filter box
        await wait_for(pilot, lambda: app.main.table.row_count == 5)
        assert not note.display and app.main.filter_text == ""
        await pilot.press("slash", *"3.12.6", "enter")  # an older patch: hidden by default
        await wait_for(pilot, lambda: note.display)
        assert "a shows all versions" in str(note.render())


async def test_ctrl_r_says_it_reloads_and_then_what_changed(
    world: World, make_app: AppMaker
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("ctrl+r")
        assert any(m.startswith("reloading") for m in messages(app))
        await settle(pilot)
        await wait_for(pilot, lambda: "reloaded: 6 builds, nothing changed" in messages(app))
        assert world.cli("fetch", "3.11.9")[0] == 0  # another process changes the cache
        app.clear_notifications()
        await pilot.press("ctrl+r")
        await settle(pilot)
        await wait_for(pilot, lambda: "reloaded: 6 builds, 1 changed" in messages(app))
        assert cell(app, "cpython-3.11.9-linux-x86_64-gnu", "state") == "◆ cached"


async def test_offline_sizes_say_offline_and_the_details_say_why(
    world: World, make_app: AppMaker
) -> None:
    app = make_app(offline=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert cell(app, K313, "download") == "offline"
        await pilot.press("d")
        await pilot.pause()
        assert "download unknown: offline: sizes come from the mirror" in " ".join(
            app.query_one(DetailsPane).text().split()
        )


async def test_a_mirror_without_the_file_is_named_as_the_reason(
    world: World, make_app: AppMaker
) -> None:
    world.server.fault(world.spec(PYPY).filename, status=404)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert cell(app, PYPY, "download") == "unknown"
        await highlight(pilot, PYPY)
        await pilot.press("d")
        await pilot.pause()
        text = " ".join(app.query_one(DetailsPane).text().split())
        assert "download unknown: the mirror answered HTTP 404" in text


class _Flaky(httpx.BaseTransport):
    """A network that is down until told otherwise, then the real one."""

    def __init__(self) -> None:
        self.down = True
        self.real = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("network is unreachable", request=request)
        return self.real.handle_request(request)


async def test_sizes_fill_in_when_the_network_returns(
    world: World, make_app: AppMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loading, "PROBE_RETRY", 0.2)
    network = _Flaky()
    shelf = Shelf(world.make_settings(), client=httpx.Client(transport=network))
    app = make_app(shelf)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert cell(app, K313, "download") == "unknown"
        await pilot.press("d")
        await pilot.pause()
        text = " ".join(app.query_one(DetailsPane).text().split())
        assert "download unknown: host not answering (ConnectError)" in text
        network.down = False
        size = human_size(world.spec(K313).size)
        await wait_for(pilot, lambda: cell(app, K313, "download") == size)
        assert entry(app, K313).download_size == world.spec(K313).size


async def test_an_old_catalog_copy_used_offline_is_called_stale(
    world: World, make_app: AppMaker
) -> None:
    (world.server.root / "catalog.json").write_bytes(world.catalog_path.read_bytes())
    url = f"{world.server.url}/catalog.json"
    assert world.cli("list", "--catalog", url)[0] == 0  # keeps a copy
    (meta,) = (world.root / "cache").rglob("*.meta.json")
    data = json.loads(meta.read_text())
    data["fetched_at"] = (datetime.now(UTC) - timedelta(days=40)).strftime("%Y-%m-%d %H:%M UTC")
    meta.write_text(json.dumps(data))
    app = make_app(catalog=url, offline=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        warning = str(app.main.query_one("#status-warning").render())
        assert "the catalog copy is 40 days old" in warning

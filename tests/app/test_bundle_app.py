"""The app's side of issue 14: export the marked rows, import a bundle, the "installs with no
network" filter, the connection check and what the header says about the network."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import Input

from tests.app.conftest import (
    CPYTHON_312,
    AppMaker,
    cell,
    highlight,
    loaded,
    messages,
    settle,
    wait_for,
)
from tests.conftest import World
from tui.app.builds.bundles import PathScreen
from tui.app.builds.connection import ChecksScreen
from tui.engine.bundle import CATALOG_NAME, SUMS_NAME
from tui.engine.jobs import Phase
from tui.format import human_size

K311 = "cpython-3.11.9-linux-x86_64-gnu"


async def _mark(pilot, *keys: str) -> None:
    for key in keys:
        await highlight(pilot, key)
        await pilot.press("space")


async def _answer_path(pilot, path: Path) -> None:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, PathScreen))
    box = pilot.app.screen.query_one(Input)
    box.value = str(path)
    await pilot.press("enter")


async def test_export_the_marked_rows_then_import_the_bundle(
    world: World, make_app: AppMaker, tmp_path: Path
) -> None:
    assert world.cli("fetch", "3.11")[0] == 0  # one cached, one to download
    bundle = tmp_path / "bundle"
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await _mark(pilot, CPYTHON_312, K311)
        await pilot.press("E")
        await wait_for(pilot, lambda: isinstance(app.screen, PathScreen))
        screen: PathScreen = app.screen  # type: ignore[assignment]
        size = world.spec(CPYTHON_312).size + world.spec(K311).size
        assert screen.note == f"2 builds: {human_size(size)} of archives, 1 to download first"
        await _answer_path(pilot, bundle)
        await wait_for(pilot, lambda: any(j.kind.value == "export" for j in app.queue.jobs))
        await settle(pilot)
        jobs = [(j.kind.value, j.phase, j.result) for j in app.queue.jobs]
        assert jobs == [("fetch", Phase.DONE, "cached"), ("export", Phase.DONE, "added 2")]
    catalog = json.loads((bundle / CATALOG_NAME).read_text())
    assert set(catalog) == {CPYTHON_312, K311}
    assert len((bundle / SUMS_NAME).read_text().splitlines()) == 2

    # Another machine: an empty cache, and no network at all.
    world.server.stop()
    app = make_app(cache_dir=tmp_path / "fresh-cache")
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert cell(app, CPYTHON_312, "state") == "○ available"
        await pilot.press("I")
        await wait_for(pilot, lambda: isinstance(app.screen, PathScreen))
        await _answer_path(pilot, tmp_path / "nowhere")
        await pilot.pause()
        assert isinstance(app.screen, PathScreen)  # a missing path is refused in the dialog
        problem = app.screen.query_one("#path-problem")
        assert "no such file or folder" in str(problem.render())
        await _answer_path(pilot, bundle)
        await wait_for(pilot, lambda: any(j.kind.value == "import" for j in app.queue.jobs))
        await settle(pilot)
        job = app.queue.jobs[-1]
        assert (job.phase, job.result) == (Phase.DONE, "added 2")
        await wait_for(pilot, lambda: cell(app, CPYTHON_312, "state") == "◆ cached")
        # Both now install with no network: the filter says so.
        app.main.filter_to("offline")
        await wait_for(pilot, lambda: app.main.table.row_count == 2)
        assert {e.key for e in app.main.table.entries.values()} == {CPYTHON_312, K311}


async def test_a_tampered_bundle_adds_only_what_verifies(
    world: World, make_app: AppMaker, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    assert world.cli("export", str(bundle), "3.12", "3.11")[0] == 0
    spec = world.spec(CPYTHON_312)
    archive = bundle / spec.build / spec.filename
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    app = make_app(cache_dir=tmp_path / "fresh-cache")
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("I")
        await _answer_path(pilot, bundle)
        await wait_for(pilot, lambda: any(j.kind.value == "import" for j in app.queue.jobs))
        await settle(pilot)
        job = app.queue.jobs[-1]
        assert job.result == "added 1"
        assert job.warnings and job.warnings[0].startswith(f"failed: {CPYTHON_312}: ")
        assert any("sha256" in m for m in messages(app))
        assert cell(app, K311, "state") == "◆ cached"
        assert cell(app, CPYTHON_312, "state") == "○ available"


async def test_export_says_why_a_row_cannot_go(world: World, make_app: AppMaker) -> None:
    app = make_app(offline=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await _mark(pilot, CPYTHON_312)
        await pilot.press("E")
        await pilot.pause()
        assert not isinstance(app.screen, PathScreen)
        assert any("not cached and offline" in m for m in messages(app))


async def test_check_connection_shows_each_source_and_the_header_follows(
    world: World, make_app: AppMaker
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert "online" not in app.main.sub_title  # not checked yet: nothing claimed
        await pilot.press("N")
        await wait_for(pilot, lambda: isinstance(app.screen, ChecksScreen))
        checks = {c.what: c for c in app.screen.checks}  # type: ignore[attr-defined]
        assert checks["catalog"].ok and checks["cpython archives"].ok
        assert "HTTP 200 in" in checks["cpython archives"].detail
        assert "· online ·" in app.main.sub_title
        await pilot.press("escape")
        await pilot.pause()

        world.server.stop()
        await pilot.press("N")
        await wait_for(pilot, lambda: isinstance(app.screen, ChecksScreen))
        checks = {c.what: c for c in app.screen.checks}  # type: ignore[attr-defined]
        assert not checks["cpython archives"].ok
        assert "· no connection ·" in app.main.sub_title
        title = app.screen.query_one("#checks-title")
        assert "failed" in str(title.render())


async def test_offline_shows_in_the_header(world: World, make_app: AppMaker) -> None:
    app = make_app(offline=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert "· offline ·" in app.main.sub_title
        await pilot.press("N")  # offline: nothing goes over the network, and it says so
        await wait_for(pilot, lambda: isinstance(app.screen, ChecksScreen))
        assert app.screen.checks[0].detail.startswith("offline")  # type: ignore[attr-defined]
        assert "· offline ·" in app.main.sub_title


async def test_escape_leaves_the_path_dialog_and_nothing_runs(
    world: World, make_app: AppMaker
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("I")
        await wait_for(pilot, lambda: isinstance(app.screen, PathScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, PathScreen))
        await settle(pilot)
        assert app.queue.jobs == []

"""Feedback that stays out of the way: toasts never cover the highlighted row, a dialog or the
palette; one removal says so once; "could free" is defined where it shows and is what its
removal frees; a narrow footer leads to the rest."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import ListView

from tests.app import scenes
from tests.app.conftest import CPYTHON_312, AppMaker, highlight, loaded, settle, wait_for
from tests.app.test_flow import _palette_options as palette_options
from tests.conftest import World
from tests.test_managers import clear_manager_env
from tui.app.app import PyshelfApp
from tui.app.builds.action_footer import ActionFooter
from tui.app.dialogs.plan_confirm import PlanConfirmScreen, plain
from tui.app.help.screen import HelpScreen
from tui.app.messages import JobUpdated
from tui.app.present import COULD_FREE, totals
from tui.app.view import highlighted_row
from tui.format import human_size

K311 = "cpython-3.11.9-linux-x86_64-gnu"


def toasts(app: PyshelfApp) -> list[Region]:
    """Where the toasts of the screen on top are drawn, those in sight."""
    try:
        rack = app.screen.get_child_by_id("textual-toastrack")
    except Exception:
        return []
    if not rack.display:
        return []
    return [t.region for t in rack.query("Toast") if t.region and t.visible]


async def shout(pilot: Pilot, count: int) -> None:
    for n in range(count):
        pilot.app.notify(f"notice {n}: long enough to take a second line in a toast", title="t")
    await pilot.pause(0.1)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_toasts_never_cover_the_highlighted_row(
    builds: PyshelfApp, size: tuple[int, int]
) -> None:
    async with builds.run_test(size=size, notifications=True) as pilot:
        await loaded(pilot)
        table = builds.main.table
        for row in range(table.row_count):
            table.move_cursor(row=row)
            await shout(pilot, 4)
            cursor = highlighted_row(table)
            assert cursor is not None
            shown = toasts(builds)
            assert shown, "the newest toast is in sight"
            assert not any(t.overlaps(cursor) for t in shown), (row, cursor, shown)
            assert all(t.y >= table.region.y and t.bottom <= table.region.bottom for t in shown), (
                table.region,
                shown,
            )
            builds.clear_notifications()
            await pilot.pause()


async def test_with_the_queue_focused_toasts_stay_over_the_table(builds: PyshelfApp) -> None:
    async with builds.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("Q")
        sizes = {e.key: e.download_size or 0 for e in builds.main.all_entries}
        for event in scenes.jobs_in_flight(sizes):
            builds.main.post_message(JobUpdated(event))
        jobs = builds.main.queue_panel.query_one(ListView)
        await wait_for(pilot, lambda: len(jobs.children) == 4)
        await shout(pilot, 2)
        job = highlighted_row(jobs)
        shown = toasts(builds)
        assert job is not None and shown
        table = builds.main.table.region
        assert all(t.y >= table.y and t.bottom <= table.bottom for t in shown)
        assert not any(t.overlaps(job) for t in shown)


async def test_toasts_hide_while_a_dialog_or_the_palette_is_up(builds: PyshelfApp) -> None:
    async with builds.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        await shout(pilot, 2)
        assert toasts(builds)
        for opens in ("question_mark", "ctrl+p"):
            await pilot.press(opens)
            await wait_for(pilot, lambda: builds.screen is not builds.main)
            await shout(pilot, 1)  # one arriving while it is up stays hidden too
            assert toasts(builds) == [], opens
            rack = builds.main.get_child_by_id("textual-toastrack")
            assert not rack.display  # those of the view under it are out of sight
            await pilot.press("escape")
            await wait_for(pilot, lambda: builds.screen is builds.main)
            await pilot.pause()
            assert toasts(builds)  # back once it closes


async def test_one_removal_one_toast(
    world: World, make_app: AppMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for version in ("3.12.7", "3.11.9"):
        assert world.cli("install", version)[0] == 0
    app = make_app()
    told: list[tuple[str, str]] = []
    notify = app.notify
    monkeypatch.setattr(
        app, "notify", lambda message, **kw: (told.append((kw.get("title", ""), message)),
                                              notify(message, **kw))[1]
    )  # fmt: skip
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        for key in (CPYTHON_312, K311):
            await highlight(pilot, key)
            await pilot.press("space")
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanConfirmScreen))
        assert len(app.screen.plan.steps) == 2  # type: ignore[attr-defined]
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.queue.active() and len(app.queue.jobs) == 2)
        await settle(pilot)
        removals = [(title, m) for title, m in told if title.startswith("Uninstall")]
        assert len(removals) == 1, told
        assert removals[0][1].startswith("2 removals: freed ")


async def test_could_free_is_defined_and_is_what_its_removal_frees(
    world: World, make_app: AppMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert world.cli("install", "3.12.7")[0] == 0
    assert world.cli("fetch", "3.11.9")[0] == 0  # cached, not installed: not counted
    app = make_app()
    spec = world.spec("cpython-3.13.1-linux-x86_64-gnu")  # partly downloaded below: counted
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        entry = next(e for e in app.main.all_entries if e.key == spec.key)
        partial = app.shelf.cache.partial_for(entry.build)
        partial.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(spec.path.read_bytes()[:5000])
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: any(e.partial_bytes for e in app.main.all_entries))
        await wait_for(pilot, lambda: app.main.ledger is not None)
        await pilot.pause()
        figure = totals(app.main.all_entries, app.main.ledger).could_free
        header = app.main.query_one("#status-totals")
        assert f"could free {human_size(figure)}" in str(header.render())
        assert header.tooltip == COULD_FREE
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert str(app.screen.query_one("#help-could-free").render()) == COULD_FREE
        await pilot.press("escape")
        await pilot.press("ctrl+p", *"could be freed")
        await wait_for(pilot, lambda: "could be freed" in palette_options(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanConfirmScreen))
        screen = app.screen
        assert isinstance(screen, PlanConfirmScreen)
        assert screen.plan.freed == figure
        assert f"frees {human_size(figure)}" in plain(screen.total())
        await pilot.press("y")
        await settle(pilot)
        assert not partial.exists() and app.shelf.cache.find(entry.build) is None
        assert (world.root / "installs" / CPYTHON_312).is_dir()  # installs keep working


async def test_at_80x24_the_footer_leads_to_the_rest_and_the_palette_has_U_E_I_N(
    world: World, make_app: AppMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert world.cli("install", "3.12.6")[0] == 0  # an upgrade applies to it
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("a")
        await highlight(pilot, "cpython-3.12.6-linux-x86_64-gnu")
        footer = app.main.query_one(ActionFooter)
        shown, _, _ = footer.fit(footer.content_region.width)
        ids = [i.binding_id for i in shown]
        assert {"mark", "fetch", "install", "uninstall", "cleanup", "queue", "quit"} <= set(ids)
        assert "? more" in str(footer.render())  # the help page lists what does not fit
        assert not {"upgrade", "export", "import", "check-connection"} & set(ids)
        hints = {hint: name for name, _, hint in app.main.commands()}  # the palette's
        assert {"U", "E", "I", "N"} <= set(hints), hints


def _colours(svg: str) -> set[tuple[int, int, int]]:
    """The colours of the terminal's cells in a screenshot: text styles and cell backgrounds,
    not the window drawn around them (its buttons and title)."""
    styles = r"-r\d+ \{ fill: #([0-9a-fA-F]{6})"  # one CSS class per text style
    cells = re.findall(styles + r"|<rect [^>]*fill=\"#([0-9a-fA-F]{6})\"", svg)
    # Text with no colour of its own is written in the export theme's foreground: not ours.
    found = {h.lower() for pair in cells for h in pair if h} - {"c5c8c6"}
    return {(int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)) for h in found}


@pytest.mark.parametrize(("value", "grey"), [("1", True), ("", False), (None, False)])
async def test_no_color_draws_in_shades_of_grey(
    tmp_path: Path,
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    value: str | None,
    grey: bool,
) -> None:
    """NO_COLOR set (no-color.org: to anything but "") leaves no hue anywhere on screen."""
    clear_manager_env(monkeypatch)
    if value is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", value)
    app = scenes.make_app(tmp_path, isolated_home)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await loaded(pilot)
            await highlight(pilot, CPYTHON_312)  # the cursor, states and marks: all in colour
            await pilot.press("space")
            colours = _colours(app.export_screenshot())
    finally:
        app.queue.close()
    hues = {c for c in colours if len(set(c)) > 1}
    assert colours and (hues == set()) == grey, sorted(hues)[:5]

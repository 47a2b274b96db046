"""The removal questions read as the tables do: every path on a line of its own, broken after
a ``/`` only when it is longer than that line, the reason under it, the whole question, and
the table's words and figures."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console, RenderableType
from textual.widgets import Label

from tests.app import scenes
from tests.app.conftest import CPYTHON_312, AppMaker, cell, entry, highlight, loaded, wait_for
from tests.conftest import World
from tui.app.app import PyshelfApp
from tui.app.dialogs.plan_confirm import BreakConfirmScreen, PlanConfirmScreen, plain
from tui.app.present import show_path
from tui.format import human_size


def lines(renderable: RenderableType, width: int) -> list[str]:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return [line.rstrip() for line in console.export_text().splitlines()]


async def _second_question(app: PyshelfApp, size: tuple[int, int]) -> tuple[list[str], int]:
    """The second question's listing as drawn at ``size``, and its title's height."""
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        await highlight(pilot, CPYTHON_312)
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, BreakConfirmScreen))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BreakConfirmScreen)
        listing = screen.query_one("#confirm-list")
        title = screen.query_one("#confirm-title", Label)
        assert "Remove anyway?" in screen.title_text
        drawn = lines(screen.listing(), listing.content_region.width)
        # The whole title fits the lines it was given: it wraps, it is never cut.
        assert len(screen.title_text) <= title.content_region.width * title.content_region.height
        return drawn, title.content_region.height


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_the_second_question_gives_each_path_its_line_and_the_reason_the_next(
    in_use: PyshelfApp, isolated_home: Path, size: tuple[int, int]
) -> None:
    drawn, _ = await _second_question(in_use, size)
    width = max(len(line) for line in drawn)
    work = show_path(isolated_home / "work")
    venvs = [f"{work}/{v}" for v in scenes.IN_USE_VENVS]
    pin = f"{work}/{scenes.IN_USE_PIN}"
    reasons = [f"uses {CPYTHON_312}", f"uses {CPYTHON_312}", "asks for 3.12: "]
    at = 0
    for path, reason in zip([*venvs, pin], reasons, strict=True):
        # The path's lines, then its reason, indented, on the line after them.
        taken = ""
        first = at
        while taken != path:
            assert path.startswith(taken + drawn[at]), (path, drawn[at])
            taken += drawn[at]
            at += 1
        if len(path) <= width:
            assert at == first + 1, f"{path} fits its line but was broken"
        else:
            assert all(line.endswith("/") for line in drawn[first : at - 1])
        assert drawn[at].startswith("  " + reason)
        at += 1
        while at < len(drawn) and drawn[at].startswith("  "):  # the rest of a long reason
            at += 1
    assert at == len(drawn)


async def test_at_80x24_the_long_path_wraps_at_a_slash_and_the_title_takes_two_lines(
    in_use: PyshelfApp,
) -> None:
    drawn, title_height = await _second_question(in_use, (80, 24))
    assert title_height == 2
    assert any(line.endswith("churn-models/") for line in drawn)


async def test_the_uninstall_dialog_uses_the_tables_installed_figure_and_its_split(
    world: World, make_app: AppMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The table's Installed figure heads the install, its unpacked copy (part of Cached)
    follows as detail, and the two add up to what the uninstall frees."""
    monkeypatch.chdir(tmp_path)
    assert world.cli("install", "3.12.7")[0] == 0
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: app.main.ledger is not None)
        await highlight(pilot, CPYTHON_312)
        installed = cell(app, CPYTHON_312, "installed")
        copy = entry(app, CPYTHON_312).unpacked_size
        install_size = entry(app, CPYTHON_312).install_size
        assert copy and install_size
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanConfirmScreen))
        screen = app.screen
        assert isinstance(screen, PlanConfirmScreen)
        listing = plain(screen.listing())
        assert f"Installed {installed}" in listing
        assert f"its unpacked copy goes with the uninstall: {human_size(copy)}" in listing
        assert screen.plan.freed == install_size + copy
        assert f"frees {human_size(install_size + copy)}" in plain(screen.total())

"""The builds view's title line: Header's line, icon and clicks, drawn by one widget."""

from __future__ import annotations

from textual.command import CommandPalette

from tests.app.conftest import AppMaker, loaded, wait_for
from tui.app.builds.title_bar import PALETTE_TIP, TitleBar


async def test_the_title_bar_shows_the_view_and_its_icon_opens_the_palette(
    make_app: AppMaker,
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        bar = app.main.query_one(TitleBar)
        line = str(bar.render())
        assert line.startswith(" ≡ ") and len(line) == 120
        assert f"pyshelf — {app.main.sub_title}" in line
        app.main.sub_title = "another view"
        await pilot.pause()
        assert "pyshelf — another view" in str(bar.render())

        await pilot.hover(TitleBar, offset=(1, 0))
        assert bar.icon_hover and bar.tooltip == PALETTE_TIP
        await pilot.hover(TitleBar, offset=(60, 0))
        assert not bar.icon_hover and bar.tooltip is None

        await pilot.click(TitleBar, offset=(60, 0))  # elsewhere: taller, and back
        await pilot.pause()
        assert bar.size.height == 3
        await pilot.click(TitleBar, offset=(60, 1))
        await pilot.pause()
        assert bar.size.height == 1

        await pilot.click(TitleBar, offset=(1, 0))
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))

"""j k g G ctrl+d ctrl+u move in every view and every list of a dialog, as in lazygit and k9s:
the builds table, the job queue, the disk-usage view, the prune menu, the help page and a
removal plan's listing. Each test presses every one of them and checks where it landed."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import ListView, OptionList

from tests.app import scenes
from tests.app.conftest import loaded, wait_for
from tests.app.test_cleanup import open_view
from tui.app.app import PyshelfApp
from tui.app.dialogs.plan_confirm import PlanConfirmScreen
from tui.app.disk.prune_menu import PruneScreen
from tui.app.disk.rows import group_id
from tui.app.help.screen import HelpScreen
from tui.app.messages import JobUpdated
from tui.engine.usage.inventory import Owner


async def moves(pilot: Pilot, where: Callable[[], int], last: int, page: int) -> None:
    """Press each movement key from the top and check ``where()`` after it: ``last`` is the
    last position, ``page`` how far ctrl+d goes from the top (at most to the last)."""
    assert last >= 2, "too few rows to tell the keys apart"

    async def press(key: str, expected: int) -> None:
        await pilot.press(key)
        await wait_for(pilot, lambda: where() == expected, timeout=5)

    await press("g", 0)
    await press("j", 1)
    await press("j", 2)
    await press("k", 1)
    await press("G", last)
    await press("k", last - 1)
    await press("g", 0)
    await press("ctrl+d", min(last, page))
    await press("ctrl+u", 0)


async def test_in_the_builds_table(builds: PyshelfApp) -> None:
    async with builds.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        table = builds.main.table
        await moves(pilot, lambda: table.cursor_row, table.row_count - 1, table.row_count - 1)


async def test_in_the_job_queue(builds: PyshelfApp) -> None:
    async with builds.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("Q")  # it takes the focus
        sizes = {e.key: e.download_size or 0 for e in builds.main.all_entries}
        for event in scenes.jobs_in_flight(sizes):
            builds.main.post_message(JobUpdated(event))
        jobs = builds.main.queue_panel.query_one(ListView)
        await wait_for(pilot, lambda: len(jobs.children) == 4)
        assert builds.focused is jobs
        await moves(pilot, lambda: jobs.index or 0, 3, 3)


async def test_in_the_disk_view_and_g_no_longer_marks(disk: PyshelfApp) -> None:
    async with disk.run_test(size=(80, 24)) as pilot:
        screen = await open_view(pilot)
        table = screen.table
        last = table.row_count - 1
        page = table.scrollable_content_region.height - 1  # rows under the header, less one
        await moves(pilot, lambda: table.cursor_row, last, page)
        assert not table.marked  # g went to the top, it marked nothing
        table.move_cursor(row=table.get_row_index(group_id(Owner.PYENV)))
        await pilot.press("a")  # a marks the group now
        await wait_for(pilot, lambda: len(table.marked) == len(table.groups[Owner.PYENV]))


async def test_in_the_prune_menu_and_its_number_keys(disk: PyshelfApp) -> None:
    async with disk.run_test(size=(80, 24)) as pilot:
        screen = await open_view(pilot)
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(disk.screen, PruneScreen))
        presets = disk.screen.query_one(OptionList)
        await moves(pilot, lambda: presets.highlighted or 0, 3, 3)
        # The numbers the menu shows pick their preset: 2 previews the uninstalled archives.
        await pilot.press("2")
        await wait_for(pilot, lambda: isinstance(disk.screen, PlanConfirmScreen))
        assert "Prune: evict archives of versions not installed" in disk.screen.title_text  # type: ignore[attr-defined]
        await pilot.press("n")
        await wait_for(pilot, lambda: disk.screen is screen)
        # Digits typed into the menu's number fields stay there.
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(disk.screen, PruneScreen))
        menu: PruneScreen = disk.screen  # type: ignore[assignment]
        await pilot.press("tab", "end", "backspace", "backspace", "4", "5")
        await pilot.pause()
        assert menu.days_text == "45" and disk.screen is menu


async def test_on_the_help_page(builds: PyshelfApp) -> None:
    async with builds.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(builds.screen, HelpScreen))
        await pilot.pause()
        page = builds.screen.query_one("#help-scroll")
        last = page.max_scroll_y
        height = page.scrollable_content_region.height
        await moves(pilot, lambda: round(page.scroll_y), last, height)


async def test_in_a_removal_plans_listing(disk: PyshelfApp) -> None:
    async with disk.run_test(size=(80, 24)) as pilot:
        screen = await open_view(pilot)
        table = screen.table
        for owner in (Owner.CACHE, Owner.PYENV):
            table.move_cursor(row=table.get_row_index(group_id(owner)))
            await pilot.press("space")
        await wait_for(pilot, lambda: screen.removals.plan is not None)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(disk.screen, PlanConfirmScreen))
        await pilot.pause()
        dialog = disk.screen
        listing = dialog.query_one("#confirm-scroll")
        assert dialog.focused is not None and dialog.focused.id == "confirm-no"  # stays there
        last = listing.max_scroll_y
        page = listing.scrollable_content_region.height
        await moves(pilot, lambda: round(listing.scroll_y), last, page)
        assert dialog.focused.id == "confirm-no"


async def test_esc_and_q_in_the_disk_views_queue_close_it_not_the_view(disk: PyshelfApp) -> None:
    async with disk.run_test(size=(80, 24)) as pilot:
        screen = await open_view(pilot)
        sizes = {e.key: e.download_size or 0 for e in disk.main.all_entries}
        panel = screen.queue_panel
        for key in ("escape", "q"):
            for event in scenes.jobs_in_flight(sizes)[:2]:
                screen.post_message(JobUpdated(event))
            await wait_for(pilot, lambda: panel.display)
            panel.query_one(ListView).focus()
            await pilot.pause()
            await pilot.press(key)
            await wait_for(pilot, lambda: not panel.display)
            assert disk.screen is screen and disk.focused is screen.table

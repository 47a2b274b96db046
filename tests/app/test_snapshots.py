"""Pictures of the app (pytest-textual-snapshot); regenerate with ``--snapshot-update``.

Each view at 120x36 and at 80x24, the smallest terminal the layout is made for: the builds,
the queue, a confirmation and help here, the disk-usage view in test_cleanup.py.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tests.app import scenes
from tui.app.app import PyshelfApp
from tui.app.dialogs.plan_confirm import BreakConfirmScreen, PlanConfirmScreen
from tui.app.messages import JobUpdated


@pytest.fixture
def app(builds: PyshelfApp) -> PyshelfApp:
    return builds


async def ready(pilot: Pilot) -> None:
    app: PyshelfApp = pilot.app  # type: ignore[assignment]
    while not app.main.all_entries:
        await pilot.pause(0.01)
    await app.workers.wait_for_complete()
    await pilot.pause()


async def select(pilot: Pilot, key: str) -> None:
    app: PyshelfApp = pilot.app  # type: ignore[assignment]
    while app.main.table.highlighted is None or app.main.table.highlighted.key != key:
        await pilot.press("down")


def test_main_view(snap_compare, app: PyshelfApp) -> None:
    assert snap_compare(app, terminal_size=(120, 36), run_before=ready)


def test_main_view_at_80x24(snap_compare, app: PyshelfApp) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


def test_queue_with_jobs_in_progress(snap_compare, app: PyshelfApp) -> None:
    async def run_before(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press("Q")  # jobs never open the queue by themselves
        sizes = {e.key: e.download_size or 0 for e in app.main.all_entries}
        for event in scenes.jobs_in_flight(sizes):
            app.main.post_message(JobUpdated(event))
        await pilot.pause(0.4)  # past the table's progress batching
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.clear_notifications()

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


async def ask(pilot: Pilot) -> None:
    """u on 3.12.7: the first question."""
    await ready(pilot)
    await select(pilot, "cpython-3.12.7-linux-x86_64-gnu")
    await pilot.press("u")
    while not isinstance(pilot.app.screen, PlanConfirmScreen):  # planned in a worker
        await pilot.pause(0.01)
    await pilot.pause()


def test_confirm_uninstall(snap_compare, app: PyshelfApp) -> None:
    assert snap_compare(app, terminal_size=(120, 36), run_before=ask)


async def ask_twice(pilot: Pilot) -> None:
    """u on 3.12.7, yes to the first question: the second names the users."""
    await ask(pilot)
    await pilot.press("y")
    while not isinstance(pilot.app.screen, BreakConfirmScreen):
        await pilot.pause(0.01)
    await pilot.pause()


def test_confirm_in_use(snap_compare, in_use: PyshelfApp) -> None:
    """Each user's path on its own line (wrapped after a / only when longer than the line),
    how it uses 3.12.7 under it, and the whole question."""
    assert snap_compare(in_use, terminal_size=(120, 36), run_before=ask_twice)


def test_confirm_in_use_at_80x24(snap_compare, in_use: PyshelfApp) -> None:
    assert snap_compare(in_use, terminal_size=(80, 24), run_before=ask_twice)


def test_help(snap_compare, app: PyshelfApp) -> None:
    async def run_before(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press("f1")

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


# The same views at 80x24.


def test_help_at_80x24(snap_compare, app: PyshelfApp) -> None:
    async def run_before(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press("f1")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_queue_and_details_at_80x24(snap_compare, app: PyshelfApp) -> None:
    async def run_before(pilot: Pilot) -> None:
        await ready(pilot)
        await select(pilot, "cpython-3.12.7-linux-x86_64-gnu")
        await pilot.press("d", "Q")
        sizes = {e.key: e.download_size or 0 for e in app.main.all_entries}
        for event in scenes.jobs_in_flight(sizes)[:2]:
            app.main.post_message(JobUpdated(event))
        await pilot.pause(0.4)
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.clear_notifications()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_confirm_uninstall_at_80x24(snap_compare, app: PyshelfApp) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=ask)

"""The disk-usage view (D) when the engine fails: it says so in one line and stays usable,
never "listing…" for ever."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.app import App

from tests.app.conftest import AppMaker, loaded, wait_for
from tests.conftest import World
from tests.test_managers import clear_manager_env
from tests.test_usage import Machine, stock
from tui.app.app import PyshelfApp
from tui.app.disk.prune_menu import PruneScreen
from tui.app.disk.scope import Scope
from tui.app.disk.screen import CleanupScreen
from tui.engine.jobs import JobQueue
from tui.engine.shelf import Shelf
from tui.engine.usage.inventory import Inventory, Kind, Owner, take_inventory

BROKEN_CATALOGS = {"not JSON": "{not json", "a list, not an object": "[1, 2]"}


@pytest.fixture(autouse=True)
def _no_manager_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, isolated_home: Path
) -> Iterator[None]:
    clear_manager_env(monkeypatch)  # no real pyenv or rye interpreters in the view
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield


@pytest.fixture
def machine(world: World, isolated_home: Path) -> Machine:
    return stock(world, isolated_home)


class ViewAlone(App[None]):
    """The view with no builds view before it, so it is the first to load the catalog."""

    def __init__(self, shelf: Shelf, scope: Scope) -> None:
        super().__init__()
        self.shelf, self.scope = shelf, scope
        self.queue = JobQueue(shelf)

    def on_mount(self) -> None:
        self.push_screen(CleanupScreen(self.shelf, self.queue, self.scope))

    def on_unmount(self) -> None:
        self.queue.close(cancel=True)


def summary(screen: CleanupScreen) -> str:
    return str(screen.summary.render())


def notes(app: App[None]) -> str:
    return " | ".join(n.message for n in app._notifications)


async def open_view(pilot) -> CleanupScreen:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CleanupScreen))
    return pilot.app.screen


@pytest.mark.parametrize("text", BROKEN_CATALOGS.values(), ids=BROKEN_CATALOGS.keys())
async def test_a_broken_catalog_still_lists_what_is_on_disk(machine: Machine, text: str) -> None:
    machine.world.catalog_path.write_text(text)
    shelf = machine.world.shelf()  # reads the broken catalog on first use
    app = ViewAlone(shelf, Scope(system_dirs=[machine.sysbin], cwd=Path.cwd()))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_view(pilot)
        await wait_for(pilot, lambda: screen.inventory is not None and screen.progress is None)
        assert screen.inventory is not None
        line = summary(screen)
        assert "listing" not in line and "total" in line
        assert "catalog failed: only the cache and installs" in line
        assert "catalog failed" in notes(app)
        # Installs and archives are still there, without the catalog's names for them.
        kinds = {(i.owner, i.kind) for i in screen.inventory.items}
        assert (Owner.UV, Kind.INSTALL) in kinds and (Owner.CACHE, Kind.ARCHIVE) in kinds
        await pilot.press("down", "space")  # marks work
        assert screen.table.marked


@pytest.mark.parametrize("text", BROKEN_CATALOGS.values(), ids=BROKEN_CATALOGS.keys())
async def test_the_app_with_a_broken_catalog_opens_the_view(
    machine: Machine, make_app: AppMaker, text: str
) -> None:
    machine.world.catalog_path.write_text(text)
    app = make_app(machine.world.shelf(), scope=Scope(system_dirs=[machine.sysbin], cwd=Path.cwd()))
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert "catalog failed" in notes(app)
        await pilot.press("D")
        screen = await open_view(pilot)
        await wait_for(pilot, lambda: screen.inventory is not None and screen.progress is None)
        assert "total" in summary(screen)


async def test_any_error_from_the_inventory_is_one_line_and_the_view_stays_usable(
    machine: Machine, make_app: AppMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the engine raises (here a ValueError, as a bug would), the view says what
    failed instead of listing for ever, and Ctrl+R and Esc still work."""
    calls = []
    failing = True

    def flaky(shelf: Shelf, **kwargs: object) -> Inventory:
        calls.append(shelf)
        if failing:
            raise ValueError("bad\nthing")
        return take_inventory(shelf, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("tui.app.disk.screen.take_inventory", flaky)
    app: PyshelfApp = make_app(
        machine.shelf, scope=Scope(system_dirs=[machine.sysbin], cwd=Path.cwd())
    )
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("D")
        screen = await open_view(pilot)
        await wait_for(pilot, lambda: "cannot list" in summary(screen))
        line = summary(screen)
        assert "\n" not in line and "listing" not in line
        assert line.startswith("cannot list what is on disk: ") and "ValueError: bad thing" in line
        assert "Ctrl+R tries again, Esc goes back" in line
        assert "cannot list what is on disk" in notes(app)

        await pilot.press("ctrl+r")  # tries again, and fails again the same way
        await wait_for(pilot, lambda: len(calls) == 2 and screen.error is not None)

        failing = False  # the engine works again: a rescan lists
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.inventory is not None and screen.error is None)
        await wait_for(pilot, lambda: "total" in summary(screen))

        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, CleanupScreen))


@pytest.mark.parametrize(
    ("field", "text", "says"),
    [
        (1, "nan", "not a number of days: 'nan'"),
        (1, "inf", "not a number of days: 'inf'"),
        (2, "nan", "not a size: 'nan'"),
        (2, "9" * 30, "size too large"),
    ],
)
async def test_the_prune_menu_refuses_nonsense_numbers(
    machine: Machine, make_app: AppMaker, field: int, text: str, says: str
) -> None:
    app = make_app(machine.shelf, scope=Scope(system_dirs=[machine.sysbin], cwd=Path.cwd()))
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("D")
        screen = await open_view(pilot)
        await wait_for(pilot, lambda: screen.inventory is not None)
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PruneScreen))
        await pilot.press(*["tab"] * field, "ctrl+a", "ctrl+k", *text, "enter")
        await wait_for(pilot, lambda: says in notes(app))
        assert isinstance(app.screen, PruneScreen)  # still asking; nothing was planned

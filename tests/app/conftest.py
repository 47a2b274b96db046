"""Fixtures for the app: a PyshelfApp over the loopback world, and helpers to wait on it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.conftest import World
from tui.app.app import PyshelfApp
from tui.app.builds import screen as main_screen
from tui.app.disk.scope import Scope
from tui.app.present import row_id
from tui.engine.jobs import JobQueue
from tui.engine.shelf import Entry, Shelf

CPYTHON_312 = "cpython-3.12.7-linux-x86_64-gnu"


class AppMaker:
    """Builds apps over one world and closes their queues afterwards."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.queues: list[JobQueue] = []

    def __call__(
        self,
        shelf: Shelf | None = None,
        *,
        scope: Scope | None = None,
        config: Path | None = None,
        **overrides: object,
    ) -> PyshelfApp:
        shelf = shelf or self.world.shelf(**overrides)
        queue = JobQueue(shelf)
        self.queues.append(queue)
        return PyshelfApp(shelf, queue, scope=scope, config=config)

    def close(self) -> None:
        for queue in self.queues:
            queue.close(cancel=True)


@pytest.fixture(autouse=True)
def uv_sees_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Most tests' worlds do not export UV_PYTHON_CACHE_DIR; the notice that uv cannot see
    the cache has tests of its own (test_upgrade_app.py), and stays out of the others."""
    monkeypatch.setattr(main_screen, "uv_cache_notice", lambda settings: None)


def scene(name: str, make: str, doc: str) -> object:
    """The fixture ``name``: the app ``tests.app.scenes.<make>`` builds (a fixed shelf, the
    same pictures on every machine), without the machine's own pyenv and friends."""

    def fixture(
        tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[PyshelfApp]:
        from tests.app import scenes
        from tests.test_managers import clear_manager_env

        clear_manager_env(monkeypatch)
        app = getattr(scenes, make)(tmp_path, isolated_home)
        yield app
        app.queue.close()

    fixture.__doc__ = doc
    return pytest.fixture(fixture, name=name)


builds = scene("builds", "make_app", "The builds view over a fixed shelf.")
disk = scene(
    "disk", "cleanup_app", "The disk view, with other managers' interpreters and environments."
)
in_use = scene(
    "in_use", "in_use_app", "The fixed shelf, 3.12.7 used by two environments and a pin."
)


@pytest.fixture
def make_app(world: World) -> Iterator[AppMaker]:
    maker = AppMaker(world)
    yield maker
    maker.close()


async def wait_for(pilot: Pilot, predicate: Callable[[], object], timeout: float = 15.0) -> None:
    """Let the app run until ``predicate()`` holds (jobs run on threads the pilot cannot see)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {predicate}")
        await pilot.pause(0.02)


async def settle(pilot: Pilot) -> None:
    """Every job finished, its messages handled and the reload it caused done."""
    app: PyshelfApp = pilot.app  # type: ignore[assignment]
    await asyncio.to_thread(app.queue.wait, None, 30)
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


async def loaded(pilot: Pilot) -> None:
    app: PyshelfApp = pilot.app  # type: ignore[assignment]
    await wait_for(pilot, lambda: app.main.all_entries)
    await app.workers.wait_for_complete()
    await pilot.pause()


def entry(app: PyshelfApp, key: str) -> Entry:
    return next(e for e in app.main.table.entries.values() if e.key == key)


async def highlight(pilot: Pilot, key: str) -> None:
    """Put the builds table's cursor on ``key``'s row."""
    table = pilot.app.main.table  # type: ignore[attr-defined]
    table.move_cursor(row=table.get_row_index(row_id(entry(pilot.app, key))))  # type: ignore[arg-type]
    await pilot.pause()


def cell(app: PyshelfApp, key: str, column: str) -> str:
    return app.main.table.get_cell(row_id(entry(app, key)), column).plain


def messages(app: PyshelfApp) -> list[str]:
    """The notifications shown so far, newest last."""
    return [n.message for n in app._notifications]

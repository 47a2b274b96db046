"""The disk view's F (issue 21): broken environments brought back as `pyshelf envs --fix`
does — the build reinstalled from the cache at once, a repoint only once it is answered."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.app.conftest import AppMaker, loaded, messages, settle, wait_for
from tests.conftest import World
from tests.test_managers import make_venv
from tui.app.app import PyshelfApp
from tui.app.dialogs.confirm import ConfirmScreen
from tui.app.disk.scope import Scope
from tui.app.disk.screen import CleanupScreen
from tui.engine.jobs import JobKind, Phase

OLD = "cpython-3.12.6-linux-x86_64-gnu"
NEW = "cpython-3.12.7-linux-x86_64-gnu"


@pytest.fixture
def broken(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An environment made from 3.12.6's own path, which was then removed anyway; 3.12.7
    stays installed."""
    work = tmp_path / "work"
    monkeypatch.chdir(work.parent)
    installs = world.root / "installs"
    assert world.cli("install", "3.12.6")[0] == 0
    assert world.cli("install", "3.12.7")[0] == 0
    python = installs / OLD / "bin" / "python3.12"
    env = make_venv(work / "env", installs / OLD / "bin", "3.12.6", executable=str(python))
    (env / "bin" / "python").symlink_to(python)
    code, _, err = world.cli("uninstall", "-yy", "3.12.6")
    assert code == 0, err
    return env


async def _press_fix(pilot: Pilot, app: PyshelfApp) -> CleanupScreen:
    await loaded(pilot)
    await pilot.press("D")
    await wait_for(pilot, lambda: isinstance(app.screen, CleanupScreen))
    await pilot.press("F")
    return app.screen  # type: ignore[return-value]


async def test_F_reinstalls_the_build_a_broken_environment_needs(
    world: World, make_app: AppMaker, broken: Path
) -> None:
    app = make_app(scope=Scope(cwd=broken.parent), offline=True)  # the archive is cached
    async with app.run_test(size=(120, 36)) as pilot:
        await _press_fix(pilot, app)
        await wait_for(pilot, lambda: (world.root / "installs" / OLD / "bin").is_dir(), timeout=30)
        await settle(pilot)
        (job,) = app.queue.jobs
        assert (job.kind, job.key, job.phase) == (JobKind.INSTALL, OLD, Phase.DONE)
        assert (broken / "bin" / "python").exists()
        assert not isinstance(app.screen, ConfirmScreen)  # a reinstall is not asked about


async def test_F_repoints_an_environment_whose_build_is_gone_once_answered(
    world: World, make_app: AppMaker, broken: Path
) -> None:
    assert world.cli("evict", "3.12.6")[0] == 0
    before = (broken / "pyvenv.cfg").read_text()
    app = make_app(scope=Scope(cwd=broken.parent), offline=True)  # nothing to download
    async with app.run_test(size=(120, 36)) as pilot:
        await _press_fix(pilot, app)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        ask: ConfirmScreen = app.screen  # type: ignore[assignment]
        assert ask.title_text == "Repoint 1 environment whose build is gone?"
        assert NEW in ask.note
        await pilot.press("n")
        await settle(pilot)
        assert (broken / "pyvenv.cfg").read_text() == before and not app.queue.jobs

        await pilot.press("F")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: all(j.finished for j in app.queue.jobs) and app.queue.jobs)
        await settle(pilot)
        new_bin = world.root / "installs" / NEW / "bin"
        assert f"home = {new_bin}\n" in (broken / "pyvenv.cfg").read_text()
        assert (broken / "bin" / "python").resolve() == (new_bin / "python3.12").resolve()
        assert [j.phase for j in app.queue.jobs] == [Phase.DONE]


async def test_F_with_nothing_broken_says_so(
    world: World, make_app: AppMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(scope=Scope(cwd=tmp_path))
    async with app.run_test(size=(120, 36)) as pilot:
        await _press_fix(pilot, app)
        await wait_for(pilot, lambda: any("no broken environments" in m for m in messages(app)))

"""The disk view's key for broken environments: as ``pyshelf envs --fix`` does it, each step
a job in the queue.

Environments are found and judged off the UI thread (``tui.engine.usage.env_states``); a
dangling minor link is moved and the build an environment needs is reinstalled (from the
cache when it is there) at once, and an environment whose build is gone is repointed to the
newest install of its minor only once the dialog is answered yes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from textual.app import App

from tui.app.dialogs.confirm import ConfirmScreen
from tui.app.present import show_path
from tui.engine.jobs import Job, JobKind, JobQueue, Phase
from tui.engine.shelf import Entry, Shelf
from tui.engine.usage.env_states import REINSTALL, RELINK, REPOINT, EnvState, survey
from tui.engine.usage.env_states import repoint_broken as _repoint_broken
from tui.engine.usage.venvs import default_roots, find_users


def _relink(shelf: Shelf, job: Job) -> str:
    job.set_phase(Phase.LINKING)
    warnings = shelf.installs.repair()
    return "; ".join(warnings) or "minor links point at the patches left"


def _repoint(state: EnvState, job: Job) -> str:
    job.set_phase(Phase.LINKING)
    _repoint_broken(state)
    assert state.repoint_to is not None
    return f"runs {state.repoint_to.key}"


def _on_ui(app: App, callback: Callable[[], object]) -> None:
    """``callback`` on the UI thread, from any thread (a job that had already ended calls
    back on it); nothing once the app has gone."""
    try:
        app.call_from_thread(callback)
    except RuntimeError:  # on the UI thread already, or the app is gone
        if app.is_running:
            callback()


def fix_envs(
    app: App, shelf: Shelf, queue: JobQueue, cwd: Path, done: Callable[[], object]
) -> None:
    """Find the broken environments and bring them back; ``done`` runs (on the UI thread)
    once the jobs it started have ended. Call it on a worker thread."""
    roots = default_roots(configured=shelf.settings.venv_dirs, cwd=cwd)
    venvs = find_users(roots)[0]
    broken = [s for s in survey(shelf, venvs) if s.broken]
    if not broken:
        app.call_from_thread(app.notify, f"no broken environments among the {len(venvs)} found")
        return
    jobs: list[Job] = []
    if any(s.fix == RELINK for s in broken):
        jobs.append(queue.submit_task(JobKind.REPOINT, "minor links", partial(_relink, shelf)))
    reinstall: list[Entry] = []
    for state in broken:
        if state.fix == REINSTALL and state.bring_back not in reinstall:
            assert state.bring_back is not None
            reinstall.append(state.bring_back)
    jobs += [queue.submit(JobKind.INSTALL, entry) for entry in reinstall]
    if stuck := [s for s in broken if s.fix is None]:
        names = ", ".join(show_path(s.venv.path) for s in stuck)
        note = f"cannot bring back {names}: nothing of its interpreter is cached or listed"
        app.call_from_thread(app.notify, note, severity="warning", timeout=8)
    if repoint := [s for s in broken if s.fix == REPOINT]:
        app.call_from_thread(_ask, app, queue, repoint, done)
    queue.wait(jobs)
    app.call_from_thread(done)


def _ask(app: App, queue: JobQueue, states: list[EnvState], done: Callable[[], object]) -> None:
    n = len(states)
    moves = "; ".join(
        f"{show_path(s.venv.path)} → {s.repoint_to.key}" for s in states if s.repoint_to
    )
    title = f"Repoint {n} environment{'s' if n > 1 else ''} whose build is gone?"
    note = f"{moves} (the newest install of the same minor; pyvenv.cfg and links only)"

    def answered(yes: bool | None) -> None:
        if not yes:
            return
        steps = [
            queue.submit_task(JobKind.REPOINT, show_path(s.venv.path), partial(_repoint, s))
            for s in states
        ]
        for step in steps:
            step.when_ended(partial(_on_ui, app, done))

    screen = ConfirmScreen(title, [], verb="Repoint", note=note)
    app.push_screen(screen, answered)

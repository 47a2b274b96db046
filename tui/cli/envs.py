"""``pyshelf envs``: the environments pyshelf knows about, and bringing broken ones back.

The environments are those the used-by index finds (``tui.engine.usage.venvs``); their state
and fixes come from ``tui.engine.usage.env_states``. Loaded only for this command.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tui.cli.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED
from tui.cli.prompt import ask, interactive
from tui.cli.reporter import Interrupted, run_jobs
from tui.engine.errors import PyshelfError, describe_error
from tui.engine.jobs import JobKind
from tui.engine.shelf import Entry, Shelf
from tui.engine.usage.env_states import (
    REINSTALL,
    RELINK,
    REPOINT,
    EnvState,
    is_broken,
    repoint_broken,
    survey,
)
from tui.engine.usage.venvs import Venv, default_roots, find_users, load_venv


def _row(state: EnvState) -> dict[str, object]:
    venv, entry, target = state.venv, state.bring_back, state.repoint_to
    return {
        "path": str(venv.path),
        "state": "broken" if state.broken else "ok",
        "home": venv.home,
        "version": venv.version,
        "interpreter": state.interpreter,
        "via_minor_link": state.via_link,
        "needs": state.needs,
        "brings_back": entry.key if entry else None,
        "build": (entry.build.build or None) if entry else None,
        "offline": state.offline,
        "repoint_to": target.key if target else None,
        "fix": state.fix,
    }


def _fix_text(state: EnvState) -> str:
    fix, entry, target = state.fix, state.bring_back, state.repoint_to
    if fix == REINSTALL and entry is not None:
        how = "from the cache" if state.offline else "downloads it"
        build = f" build {entry.build.build}" if entry.build.build else ""
        return f"reinstall {entry.key}{build} ({how})"
    if fix == RELINK and target is not None:
        return f"move the minor link to {target.key}"
    if fix == REPOINT and target is not None:
        return f"repoint to {target.key} (asks first)"
    if not state.broken:
        return "-"
    if state.needs is None:
        return "none: its interpreter is not in pyshelf's install dir"
    return "none: no build of it is cached or listed, and no install of its minor is left"


def _print_table(states: list[EnvState]) -> None:
    rows = [("ENVIRONMENT", "STATE", "INTERPRETER", "FIX")]
    for s in states:
        runs_on = s.interpreter or s.venv.home or "?"
        state = "ok" if not s.broken else f"broken (needs {s.needs})" if s.needs else "broken"
        rows.append((str(s.venv.path), state, runs_on, _fix_text(s)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _venvs(shelf: Shelf) -> list[Venv]:
    roots = default_roots(configured=shelf.settings.venv_dirs, cwd=Path.cwd())
    return find_users(roots)[0]


def cmd_envs(shelf: Shelf, args: argparse.Namespace) -> int:
    venvs = _venvs(shelf)
    if args.fix:
        return _fix(shelf, venvs, args.yes)
    states = survey(shelf, venvs)
    if args.json:
        json.dump([_row(s) for s in states], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not states:
        print("no environments found; --venv-dir (or PYSHELF_VENV_DIRS) adds places to look",
              file=sys.stderr)  # fmt: skip
        return 0
    _print_table(states)
    return 0


def _say(line: str) -> None:
    print(line, file=sys.stderr)


def _fix(shelf: Shelf, venvs: list[Venv], yes: int) -> int:
    """Bring every broken environment back; 0 when none is left broken."""
    for warning in shelf.installs.repair():  # moves minor links off removed patches (relink)
        _say(f"pyshelf: warning: {warning}")
    broken = [s for s in survey(shelf, venvs) if s.broken]
    if not broken:
        _say(f"no broken environments among the {len(venvs)} found")
        return 0
    reinstall: list[Entry] = []
    for state in broken:
        if state.fix == REINSTALL and state.bring_back not in reinstall:
            assert state.bring_back is not None
            reinstall.append(state.bring_back)
    if reinstall:
        try:
            run_jobs(shelf, JobKind.INSTALL, reinstall)
        except Interrupted:
            return EXIT_INTERRUPTED
    repoint = [s for s in broken if s.fix == REPOINT]
    if repoint and _agree_to_repoint(repoint, yes):
        for state in repoint:
            try:
                repoint_broken(state)
            except (PyshelfError, OSError) as exc:  # each on its own; the rest go on
                _say(f"pyshelf: error: cannot repoint {state.venv.path}: {describe_error(exc)}")
            else:
                assert state.repoint_to is not None
                _say(f"repointed {state.venv.path} to {state.repoint_to.key}")
    return _report(broken)


def _agree_to_repoint(states: list[EnvState], yes: int) -> bool:
    """--yes answers for scripts; a terminal is asked; without either nothing is repointed."""
    names = ", ".join(f"{s.venv.path} to {s.repoint_to.key}" for s in states if s.repoint_to)
    if yes:
        return True
    if not interactive():
        _say(
            f"pyshelf: error: the build these need is gone; repointing {names} needs --yes "
            "(or a terminal to ask on)"
        )
        return False
    return ask(f"the build they need is gone: repoint {names}?")


def _report(broken: list[EnvState]) -> int:
    """One line per environment that was broken: back, or still broken and why."""
    left = 0
    for state in broken:
        venv = load_venv(state.venv.path) or state.venv
        if not is_broken(venv):
            _say(f"brought back {venv.path}")
            continue
        left += 1
        why = "not repointed" if state.fix == REPOINT else _fix_text(state)
        _say(f"pyshelf: error: {venv.path} is still broken ({why})")
    return EXIT_FAILED if left else 0

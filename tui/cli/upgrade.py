"""``pyshelf upgrade``: the newest patch of each installed minor, and environments that follow.

Loaded only for this command, like the clean-up commands.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui.cli.cleanup import ask, interactive, remove_builds
from tui.cli.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED
from tui.cli.reporter import Interrupted, run_jobs
from tui.engine.errors import PyshelfError, describe_error
from tui.engine.jobs import JobKind
from tui.engine.shelf import Shelf
from tui.engine.usage.upgrade import Upgrade, find_upgrades, repoint, sort_users
from tui.engine.usage.venvs import default_roots, find_users


def _plan(upgrades: list[Upgrade]) -> None:
    for up in upgrades:
        if up.is_rebuild:
            print(f"{up.describe()}: install the rebuild in its place", file=sys.stderr)
            if up.via_link:
                n = len(up.via_link)
                print(f"  {n} environment(s) keep running it (same path)", file=sys.stderr)
            print(
                f"  the archive of build {up.old.build.build} stays cached for a way back "
                "(`pyshelf prune --evict-uninstalled` removes it)",
                file=sys.stderr,
            )
            continue
        print(f"{up.describe()}: install {up.new.key}", file=sys.stderr)
        if up.via_link:
            count = len(up.via_link)
            follow = "1 environment follows" if count == 1 else f"{count} environments follow"
            print(f"  {follow} the minor link", file=sys.stderr)
        for venv in up.pinned:
            print(f"  repoint {venv.path} (uses {up.old.key} itself)", file=sys.stderr)


def _plan_records(upgrades: list[Upgrade]) -> None:
    """``upgrade --dry-run --json``: one object per upgrade on stdout."""
    from tui.cli.json_lines import emit

    for up in upgrades:
        emit({
            "from": up.old.key, "to": up.new.key, "version": up.new.build.version,
            "cached": up.new.cached is not None,
            "follow": [str(v.path) for v in up.via_link],
            "repoint": [str(v.path) for v in up.pinned],
        })  # fmt: skip


def _agree(question: str, yes: int) -> bool:
    """--yes answers for scripts; a terminal is asked; anything else means no."""
    return yes > 0 or (interactive() and ask(question))


def cmd_upgrade(shelf: Shelf, args: argparse.Namespace) -> int:
    upgrades = find_upgrades(shelf.entries(), args.requests, offline=shelf.settings.offline)
    if not upgrades:
        offline = shelf.settings.offline
        print(
            "offline: no newer patch or build of an installed minor is cached"
            if offline
            else "every installed minor is on its newest patch and build",
            file=sys.stderr,
        )
        return 0
    roots = default_roots(configured=shelf.settings.venv_dirs, cwd=Path.cwd())
    venvs, _pins = find_users(roots)
    sort_users(upgrades, venvs, shelf.settings.install_dir)
    _plan(upgrades)
    if args.dry_run:
        if args.json:
            _plan_records(upgrades)
        return 0
    try:
        jobs = run_jobs(shelf, JobKind.INSTALL, [up.new for up in upgrades])
    except Interrupted:
        return EXIT_INTERRUPTED
    failed = False
    for up, job in zip(upgrades, jobs, strict=True):
        if up.new.installation is None and job.entry is not None:
            up.new = up.new._replace(installation=job.entry.installation)  # the new row
        if job.error or up.new.installation is None:
            failed = True
            continue
        if up.is_rebuild:  # in the old build's place: nothing to repoint or remove
            continue
        failed |= not _follow(up, args.yes)
        if _agree(f"uninstall {up.old.key}, now that {up.new.key} is installed?", args.yes):
            # The removal plan keeps it when anything still uses it (exit 1 says what).
            failed |= remove_builds(shelf, JobKind.UNINSTALL, [up.old], yes=1) != 0
    return EXIT_FAILED if failed else 0


def _follow(up: Upgrade, yes: int) -> bool:
    """Repoint the environments pinned to the old patch; False when one could not be."""
    if not up.pinned:
        return True
    assert up.old.installation is not None and up.new.installation is not None
    names = ", ".join(str(v.path) for v in up.pinned)
    if not _agree(f"repoint {names} to {up.new.key}?", yes):
        print(f"left on {up.old.key}: {names}", file=sys.stderr)
        return True
    ok = True
    old, new = up.old.installation, up.new.installation
    for venv in up.pinned:
        try:
            repoint(venv, old.path, new.path, new.parts.executable_name)
        except (PyshelfError, OSError) as exc:  # each environment on its own; the rest go on
            why = describe_error(exc)
            print(f"pyshelf: error: cannot repoint {venv.path}: {why}", file=sys.stderr)
            ok = False
        else:
            print(f"repointed {venv.path} to {up.new.key}", file=sys.stderr)
    if ok:
        up.pinned.clear()
    return ok

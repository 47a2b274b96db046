"""``pyshelf upgrade``: the newest patch of each installed minor, and environments that follow.

Loaded only for this command, like the clean-up commands.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

from tui.cli.answers import Answers
from tui.cli.cleanup import _print_plan
from tui.cli.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED
from tui.cli.reporter import Interrupted, run_reported
from tui.engine.flows.questions import Question, Topic, drive
from tui.engine.flows.upgrade import upgrade
from tui.engine.shelf import Shelf
from tui.engine.usage.upgrade import Upgrade, find_upgrades


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

    def show(question: Question) -> None:
        if question.topic == Topic.UPGRADE:
            _plan(list(question.upgrades))
            if args.dry_run and args.json:
                _plan_records(list(question.upgrades))
        elif question.topic == Topic.UNINSTALL_OLD and question.plan is not None:
            _print_plan(question.plan, dry_run=False, file=sys.stderr)

    # The command is the yes to its plan (--dry-run the no); the steps after it ask.
    if args.dry_run:  # the plan is shown, and nothing is asked
        answers = Answers(0, prompts=False, show=show)
    else:
        answers = Answers(args.yes, implied={Topic.UPGRADE}, show=show)
    flow = partial(upgrade, shelf, upgrades=upgrades, cwd=Path.cwd())
    try:
        done = run_reported(shelf, lambda queue: drive(flow(queue), answers), answers=answers)
    except Interrupted:
        return EXIT_INTERRUPTED
    # --yes asked for the old patches' removal too: one kept because it is in use is a failure.
    return EXIT_FAILED if done.failed or (done.kept and args.yes) else 0

"""``pyshelf prune``, ``uninstall``, ``evict`` and ``du``: disk usage and removal plans on the
command line.

Every removal here is a plan from ``tui.engine.usage.removal``, printed before it runs. Removing
interpreters that environments (or ``.python-version`` files) use needs ``--yes`` twice.
Loaded only for these commands, so the others start without the inventory code.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from tui.cli.answers import Answers
from tui.cli.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
from tui.cli.reporter import Interrupted, ProgressPrinter
from tui.engine.errors import PyshelfError
from tui.engine.flows.questions import Question, Stopped, Topic, drive
from tui.engine.flows.removal import nothing_to_remove, removal
from tui.engine.jobs import JobKind, JobQueue
from tui.engine.shelf import Entry, Shelf
from tui.engine.usage.inventory import Item, Kind, take_inventory
from tui.engine.usage.ledger import Ledger
from tui.engine.usage.prune import prune_plan
from tui.engine.usage.removal import (
    Action,
    Outcome,
    Plan,
    count_users,
    describe_users,
    how_used,
    plan_builds,
)
from tui.format import human_age, human_size

_NOT_BUILDS = (Kind.OTHER, Kind.LEFTOVER)


def _print_table(rows: Sequence[tuple[str, ...]], right: int, file: TextIO | None = None) -> None:
    """Indented columns; column ``right`` (sizes) aligned to the right."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (
            c.rjust(w) if n == right else c.ljust(w)
            for n, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        print("  " + "  ".join(cells).rstrip(), file=file)


def _print_plan(plan: Plan, dry_run: bool, file: TextIO | None = None) -> None:
    rows = [
        (str(step.action), r.item.name, human_size(r.freed), r.reason)
        for step in plan.steps for r in step.removals
    ]  # fmt: skip
    if rows:
        print("would remove:" if dry_run else "to remove:", file=file)
        _print_table(rows, right=2, file=file)
    for item, why in plan.refused:
        print(f"  skipped {item.name}: {why}", file=file)
    for user, item in plan.broken_envs:
        print(f"  breaks {user.path} ({how_used(user, item)})", file=file)
    for user, item in plan.switched_envs:
        print(
            f"  note: {user.path} moves from {item.name} to the newest remaining patch", file=file
        )
    print(f"{'would free' if dry_run else 'frees'} {human_size(plan.freed)}", file=file)


def remove_builds(
    shelf: Shelf, kind: JobKind, targets: list[Entry], *, yes: int, as_json: bool = False
) -> int:
    """``pyshelf uninstall`` / ``evict``: the plan on stderr, then its jobs.

    No prompt, so scripts keep working: a plan that breaks nothing runs as it always did.
    One that breaks environments is refused (exit 1, naming them) unless ``yes >= 2``.
    ``as_json``: one object per step and per refused item on stdout (tui.cli.json_lines).
    """
    from tui.cli import json_lines

    action = Action.UNINSTALL if kind == JobKind.UNINSTALL else Action.EVICT
    plan = plan_builds(shelf, action, targets, cwd=Path.cwd())
    if as_json:
        for item, why in plan.refused:
            json_lines.emit(json_lines.refused_item(action, item, why))
    if plan.empty:
        raise PyshelfError(nothing_to_remove(plan))
    _print_plan(plan, dry_run=False, file=sys.stderr)

    def refuse(question: Question) -> str:
        users = count_users(u for u, _ in plan.broken_envs)
        refusal = (
            f"{users} would break (named above), so nothing was removed; "
            "pass --yes twice (-yy) to remove the interpreters they use anyway"
        )
        if as_json:
            for step in plan.steps:
                json_lines.emit(json_lines.refused_step(step, refusal))
        return refusal

    # The command is the yes to its plan; only the second confirmation needs -yy.
    answers = Answers(yes, implied={Topic.REMOVE}, prompts=False, refusal=refuse, details=False)
    try:
        outcome = _carry_out(plan, shelf, answers, bars=True)
    except Interrupted:
        return EXIT_INTERRUPTED
    assert outcome is not None  # every question was answered yes, or refused
    if as_json:
        for result in outcome.results:
            json_lines.emit(json_lines.step_record(result))
    return EXIT_FAILED if outcome.failed or plan.refused else 0


def _carry_out(plan: Plan, shelf: Shelf, answers: Answers, *, bars: bool = False) -> Outcome | None:
    """The removal flow for ``plan`` on a queue of its own, answered by ``answers`` (``bars``:
    progress on stderr); None when an answer was no. Ctrl-C cancels the running step and the
    ones after it: Interrupted then, once what had begun has finished and what it freed is
    said."""
    queue = JobQueue(shelf)
    reporter = ProgressPrinter(sys.stderr) if bars else None
    if reporter is not None:
        queue.subscribe(reporter.on_event)
        answers.before_output = reporter.settle
    try:
        outcome = drive(removal(plan, shelf, queue), answers)
    except (Stopped, KeyboardInterrupt) as exc:
        queue.close()
        if reporter is not None:
            reporter.interrupted()
        else:
            print("pyshelf: interrupted", file=sys.stderr)
        stopped = exc.outcome if isinstance(exc, Stopped) else None
        if stopped is not None and stopped.freed:
            print(f"freed {human_size(stopped.freed)} before stopping", file=sys.stderr)
        raise Interrupted from None
    except BaseException:
        queue.close()
        raise
    queue.close(cancel=False)
    if reporter is not None:
        reporter.finish()
    return outcome


def cmd_prune(shelf: Shelf, args: argparse.Namespace) -> int:
    older, cap = args.older_than, args.max_cache  # checked by their argparse types
    if not (
        args.keep_newest_patch or args.evict_uninstalled or older is not None or cap is not None
    ):
        print(
            "pyshelf: error: choose what to prune: --keep-newest-patch, --evict-uninstalled, "
            "--older-than DAYS or --max-cache SIZE",
            file=sys.stderr,
        )
        return EXIT_USAGE
    inventory = take_inventory(shelf, foreign=False)  # presets touch only uv's and the cache
    inventory.scan_venvs(configured=shelf.settings.venv_dirs, cwd=Path.cwd())
    plan = prune_plan(
        inventory, keep_newest_patch=args.keep_newest_patch,
        evict_uninstalled=args.evict_uninstalled, older_than_days=older, max_cache=cap,
    )  # fmt: skip
    if plan.empty:
        print("nothing to prune")
        return 0
    _print_plan(plan, args.dry_run)
    if args.dry_run:
        return 0

    def refuse(question: Question) -> str:
        if question.topic == Topic.BREAK:
            broken = count_users(u for u, _ in plan.broken_envs)
            return (
                f"{broken} would break (named above); "
                "pass --yes twice (-yy) to remove the interpreters they use anyway"
            )
        return "not a terminal: pass --yes to remove, or --dry-run to preview"

    try:
        outcome = _carry_out(plan, shelf, Answers(args.yes, refusal=refuse))
    except Interrupted:
        return EXIT_INTERRUPTED
    if outcome is None:
        print("pyshelf: nothing removed", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_FAILED if outcome.failed else 0


def _why_kept(item: Item) -> str | None:
    """Why ``du --json`` calls an item not deletable: it never is, or something uses it
    (removing it breaks that, so it goes only when asked twice)."""
    if item.used_by and item.deletable:
        return f"in use by {describe_users(item.used_by)}"
    return item.reason


def cmd_du(shelf: Shelf, args: argparse.Namespace) -> int:
    inventory = take_inventory(shelf)
    inventory.scan_venvs(configured=shelf.settings.venv_dirs, cwd=Path.cwd())
    inventory.scan_sizes()
    groups = inventory.groups()
    if args.json:
        json.dump({
            "total": inventory.total(),
            "ledger": Ledger.of(shelf, inventory.items).summary(),
            "groups": [{
                "owner": str(owner), "total": inventory.total(owner),
                "items": [{
                    "name": i.name, "kind": str(i.kind), "version": i.version,
                    "path": str(i.path), "size": i.size, "shared": i.shared, "mtime": i.mtime,
                    "deletable": i.deletable and not i.used_by, "reason": _why_kept(i),
                    "used_by": [str(v.path) for v in i.used_by or ()],
                } for i in items],
            } for owner, items in groups.items()],
        }, sys.stdout, indent=2)  # fmt: skip
        sys.stdout.write("\n")
        return 0
    for owner, items in groups.items():
        print(f"{owner}  {human_size(inventory.total(owner))}")
        rows = []
        for i in items:
            notes = [f"in use by {describe_users(i.used_by)}"] if i.used_by else []
            if not i.deletable:
                notes.append(f"kept: {i.reason}")
            version = i.version or ("-" if i.kind in _NOT_BUILDS else "?")
            age = human_age(i.age()) if i.mtime > 0 else "-"  # not on disk yet: not "56y"
            rows.append((i.name, version, human_size(i.size), age, ", ".join(notes)))
        _print_table(rows, right=2)
    print(f"total  {human_size(inventory.total())}")
    return 0

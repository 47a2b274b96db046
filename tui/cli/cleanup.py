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
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from tui.cli.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
from tui.cli.prompt import ask, interactive
from tui.cli.reporter import Reporter
from tui.engine.errors import PyshelfError
from tui.engine.jobs import JobKind, JobQueue
from tui.engine.shelf import Entry, Shelf
from tui.engine.usage.inventory import Item, Kind, take_inventory
from tui.engine.usage.ledger import Ledger
from tui.engine.usage.prune import prune_plan
from tui.engine.usage.removal import (
    Action,
    Outcome,
    Plan,
    StepResult,
    count_users,
    describe_users,
    execute,
    how_used,
    plan_builds,
)
from tui.format import counted, human_age, human_size

_NOT_BUILDS = (Kind.OTHER, Kind.LEFTOVER)


def _print_table(rows: list[tuple[str, ...]], right: int, file: TextIO | None = None) -> None:
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
    action = Action.UNINSTALL if kind == JobKind.UNINSTALL else Action.EVICT
    plan = plan_builds(shelf, action, targets, cwd=Path.cwd())
    if as_json:
        from tui.cli import json_lines

        for item, why in plan.refused:
            json_lines.emit(json_lines.refused_item(action, item, why))
    if plan.empty:
        item, why = plan.refused[0] if plan.refused else (None, "nothing on disk to remove")
        raise PyshelfError(f"{item.name}: {why}" if item else why)
    _print_plan(plan, dry_run=False, file=sys.stderr)
    if plan.needs_second_confirmation and yes < 2:
        users = count_users(u for u, _ in plan.broken_envs)
        refusal = (
            f"{users} would break (named above), so nothing was removed; "
            "pass --yes twice (-yy) to remove the interpreters they use anyway"
        )
        if as_json:
            for step in plan.steps:
                json_lines.emit(json_lines.refused_step(step, refusal))
        raise PyshelfError(refusal)
    outcome = _carry_out(plan, shelf, yes >= 2, bars=True)
    if outcome is None:
        return EXIT_INTERRUPTED
    if as_json:
        for result in outcome.results:
            json_lines.emit(json_lines.step_record(result))
    print(f"freed {human_size(outcome.freed)}", file=sys.stderr)
    return EXIT_FAILED if outcome.failed or plan.refused else 0


def _carry_out(
    plan: Plan,
    shelf: Shelf,
    in_use_ok: bool,
    *,
    bars: bool = False,
    on_step: Callable[[StepResult], None] | None = None,
) -> Outcome | None:
    """Run the plan's steps as jobs on a queue and wait for them (``bars``: progress on
    stderr). Ctrl-C cancels the running step and the ones after it: None then, once what
    had begun has finished and what it freed is said."""
    queue = JobQueue(shelf)
    reporter = Reporter(sys.stderr) if bars else None
    if reporter is not None:
        queue.subscribe(reporter.on_event)
    try:
        removing = execute(plan, shelf, queue, confirmed_in_use=in_use_ok, on_step=on_step)
    except BaseException:
        queue.close()
        raise
    try:
        outcome = removing.wait()
    except KeyboardInterrupt:
        removing.cancel()
        stopped = removing.wait()
        queue.close()
        if reporter is not None:
            reporter.interrupted()
        else:
            print("pyshelf: interrupted", file=sys.stderr)
        if stopped is not None and stopped.freed:
            print(f"freed {human_size(stopped.freed)} before stopping", file=sys.stderr)
        return None
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
    on_terminal = interactive()
    if not args.yes:
        if not on_terminal:
            raise PyshelfError("not a terminal: pass --yes to remove, or --dry-run to preview")
        items = counted(len(plan.removals), "item")
        if not ask(f"Remove {items}, freeing {human_size(plan.freed)}?"):
            print("pyshelf: nothing removed", file=sys.stderr)
            return EXIT_FAILED
    in_use_ok = args.yes >= 2
    if plan.needs_second_confirmation and not in_use_ok:
        broken = count_users(u for u, _ in plan.broken_envs)
        if not on_terminal:
            raise PyshelfError(
                f"{broken} would break (named above); "
                "pass --yes twice (-yy) to remove the interpreters they use anyway"
            )
        if not ask(f"{broken} will break. Remove the interpreters they use anyway?"):
            print("pyshelf: nothing removed", file=sys.stderr)
            return EXIT_FAILED
        in_use_ok = True

    def report(result: StepResult) -> None:
        outcome = f"failed: {result.error}" if result.error else f"freed {human_size(result.freed)}"
        print(f"{result.step.action} {result.step.label}: {outcome}", file=sys.stderr)

    outcome = _carry_out(plan, shelf, in_use_ok, on_step=report)
    if outcome is None:
        return EXIT_INTERRUPTED
    print(f"freed {human_size(outcome.freed)}", file=sys.stderr)
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
            rows.append((i.name, version, human_size(i.size), human_age(i.age()), ", ".join(notes)))
        _print_table(rows, right=2)
    print(f"total  {human_size(inventory.total())}")
    return 0

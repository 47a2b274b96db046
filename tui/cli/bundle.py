"""``pyshelf export`` and ``pyshelf import``: offline bundles and team mirrors.

Loaded only for these commands.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import partial

from tui.cli.answers import Answers
from tui.cli.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED
from tui.cli.reporter import Interrupted, run_reported
from tui.engine.bundle import CATALOG_NAME, Report
from tui.engine.flows.bundle import export_flow, import_flow
from tui.engine.flows.questions import Flow, drive
from tui.engine.jobs import JobKind, JobQueue
from tui.engine.shelf import Shelf

# The export or import job's one-line sum: the flow's lines name each build instead.
_PER_BUILD = (JobKind.EXPORT, JobKind.IMPORT)


def cmd_export(shelf: Shelf, args: argparse.Namespace) -> int:
    entries = shelf.entries(all_platforms=args.all_platforms)
    targets = []
    for request in args.requests:
        entry = shelf.resolve_available(request, entries)
        if entry not in targets:
            targets.append(entry)
    report = _run(shelf, partial(export_flow, shelf, entries=targets, root=args.dir))
    if report is None:
        return EXIT_INTERRUPTED
    url = args.dir.resolve().as_uri()
    print(
        f"use it with: pyshelf --mirror {url} --pypy-mirror {url} "
        f"--catalog {args.dir.resolve() / CATALOG_NAME}",
        file=sys.stderr,
    )
    return EXIT_FAILED if report.failed else 0


def cmd_import(shelf: Shelf, args: argparse.Namespace) -> int:
    report = _run(shelf, partial(import_flow, shelf, paths=args.paths))
    if report is None:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if report.failed else 0


def _run(shelf: Shelf, flow: Callable[[JobQueue], Flow[Report]]) -> Report | None:
    """The flow on a queue with progress on stderr, each build it names a line; None when
    Ctrl-C stopped it."""
    answers = Answers()  # nothing to answer: export and import do not ask
    try:
        return run_reported(
            shelf, lambda queue: drive(flow(queue), answers), answers=answers, hide=_PER_BUILD
        )
    except Interrupted:
        return None

"""``pyshelf export`` and ``pyshelf import``: offline bundles and team mirrors.

Loaded only for these commands.
"""

from __future__ import annotations

import argparse
import sys

from tui.cli.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED
from tui.cli.reporter import Interrupted, run_jobs
from tui.engine.bundle import CATALOG_NAME, Report, export, import_paths
from tui.engine.jobs import JobKind
from tui.engine.shelf import Shelf


def _print(report: Report, there: str) -> int:
    for key in report.added:
        print(f"added {key}", file=sys.stderr)
    for key in report.present:
        print(f"already {there}: {key}", file=sys.stderr)
    for line in report.failed:
        print(f"failed: {line}", file=sys.stderr)
    return EXIT_FAILED if report.failed else 0


def cmd_export(shelf: Shelf, args: argparse.Namespace) -> int:
    entries = shelf.entries(all_platforms=args.all_platforms)
    targets = []
    for request in args.requests:
        entry = shelf.resolve_available(request, entries)
        if entry not in targets:
            targets.append(entry)
    try:  # missing archives are downloaded first; cached ones are verified again
        jobs = run_jobs(shelf, JobKind.FETCH, targets)
    except Interrupted:
        return EXIT_INTERRUPTED
    ready = [(e.build, shelf.cache.path_for(e.build)) for e, j in zip(targets, jobs, strict=True)]
    ready = [(b, p) for (b, p), j in zip(ready, jobs, strict=True) if not j.error]
    report = export(shelf, ready, args.dir)
    report.failed += [f"{j.key}: {j.error}" for j in jobs if j.error]
    code = _print(report, "in the bundle")
    url = args.dir.resolve().as_uri()
    print(
        f"use it with: pyshelf --mirror {url} --pypy-mirror {url} "
        f"--catalog {args.dir.resolve() / CATALOG_NAME}",
        file=sys.stderr,
    )
    return code


def cmd_import(shelf: Shelf, args: argparse.Namespace) -> int:
    return _print(import_paths(shelf, args.paths), "in the cache")

"""The job commands (``install``, ``fetch``, ``reinstall``, ``uninstall``, ``evict``): the
builds a command's requests name, run as jobs with progress on stderr, or, for the removals,
as a removal plan like prune's and the app's."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tui.cli.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED
from tui.engine.errors import PyshelfError
from tui.engine.jobspec import JobKind, spec

if TYPE_CHECKING:  # loaded by the command that runs, not by the parser
    from tui.engine.shelf import Entry, Shelf


def _warn(message: str) -> None:
    print(f"pyshelf: warning: {message}", file=sys.stderr)


def _targets(shelf: Shelf, kind: JobKind, requests: Sequence[str]) -> list[Entry]:
    """The builds the requests name, each once, by the kind's rule (``CliSpec.targets``)."""
    cli = spec(kind).cli
    assert cli is not None  # only a kind with a subcommand gets here
    entries = shelf.entries()
    targets = []
    for request in requests:
        entry = cli.targets(shelf, entries, request, _warn)
        if entry not in targets:
            targets.append(entry)
    return targets


def _repair(shelf: Shelf) -> None:
    """A command that writes the install dir first finishes whatever a killed one left half
    done, so what it resolves next is the tree as it should be. (A directory it cannot
    write is the jobs' to report, per build.)"""
    with contextlib.suppress(OSError):
        for warning in shelf.installs.repair():
            print(f"pyshelf: warning: {warning}", file=sys.stderr)


def cmd_jobs(shelf: Shelf, kind: JobKind, requests: Sequence[str], args: argparse.Namespace) -> int:
    from tui.cli.reporter import Interrupted, run_jobs

    default, force = getattr(args, "default", False), getattr(args, "force", False)
    if default and len(requests) != 1:  # only pins can name several here (see _check_usage)
        raise PyshelfError(f"--default takes one request; the pins name {len(requests)}")
    if kind in (JobKind.INSTALL, JobKind.REINSTALL, JobKind.UNINSTALL):
        _repair(shelf)  # says what it cannot fix, once: the jobs' own repairs do not repeat it
    targets = _targets(shelf, kind, requests)
    if kind == JobKind.REINSTALL:
        from tui.cli.reinstall import keeps_work  # files added to an install are named first

        if not keeps_work(shelf, targets, yes=getattr(args, "yes", 0)):
            return EXIT_FAILED
    links_after = (default or force) and shelf.settings.link_bin
    if links_after:
        shelf.settings.link_bin = False  # made once installed, by uv's rules (tui.cli.bins)
    try:
        jobs = run_jobs(shelf, kind, targets)
    except Interrupted:
        return EXIT_INTERRUPTED
    failed = any(j.error for j in jobs)
    links: dict[str, list[str]] = {}
    if links_after:
        from tui.cli.bins import link_bin

        links = link_bin(shelf, jobs, default=default, force=force)
    if args.json:
        from tui.cli.json_lines import emit, job_record

        for job in jobs:
            emit(job_record(job) | ({"links": links[job.key]} if job.key in links else {}))
    return EXIT_FAILED if failed else 0


def pinned_requests(requests: Sequence[str]) -> Sequence[str]:
    if requests:
        return requests
    from tui.engine.requests.pins import find_pins

    pins = find_pins()
    if pins is None:
        raise PyshelfError(
            "name a version (e.g. 3.12), or pin one with UV_PYTHON or a .python-version file"
        )
    print(f"pyshelf: using {pins.describe()}", file=sys.stderr)
    return pins.requests


def cmd_remove(shelf: Shelf, kind: JobKind, args: argparse.Namespace) -> int:
    """uninstall and evict: a removal plan, like prune's and the app's (see cleanup_cli)."""
    if kind == JobKind.UNINSTALL:
        _repair(shelf)
    targets = _targets(shelf, kind, args.requests)
    from tui.cli import cleanup as cleanup_cli

    return cleanup_cli.remove_builds(shelf, kind, targets, yes=args.yes, as_json=args.json)

"""Jobs run in the foreground of a command: live progress on stderr, Ctrl-C cancels them."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from tui.engine.jobs import Job, JobKind, JobQueue
from tui.engine.shelf import Entry, Shelf
from tui.reporter import Reporter


class Interrupted(Exception):
    """Ctrl-C: the jobs were cancelled (downloads keep their partial files)."""


def run_jobs(shelf: Shelf, kind: JobKind, entries: Iterable[Entry]) -> list[Job]:
    """Submit one job per entry, wait for all with progress, return them (errors inside)."""
    queue = JobQueue(shelf)
    reporter = Reporter(sys.stderr)
    queue.subscribe(reporter.on_event)
    jobs = [queue.submit(kind, entry) for entry in entries]
    try:
        queue.wait(jobs)
    except KeyboardInterrupt:
        for job in jobs:
            job.cancel()
        queue.close()
        reporter.interrupted()
        raise Interrupted from None
    queue.close(cancel=False)
    reporter.finish()
    return jobs

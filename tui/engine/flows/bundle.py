"""Export and import as flows: ``pyshelf export`` / ``import`` and ``E`` / ``I`` in the
builds view.

The bundle engine is ``tui.engine.bundle``: every archive is hashed as it is copied, and
nothing unverified lands in a bundle or in the cache. Here are the steps: an export first
fetches the archives that are not cached (a job each), then writes the bundle as one job;
an import is one job. Neither asks anything: the bundle's folder is what a front end asks
for before it starts one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from tui.engine.errors import PyshelfError
from tui.engine.flows.questions import Flow, Note
from tui.engine.jobs import Job, JobKind, JobQueue, Phase
from tui.engine.shelf import Entry, Shelf

if TYPE_CHECKING:  # the bundle engine loads with the first export or import
    from tui.engine.bundle import Report


def summary(report: Report, there: str) -> str:
    parts = [f"added {len(report.added)}"]
    if report.present:
        parts.append(f"{len(report.present)} already {there}")
    return ", ".join(parts)


def _finish(job: Job, report: Report, there: str) -> str:
    """The job's result; failures are its warnings, or its error when nothing went through."""
    if report.failed and not (report.added or report.present):
        more = f" (+{len(report.failed) - 1} more)" if len(report.failed) > 1 else ""
        raise PyshelfError(f"{report.failed[0]}{more}")
    job.warnings = tuple(f"failed: {line}" for line in report.failed)
    return summary(report, there)


def _export_task(
    shelf: Shelf, entries: list[Entry], root: Path, out: list[Report], job: Job
) -> str:
    from tui.engine.bundle import export

    job.set_phase(Phase.VERIFYING)  # each archive is hashed as it is copied
    ready = [(e.build, shelf.cache.path_for(e.build)) for e in entries]
    out.append(export(shelf, ready, root))
    return _finish(job, out[0], "in the bundle")


def _import_task(shelf: Shelf, paths: list[Path], out: list[Report], job: Job) -> str:
    from tui.engine.bundle import import_paths

    job.set_phase(Phase.VERIFYING)
    out.append(import_paths(shelf, paths))
    return _finish(job, out[0], "in the cache")


def _told(report: Report, there: str) -> Flow[None]:
    """Each build the report names, a line each (the job's result counts them)."""
    for key in report.added:
        yield Note(f"added {key}", detail=True)
    for key in report.present:
        yield Note(f"already {there}: {key}", detail=True)
    for line in report.failed:
        yield Note(f"failed: {line}", detail=True)  # the job's warnings, one each


def _one_job(queue: JobQueue, kind: JobKind, label: str, task: Callable[[Job], str]) -> Job:
    job = queue.submit_task(kind, label, task)
    queue.wait([job])
    return job


def export_flow(
    shelf: Shelf, queue: JobQueue, entries: list[Entry], root: Path, *, label: str = ""
) -> Flow[Report]:
    """Write ``entries``' archives to the bundle at ``root``; the report names every build,
    a failed fetch among its failures. ``label``: the export job's, as a front end shows it."""
    from tui.engine.bundle import Report

    fetches = [queue.submit(JobKind.FETCH, e) for e in entries if e.cached is None]
    queue.wait(fetches)
    failed = [j for j in fetches if j.phase != Phase.DONE]
    ready = [e for e in entries if e.key not in {j.key for j in failed}]
    reports: list[Report] = []
    if ready:
        what = f"{len(ready)} archive{'s' if len(ready) > 1 else ''} → {label or root}"
        job = _one_job(
            queue, JobKind.EXPORT, what, partial(_export_task, shelf, ready, root, reports)
        )
        if not reports:  # the bundle could not be written at all
            raise PyshelfError(job.error or f"export {job.phase}")
    report = reports[0] if reports else Report()
    report.failed += [f"{j.key}: {j.error or j.phase}" for j in failed]
    yield from _told(report, "in the bundle")
    return report


def import_flow(
    shelf: Shelf, queue: JobQueue, paths: list[Path], *, label: str = ""
) -> Flow[Report]:
    """Add what the bundles or archives at ``paths`` hold to the cache, verified, as one job."""

    reports: list[Report] = []
    what = label or ", ".join(map(str, paths))
    job = _one_job(queue, JobKind.IMPORT, what, partial(_import_task, shelf, paths, reports))
    if not reports:
        raise PyshelfError(job.error or f"import {job.phase}")
    yield from _told(reports[0], "in the cache")
    return reports[0]

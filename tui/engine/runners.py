"""How the queue runs each built-in kind of job (``JobSpec.runner`` in ``tui.engine.jobspec``).

A runner takes the queue (its shelf and its slots) and the job (to report to, and for its
result line); it raises to fail the job. It runs on one of the queue's worker threads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tui.engine.errors import Cancelled, PyshelfError
from tui.engine.progress import Phase

if TYPE_CHECKING:  # the CLI's parser reads the spec table, which names these: no shelf here
    from tui.engine.jobs import Job, JobQueue
    from tui.engine.shelf import Entry


def entry_of(job: Job) -> Entry:
    """The build a job acts on, with an archive removed behind our back no longer on it; a
    job submitted without one cannot run a build's runner. Rows are never changed in place:
    the job is given a new one (``Shelf.refreshed``)."""
    entry = job.entry
    if entry is None:
        raise PyshelfError(f"a {job.kind.value} job needs a build")
    if entry.cached is not None and not entry.cached.path.exists():
        job.entry = entry = entry._replace(cached=None)
    return entry


def fetch(queue: JobQueue, job: Job) -> None:
    entry = entry_of(job)
    with queue.download_slot(job):
        job.set_phase(Phase.VERIFYING if entry.cached else Phase.DOWNLOADING)
        queue.shelf.fetch(entry, reporter=job)
    job.entry = queue.shelf.refreshed(entry)
    job.result = "cached"


def install(queue: JobQueue, job: Job) -> None:
    """An install, or a reinstall (the same steps, from the cache)."""
    from tui.engine.jobspec import JobKind

    entry = entry_of(job)
    shelf = queue.shelf
    if job.kind == JobKind.INSTALL and entry.installation is not None:
        # Still a command that writes the install dir: repair it, and make sure this
        # install has its links (a crash may have cut them short), as uv does.
        warnings = shelf.relink(entry, reporter=job)
        job.entry = entry = shelf.refreshed(entry)
        if warnings is not None:
            job.warnings = warnings
            job.result = "already installed"
            return
    # A download unpacks as it lands, paced by the network: it takes a download slot, not
    # a disk slot (a slow link would hold one for hours). Work from the cache takes one.
    first = shelf.install_starts_with(entry)
    slot = queue.download_slot if first is Phase.DOWNLOADING else queue.disk_slot
    with slot(job):
        job.set_phase(first)
        result = shelf.install(entry, reporter=job)
    job.entry = shelf.refreshed(entry)
    job.warnings = result.warnings
    job.result = "installed" if job.kind == JobKind.INSTALL else "reinstalled"


def _removing(queue: JobQueue, job: Job, remove: Callable[[], int]) -> None:
    """Run ``remove`` in a disk slot as the job's REMOVING phase; it returns bytes freed."""
    with queue.disk_slot(job):
        job.set_phase(Phase.REMOVING)
        job.freed = remove()


def uninstall(queue: JobQueue, job: Job) -> None:
    entry = entry_of(job)
    _removing(queue, job, lambda: queue.shelf.uninstall(entry, reporter=job))
    job.entry = queue.shelf.refreshed(entry)
    job.result = "uninstalled"
    if queue.shelf.unpacked_tree(entry) is not None:
        # A hot copy was kept (Settings.keep_unpacked): say where the files went.
        job.result = "uninstalled; unpacked copy kept in the cache for a quick reinstall"


def evict(queue: JobQueue, job: Job) -> None:
    entry = entry_of(job)
    _removing(queue, job, lambda: queue.shelf.evict(entry))
    job.entry = queue.shelf.refreshed(entry)
    job.result = "evicted"


def remove(queue: JobQueue, job: Job) -> None:
    """Something that is not a build (``JobQueue.submit_removal``)."""
    if job.remove is None:
        raise PyshelfError(f"{job.key}: nothing to remove")
    _removing(queue, job, job.remove)
    job.result = "removed"


def task(queue: JobQueue, job: Job) -> None:
    """A step that is not an action on a build (``JobQueue.submit_task``)."""
    if job.task is None:
        raise PyshelfError(f"{job.key}: no step to run")
    with queue.disk_slot(job):
        job.result = job.task(job)


def verify(queue: JobQueue, job: Job) -> None:
    """Hash the archive and the unpacked copy again; a damaged copy is dropped (verify)."""
    from tui.engine.verify import verify as verify_builds

    entry = entry_of(job)
    with queue.disk_slot(job):
        job.set_phase(Phase.VERIFYING)
        result = verify_builds(queue.shelf, [entry], reporter=job)
    if job.cancel_event.is_set():
        raise Cancelled("cancelled")
    if not result.ok:
        more = f" (+{len(result.problems) - 1} more)" if len(result.problems) > 1 else ""
        repair = f"; {result.repairs[0]}" if result.repairs else ""
        raise PyshelfError(f"{result.problems[0]}{more}{repair}")
    checked = [what for n, what in [(result.archives, "archive"), (result.copies, "copy")] if n]
    job.result = f"{' and '.join(checked)} match" if checked else "nothing to verify"

"""The job queue: parallel downloads, coalesced events, cancel, retry, shared jobs."""

from __future__ import annotations

import threading
import time

import pytest

from tests.conftest import World
from tui.engine.errors import Cancelled
from tui.engine.jobs import Job, JobEvent, JobKind, JobQueue, Phase
from tui.engine.progress import NULL, Reporter
from tui.engine.shelf import Entry, Shelf


def _entry(shelf: Shelf, key: str) -> Entry:
    return next(e for e in shelf.entries() if e.key == key)


class Recorder:
    def __init__(self) -> None:
        self.events: list[JobEvent] = []
        self.lock = threading.Lock()

    def __call__(self, event: JobEvent) -> None:
        with self.lock:
            self.events.append(event)

    def phases(self, job_id: int) -> list[Phase]:
        out: list[Phase] = []
        for e in self.events:
            if e.job_id == job_id and (not out or out[-1] != e.phase):
                out.append(e.phase)
        return out


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_four_downloads_run_at_once(world: World) -> None:
    shelf = world.shelf()
    queue = JobQueue(shelf, downloads=4)
    world.server.fault(None, rate=200 * 1024)
    keys = [s.key for s in world.specs if s.version != "3.12.6"][:4]
    jobs = [queue.submit(JobKind.FETCH, _entry(shelf, k)) for k in keys]
    wait_for(lambda: all(j.phase == Phase.DOWNLOADING and j.done > 0 for j in jobs))
    world.server.clear_faults()
    queue.wait(jobs)
    assert all(j.phase == Phase.DONE for j in jobs)
    queue.close()


def test_progress_events_are_coalesced_and_carry_speed(world: World) -> None:
    shelf = world.shelf()
    queue = JobQueue(shelf, min_interval=0.2)
    recorder = Recorder()
    queue.subscribe(recorder)
    world.server.fault(None, rate=256 * 1024)  # about a second for the 256 KiB archive
    job = queue.submit(JobKind.FETCH, _entry(shelf, "cpython-3.12.7-linux-x86_64-gnu"))
    queue.wait([job])
    mine = [e for e in recorder.events if e.job_id == job.id]
    downloading = [e for e in mine if e.phase == Phase.DOWNLOADING]
    assert 2 <= len(downloading) <= 12  # hundreds of chunks, a handful of events
    assert any(e.speed and e.eta is not None for e in downloading)
    # The hash is computed while streaming; "verifying" is the final comparison and rename.
    assert recorder.phases(job.id) == [
        Phase.QUEUED, Phase.DOWNLOADING, Phase.VERIFYING, Phase.DONE,
    ]  # fmt: skip
    assert mine[-1].result == "cached"
    queue.close()


def test_cancel_keeps_partial_and_retry_completes(world: World) -> None:
    shelf = world.shelf()
    queue = JobQueue(shelf)
    spec = world.spec("cpython-3.12.7-linux-x86_64-gnu")
    world.server.fault(spec.filename, rate=64 * 1024)
    entry = _entry(shelf, spec.key)
    job = queue.submit(JobKind.FETCH, entry)
    wait_for(lambda: job.done > 32 * 1024)
    job.cancel()
    queue.wait([job])
    assert job.phase == Phase.CANCELLED
    assert shelf.cache.partial_size(entry.build) > 0
    world.server.clear_faults()
    again = queue.retry(job)
    assert again is not job
    queue.wait([again])
    assert again.phase == Phase.DONE
    assert shelf.cache.find(entry.build) is not None
    queue.close()


def test_duplicate_requests_share_one_job(world: World) -> None:
    shelf = world.shelf()
    queue = JobQueue(shelf)
    world.server.fault(None, rate=256 * 1024)
    entry = _entry(shelf, "cpython-3.12.7-linux-x86_64-gnu")
    first = queue.submit(JobKind.FETCH, entry)
    second = queue.submit(JobKind.FETCH, _entry(shelf, entry.key))
    assert first is second
    world.server.clear_faults()
    queue.wait()
    assert [r.method for r in world.server.requests].count("GET") == 1
    queue.close()


def test_install_fetches_then_reinstall_works_offline(world: World) -> None:
    shelf = world.shelf()
    queue = JobQueue(shelf)
    recorder = Recorder()
    queue.subscribe(recorder)
    entry = _entry(shelf, "cpython-3.12.7-linux-x86_64-gnu")
    job = queue.submit(JobKind.INSTALL, entry)
    queue.wait([job])
    assert job.phase == Phase.DONE, job.error
    assert recorder.phases(job.id) == [
        Phase.QUEUED, Phase.DOWNLOADING, Phase.VERIFYING, Phase.EXTRACTING, Phase.LINKING,
        Phase.DONE,
    ]  # fmt: skip
    assert (world.root / "installs" / entry.key / "bin" / "python3.12").exists()
    assert (world.root / "bin" / "python3.12").exists()
    world.server.stop()
    offline = world.shelf(offline=True)
    queue2 = JobQueue(offline)
    queue2.subscribe(recorder)
    job = queue2.submit(JobKind.REINSTALL, _entry(offline, entry.key))
    queue2.wait([job])
    assert job.phase == Phase.DONE, job.error
    assert job.result == "reinstalled"
    # The kept copy is linked (and checked as it is): nothing is said to be extracted.
    assert recorder.phases(job.id) == [Phase.QUEUED, Phase.LINKING, Phase.DONE]
    offline.unpacked.remove(world.spec(entry.key).sha256)  # the cached archive alone
    job = queue2.submit(JobKind.REINSTALL, _entry(offline, entry.key))
    queue2.wait([job])
    assert job.phase == Phase.DONE, job.error
    assert recorder.phases(job.id) == [Phase.QUEUED, Phase.EXTRACTING, Phase.LINKING, Phase.DONE]
    queue.close()
    queue2.close()


def test_uninstall_and_evict_report_what_they_freed(world: World) -> None:
    shelf = world.shelf()
    queue = JobQueue(shelf)
    key = "cpython-3.12.7-linux-x86_64-gnu"
    queue.wait([queue.submit(JobKind.INSTALL, _entry(shelf, key))])
    entry = _entry(shelf, key)
    assert entry.installation is not None and entry.cached is not None
    job = queue.submit(JobKind.UNINSTALL, entry)
    queue.wait([job])
    assert job.phase == Phase.DONE and not (world.root / "installs" / key).exists()
    assert not (world.root / "bin" / "python3.12").exists()
    job = queue.submit(JobKind.EVICT, _entry(shelf, key))
    queue.wait([job])
    assert job.phase == Phase.DONE
    assert job.freed >= world.spec(key).size
    assert _entry(shelf, key).state == "available"
    queue.close()


def test_cancel_during_extraction_leaves_previous_install(world: World) -> None:
    shelf = world.shelf()
    queue = JobQueue(shelf)
    key = "cpython-3.12.7-linux-x86_64-gnu"
    queue.wait([queue.submit(JobKind.INSTALL, _entry(shelf, key))])
    shelf.unpacked.remove(world.spec(key).sha256)  # force a real extraction next time
    before = sorted(p.name for p in (world.root / "installs" / key).rglob("*"))
    entry = _entry(shelf, key)
    cancel_now = threading.Event()

    def on_event(event: JobEvent) -> None:
        if event.phase == Phase.EXTRACTING:
            cancel_now.set()

    queue.subscribe(on_event)
    original = shelf.unpacked.add

    def slow_add(*args, **kwargs):
        cancel_now.wait(5)
        job.cancel()
        return original(*args, **kwargs)

    shelf.unpacked.add = slow_add  # type: ignore[method-assign]
    job = queue.submit(JobKind.REINSTALL, entry)
    queue.wait([job])
    assert job.phase == Phase.CANCELLED
    assert sorted(p.name for p in (world.root / "installs" / key).rglob("*")) == before
    temp = world.root / "installs" / ".temp"
    assert not temp.exists() or not any(temp.iterdir())
    queue.close()


def test_failed_job_keeps_its_error_and_can_be_retried(world: World) -> None:
    shelf = world.shelf()
    queue = JobQueue(shelf)
    spec = world.spec("cpython-3.11.9-linux-x86_64-gnu")
    world.server.fault(spec.filename, times=1, corrupt=True)
    job = queue.submit(JobKind.FETCH, _entry(shelf, spec.key))
    queue.wait([job])
    assert job.phase == Phase.FAILED and "checksum mismatch" in (job.error or "")
    again = queue.retry(job)
    queue.wait([again])
    assert again.phase == Phase.DONE
    queue.close()


def test_plans_promise_exactly_what_the_jobs_free(world: World) -> None:
    from tui.engine.du import tree_size
    from tui.engine.usage.removal import Action, execute, plan_builds

    shelf = world.shelf()
    queue = JobQueue(shelf)
    key = "cpython-3.12.7-linux-x86_64-gnu"
    queue.wait([queue.submit(JobKind.INSTALL, _entry(shelf, key))])
    entry = _entry(shelf, key)
    assert entry.installation is not None
    copy = shelf.unpacked.path_for(world.spec(key).sha256)
    plan = plan_builds(shelf, Action.UNINSTALL, [entry], cwd=world.root)
    # By default the unpacked copy goes with the uninstall, so the payload it shares with
    # the install comes free too: the plan says so.
    assert [r.item.path for r in plan.removals] == [entry.installation.path, copy]
    assert plan.freed > tree_size(copy) > world.spec(key).size
    outcome = execute(plan, shelf, queue).wait()
    assert outcome is not None
    assert outcome.freed == plan.freed and not copy.exists()
    assert queue.jobs[-1].kind == JobKind.UNINSTALL and queue.jobs[-1].result == "uninstalled"
    entry = _entry(shelf, key)
    plan = plan_builds(shelf, Action.EVICT, [entry], cwd=world.root)
    assert entry.cached is not None
    assert [r.item.path for r in plan.removals] == [entry.cached.path]  # the archive alone
    outcome = execute(plan, shelf, queue).wait()
    assert outcome is not None
    assert outcome.freed == plan.freed == entry.cached.size
    assert queue.jobs[-1].kind == JobKind.EVICT and not entry.cached.path.exists()
    queue.close()


def test_a_kept_hot_copy_stays_and_the_plan_says_so(world: World) -> None:
    from tui.engine.usage.removal import KEPT_COPY, Action, execute, plan_builds

    shelf = world.shelf(keep_unpacked=1 << 30)
    queue = JobQueue(shelf)
    key = "cpython-3.12.7-linux-x86_64-gnu"
    queue.wait([queue.submit(JobKind.INSTALL, _entry(shelf, key))])
    entry = _entry(shelf, key)
    copy = shelf.unpacked.path_for(world.spec(key).sha256)
    plan = plan_builds(shelf, Action.UNINSTALL, [entry], cwd=world.root)
    assert [r.item.path for r in plan.removals] == [entry.installation.path]  # the copy stays
    assert plan.removals[0].reason == KEPT_COPY  # and the plan says why it frees so little
    assert plan.freed < world.spec(key).size  # the payload is shared with the unpacked copy
    outcome = execute(plan, shelf, queue).wait()
    assert outcome is not None
    assert outcome.freed == plan.freed and "kept in the cache" in (queue.jobs[-1].result or "")
    entry = _entry(shelf, key)
    plan = plan_builds(shelf, Action.EVICT, [entry], cwd=world.root)
    assert {r.item.path for r in plan.removals} == {entry.cached.path, copy}
    outcome = execute(plan, shelf, queue).wait()
    assert outcome is not None
    assert outcome.freed == plan.freed and not copy.exists()
    queue.close()


def test_removals_of_other_things_run_as_queue_jobs(world: World, tmp_path) -> None:
    queue = JobQueue(world.shelf())
    recorder = Recorder()
    queue.subscribe(recorder)
    target = tmp_path / "some-interpreter"
    target.mkdir()
    (target / "big").write_bytes(b"x" * 5000)

    def remove() -> int:
        size = (target / "big").stat().st_size
        (target / "big").unlink()
        target.rmdir()
        return size

    job = queue.submit_removal(str(target), remove)
    queue.wait([job])
    assert job.phase == Phase.DONE and job.freed == 5000 and not target.exists()
    assert recorder.phases(job.id) == [Phase.QUEUED, Phase.REMOVING, Phase.DONE]
    assert recorder.events[-1].key == str(target) and recorder.events[-1].kind == JobKind.REMOVE

    def fails() -> int:
        raise OSError(13, "Permission denied", str(target))

    failed = queue.submit_removal("locked", fails)
    queue.wait([failed])
    assert failed.phase == Phase.FAILED and failed.error == f"Permission denied: {target}"
    assert queue.retry(failed).kind == JobKind.REMOVE
    queue.close()


def test_null_never_stops_and_a_reporter_stops_when_its_event_is_set() -> None:
    NULL.set_phase(Phase.EXTRACTING)
    NULL.progress(1, 2)
    NULL.check()
    assert not NULL.cancelled and not NULL.wait(0)
    event = threading.Event()
    reporter = Reporter(event)
    reporter.check()
    event.set()
    assert reporter.cancelled and reporter.wait(0)
    with pytest.raises(Cancelled, match="stopped here"):
        reporter.check("stopped here")


def test_a_job_reports_for_itself_and_cancelling_it_stops_its_next_phase(world: World) -> None:
    queue = JobQueue(world.shelf())
    job = Job(JobKind.FETCH, None, queue, label="x")
    assert isinstance(job, Reporter) and not job.cancelled
    job.set_phase(Phase.DOWNLOADING)
    job.progress(5, 10)
    assert (job.phase, job.done, job.total) == (Phase.DOWNLOADING, 5, 10)
    job.cancel()
    with pytest.raises(Cancelled):
        job.set_phase(Phase.VERIFYING)
    job.set_phase(Phase.CANCELLED)  # a final phase is always reached
    assert job.phase == Phase.CANCELLED
    queue.close()


def test_a_task_runs_as_a_job_and_retries_as_it_was(world: World) -> None:
    queue = JobQueue(world.shelf())
    recorder = Recorder()
    queue.subscribe(recorder)
    runs: list[int] = []

    def task(job: Job) -> str:
        job.set_phase(Phase.LINKING)
        runs.append(job.id)
        if len(runs) == 1:
            raise OSError("the environment's folder is read-only")
        return "runs the new patch"

    try:
        first = queue.submit_task(JobKind.REPOINT, "/tmp/env → 3.12.7", task)
        queue.wait([first])
        assert first.phase == Phase.FAILED and "read-only" in (first.error or "")
        assert first.key == "/tmp/env → 3.12.7" and first.entry is None
        again = queue.retry(first)
        queue.wait([again])
        assert (again.kind, again.phase, again.result) == (
            JobKind.REPOINT, Phase.DONE, "runs the new patch",
        )  # fmt: skip
        assert recorder.phases(again.id) == [Phase.QUEUED, Phase.LINKING, Phase.DONE]
    finally:
        queue.close()

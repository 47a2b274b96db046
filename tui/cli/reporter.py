"""Progress on stderr for the CLI: live bars on a terminal, plain lines otherwise.

Nothing here is coloured (so ``NO_COLOR`` has nothing to turn off); the live block moves the
cursor, which a terminal that says it cannot (``TERM=dumb``) gets plain lines for instead.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING, TextIO, TypeVar

from tui.engine.jobs import Job, JobEvent, JobKind, JobQueue, Phase
from tui.engine.settings import truthy
from tui.engine.shelf import Entry, Shelf
from tui.format import human_eta, human_size, human_speed, progress_text

if TYPE_CHECKING:
    from tui.cli.answers import Answers

BAR = 20
T = TypeVar("T")
_WORK = (Phase.DOWNLOADING, Phase.VERIFYING, Phase.EXTRACTING)


def _bar(done: int, total: int | None, size: int = BAR) -> str:
    if not total:
        return " " * size
    filled = min(size, int(size * done / total))
    return "#" * filled + "-" * (size - filled)


class ProgressPrinter:
    """Prints the queue's job events (``JobQueue.subscribe``) on a stream: a live block of
    bars redrawn in place on a terminal, a line per phase and per tenth otherwise."""

    def __init__(self, stream: TextIO, *, hide: Collection[JobKind] = ()) -> None:
        self.stream = stream
        self.hide = frozenset(hide)  # kinds whose flow prints a line per build instead
        # uv's UV_NO_PROGRESS: no live bars, the plain lines a pipe gets (so does TERM=dumb).
        self.live = (
            stream.isatty() and not truthy("UV_NO_PROGRESS") and os.environ.get("TERM") != "dumb"
        )
        self._lock = threading.Lock()
        self._events: dict[int, JobEvent] = {}
        self._drawn = 0  # lines of the live block currently on screen
        self._logged_tenth: dict[int, int] = {}
        self._warnings: dict[int, tuple[str, ...]] = {}  # job id: its final event's warnings

    def on_event(self, event: JobEvent) -> None:
        if event.kind in self.hide:
            return
        with self._lock:
            previous = self._events.get(event.job_id)
            self._events[event.job_id] = event
            if event.phase.final and event.warnings:
                self._warnings[event.job_id] = event.warnings
            if self.live:
                self._redraw()
            else:
                self._plain(previous, event)

    def _line(
        self, e: JobEvent, key_width: int = 0, width: int = 10_000, platform: str = ""
    ) -> str:
        key = e.key.removesuffix(platform)
        head = f"{e.kind:<9} {key:<{key_width}}"
        if e.phase in _WORK and (e.total or e.done):
            pct = f"{100 * e.done / e.total:3.0f}%" if e.total else "    "
            # The figures matter most: on a narrow terminal the bar shrinks and goes, then the
            # phase, then the job's kind, before bytes, speed or ETA are cut.
            figures = (
                f"{pct}  {progress_text(e.done, e.total)}  {human_speed(e.speed)}"
                f"  ETA {human_eta(e.eta)}"
            )
            start = f"{head}  {e.phase:<11} "
            room = width - len(start) - len(figures) - 3  # "[", "] "
            if room >= 5:
                return f"{start}[{_bar(e.done, e.total, min(BAR, room))}] {figures}"
            leaner = (f"{start}{figures}", f"{head}  {figures}", f"{key:<{key_width}}  {figures}")
            return next((line for line in leaner if len(line) <= width), leaner[-1])
        if e.phase == Phase.FAILED:
            return f"{head}  failed: {e.error}"
        return f"{head}  {e.result or e.phase}"

    def _redraw(self) -> None:
        out = []
        if self._drawn:
            out.append(f"\x1b[{self._drawn}F")  # back to the top of our block
        # A wrapped line would break the cursor arithmetic: cut each one to the terminal.
        import shutil  # only on a terminal

        width = shutil.get_terminal_size().columns - 1
        events = list(self._events.values())
        # When every key ends in the same platform, the lines show only what differs.
        platforms = {"-" + "-".join(e.key.split("-")[-3:]) for e in events}
        platform = platforms.pop() if len(platforms) == 1 and len(events) > 1 else ""
        key_width = max(len(e.key) - len(platform) for e in events)
        lines = [self._line(e, key_width, width, platform)[:width] for e in events]
        out.extend(f"\x1b[2K{line}\n" for line in lines)
        self._drawn = len(lines)
        self.stream.write("".join(out))
        self.stream.flush()

    def _plain(self, previous: JobEvent | None, event: JobEvent) -> None:
        # Without a terminal: a line per phase change and per tenth of progress.
        tenth = int(10 * event.done / event.total) if event.total else -1
        same_phase = previous is not None and previous.phase == event.phase
        no_news = event.phase not in _WORK or tenth <= self._logged_tenth.get(event.job_id, -1)
        if same_phase and no_news:
            return
        self._logged_tenth[event.job_id] = tenth
        self.stream.write(self._line(event) + "\n")
        self.stream.flush()

    def settle(self) -> None:
        """Leave the live block as it stands, so a question or a line can be printed under
        it: the jobs that have ended drop out, and the next block starts below."""
        with self._lock:
            self._events = {k: e for k, e in self._events.items() if not e.phase.final}
            self._drawn = 0

    def interrupted(self) -> None:
        with self._lock:
            self.stream.write("interrupted: partial downloads are kept and resume next time\n")

    def finish(self) -> None:
        """Print the jobs' warnings, one line each, below everything else (a live block must
        stay the last thing on screen while it is redrawn)."""
        with self._lock:
            for warnings in self._warnings.values():
                for warning in warnings:
                    self.stream.write(f"pyshelf: warning: {warning}\n")
            self._warnings.clear()
            self.stream.flush()


class Interrupted(Exception):
    """Ctrl-C stopped ``run_reported``: its jobs were cancelled and the interruption told."""


def run_reported(
    shelf: Shelf,
    work: Callable[[JobQueue], T],
    *,
    answers: Answers | None = None,
    hide: Collection[JobKind] = (),
) -> T:
    """``work(queue)`` on a job queue whose progress goes to stderr (``answers``: a flow's,
    whose questions and lines are printed under the bars; ``hide``: kinds of jobs not
    shown). On Ctrl-C every job is
    cancelled (downloads keep their partial files) and ``Interrupted`` is raised."""
    queue = JobQueue(shelf)
    reporter = ProgressPrinter(sys.stderr, hide=hide)
    queue.subscribe(reporter.on_event)
    if answers is not None:
        answers.before_output = reporter.settle
    try:
        result = work(queue)
    except BaseException as exc:
        from tui.engine.flows.questions import Stopped  # a flow's: loads only when one stops

        if not isinstance(exc, KeyboardInterrupt | Stopped):
            raise
        for job in queue.jobs:
            job.cancel()
        queue.close()
        reporter.interrupted()
        stopped = exc.outcome if isinstance(exc, Stopped) else None
        if stopped is not None and stopped.freed:
            print(f"freed {human_size(stopped.freed)} before stopping", file=sys.stderr)
        raise Interrupted from None
    queue.close(cancel=False)
    reporter.finish()
    return result


def run_jobs(shelf: Shelf, kind: JobKind, entries: Iterable[Entry]) -> list[Job]:
    """One job per entry, waited for with progress on stderr; errors stay in the jobs."""

    def run(queue: JobQueue) -> list[Job]:
        jobs = [queue.submit(kind, entry) for entry in entries]
        queue.wait(jobs)
        return jobs

    return run_reported(shelf, run)

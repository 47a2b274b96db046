"""What long engine calls report as they go, and how they learn to stop: ``Reporter``.

Downloads, hashing, extraction and installs take one reporter (as uv's do) instead of a
callback for each thing they say. A job is a reporter; ``NULL`` reports nowhere and is never
cancelled. ``SpeedMeter`` turns a stream of byte counts into a speed and an ETA.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum

from tui.engine.errors import Cancelled

WINDOW = 5.0  # seconds of history: smooth enough to read, quick enough to follow a stall


class Phase(StrEnum):
    QUEUED = "queued"
    DOWNLOADING = "downloading"
    VERIFYING = "verifying"
    EXTRACTING = "extracting"
    COMPILING = "compiling"  # the stdlib to bytecode (--compile-bytecode)
    LINKING = "linking"
    REMOVING = "removing"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in (Phase.DONE, Phase.FAILED, Phase.CANCELLED)


class Reporter:
    """Receives progress and says when to stop. This base reports nowhere; it is cancelled
    only through ``cancel_event``, which callers holding just an event pass in."""

    def __init__(self, cancel_event: threading.Event | None = None) -> None:
        self.cancel_event = cancel_event if cancel_event is not None else threading.Event()

    def set_phase(self, phase: Phase) -> None:
        """A new stage of the work begins; its progress starts from nothing."""

    def progress(self, done: int, total: int | None) -> None:
        """``done`` of ``total`` bytes (None while the total is not known)."""

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def check(self, what: str = "cancelled") -> None:
        """Raise Cancelled, with ``what`` as its message, once the work should stop."""
        if self.cancel_event.is_set():
            raise Cancelled(what)

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking early on cancellation; True when cancelled."""
        return self.cancel_event.wait(seconds)


NULL = Reporter()  # nobody ever sets its event


class SpeedMeter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._samples: deque[tuple[float, int]] = deque()

    def reset(self) -> None:
        self._samples.clear()

    def add(self, done: int) -> None:
        now = self.clock()
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[0][0] > WINDOW:
            self._samples.popleft()

    @property
    def speed(self) -> float | None:
        """Bytes per second over the window; ``None`` until two samples exist."""
        if len(self._samples) < 2:
            return None
        (t0, d0), (t1, d1) = self._samples[0], self._samples[-1]
        if t1 <= t0:
            return None
        return max(0.0, (d1 - d0) / (t1 - t0))

    def eta(self, done: int, total: int | None) -> float | None:
        speed = self.speed
        if total is None or not speed:
            return None
        return max(0.0, (total - done) / speed)

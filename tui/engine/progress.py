"""Speed and ETA from a stream of byte counts."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

WINDOW = 5.0  # seconds of history: smooth enough to read, quick enough to follow a stall


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

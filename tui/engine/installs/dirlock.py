"""uv's lock on an install dir: ``root/.lock``, an exclusive flock, re-entrant per thread."""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from tui.engine.errors import LockTimeout
from tui.engine.installs.lock import lock_holders, open_lock_file
from tui.engine.platform import locks
from tui.engine.progress import NULL, Reporter

_POLL = 0.05


class DirLock:
    """The lock every writing command holds on an install dir (uv takes the same one)."""

    def __init__(self, root: Path, path: Path, timeout: float) -> None:
        self.root = root  # made on first lock
        self.path = path
        self.timeout = timeout
        self._local = threading.local()  # per-thread depth, so the holder's steps can nest

    @contextlib.contextmanager
    def hold(self, timeout: float | None = None, reporter: Reporter = NULL) -> Iterator[None]:
        """Hold uv's exclusive lock (fcntl.flock, as uv takes it).

        Waits up to ``timeout`` seconds (default ``self.timeout``; ``math.inf`` waits for ever),
        raising LockTimeout, or Cancelled as soon as ``reporter`` is. Re-entrant per thread.
        The lock file is never deleted: uv shares it.
        """
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth = depth
            return
        fd = self._acquire(self.timeout if timeout is None else timeout, reporter)
        self._local.depth = 1
        try:
            yield
        finally:
            self._local.depth = 0
            locks.unlock(fd)
            os.close(fd)

    def _acquire(self, timeout: float, reporter: Reporter) -> int:
        self.root.mkdir(parents=True, exist_ok=True)
        fd = open_lock_file(self.path)
        deadline = time.monotonic() + timeout
        try:
            while True:
                if locks.try_lock(fd):
                    return fd
                reporter.check(f"waiting for {self.path} cancelled")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LockTimeout(self._timeout_message(fd, timeout))
                reporter.wait(min(_POLL, remaining))
        except BaseException:
            os.close(fd)
            raise

    def _timeout_message(self, fd: int, timeout: float) -> str:
        pids = lock_holders(fd)
        holder = f" (held by pid {', '.join(map(str, pids))})" if pids else ""
        waited = "" if math.isinf(timeout) else f" after {timeout:g}s"
        return f"timed out{waited} waiting for the lock {self.path}{holder}"

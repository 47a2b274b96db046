"""Worker threads for the job queue: what a ``ThreadPoolExecutor`` does for it, and no more.

``concurrent.futures`` imports logging and traceback with it, a few milliseconds of every CLI
command; the queue needs only this: calls run in the order submitted, on at most ``size``
threads, each call starting at once while fewer are busy, and ``close`` running what is
queued before it returns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from queue import Empty, SimpleQueue

IDLE_SECONDS = 2.0  # an idle thread ends after this: a pool nobody closed never holds up exit


class Workers:
    def __init__(self, size: int, name: str) -> None:
        self._size = size
        self._name = name
        self._calls: SimpleQueue[Callable[[], object] | None] = SimpleQueue()
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._pending = 0  # calls submitted and not finished
        self._started = 0
        self._closed = False

    def submit(self, call: Callable[[], object]) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot run new calls after close")
            self._pending += 1
            self._calls.put(call)
            self._more_threads()

    def _more_threads(self) -> None:
        """Under the lock: a new thread when there is more work than threads, below the limit."""
        if self._pending > len(self._threads) and len(self._threads) < self._size:
            self._started += 1
            thread = threading.Thread(target=self._work, name=f"{self._name}_{self._started}")
            self._threads.add(thread)
            thread.start()

    def _work(self) -> None:
        me = threading.current_thread()
        try:
            while True:
                try:
                    call = self._calls.get(timeout=IDLE_SECONDS)
                except Empty:
                    with self._lock:
                        if self._pending < len(self._threads) and self._calls.empty():
                            return  # more threads than work: this one goes
                    continue
                if call is None:  # close() asked this thread to end
                    return
                try:
                    call()
                finally:
                    with self._lock:
                        self._pending -= 1
        finally:
            with self._lock:
                self._threads.discard(me)
                if not self._closed:
                    self._more_threads()  # this one died of its call: the rest still run

    def close(self) -> None:
        """Run every call already submitted, then end the threads; refuse new calls."""
        with self._lock:
            self._closed = True
            threads = list(self._threads)
            for _ in threads:
                self._calls.put(None)  # behind every call already queued
        for thread in threads:
            thread.join()

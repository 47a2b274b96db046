"""The loop that moves a download's bytes: receive, append to the partial file, hash, tap.

Receiving (a socket read, or a read of a file:// mirror) and hashing plus writing each take
about as long as the other, and both let go of the GIL for the bulk of their work
(``hashlib`` does for any chunk over 2 KiB, and so does a file write). So the partial file is
written and hashed on a thread of its own, a few chunks behind the receive: with two cores a
download costs about the longer of the two rather than their sum. Everything else stays on
the calling thread, in the order it had: the cancel check, the size cap, the tap and the
progress. Whatever way the loop ends, every chunk received is written before it returns, so
a partial file kept for a resume holds all of them.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections import deque
from collections.abc import Iterable
from time import monotonic
from typing import TYPE_CHECKING, BinaryIO

from tui.engine.progress import Reporter

if TYPE_CHECKING:
    from tui.engine.archives.download import Tap

# Chunks between the receive and the writer: a few, so memory stays flat.
_DEPTH = 4
# Received chunks (64 KiB from a socket) go to the writer a MiB at a time: each handover
# between the threads costs more than copying the bytes once. On a slow link they go at
# least every _HOLD seconds, so a killed process loses no more than that of its download.
_BATCH = 1 << 20
_HOLD = 0.25


class TooLarge(Exception):
    """More bytes arrived than the archive can have: the server is broken or hostile."""


class _Writer:
    """Appends and hashes the chunks handed to it, in order, on its own thread."""

    def __init__(self, handle: BinaryIO, digest: hashlib._Hash) -> None:
        self._handle, self._digest = handle, digest
        self._chunks: deque[bytes | None] = deque()
        self._ready = threading.Condition(threading.Lock())
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="pyshelf-writer", daemon=True)
        self._thread.start()

    def put(self, chunk: bytes) -> None:
        if not chunk:
            return
        with self._ready:
            while len(self._chunks) >= _DEPTH and self._failure is None:
                self._ready.wait()
            if self._failure is not None:
                raise self._failure
            self._chunks.append(chunk)
            self._ready.notify_all()

    def close(self) -> None:
        """Wait until every chunk handed over is written and hashed; raise what failed."""
        with self._ready:
            self._chunks.append(None)
            self._ready.notify_all()
        self._thread.join()
        if self._failure is not None:
            raise self._failure

    def _run(self) -> None:
        write, update = self._handle.write, self._digest.update
        while True:
            with self._ready:
                while not self._chunks:
                    self._ready.wait()
                chunk = self._chunks.popleft()
                self._ready.notify_all()
            if chunk is None:
                return
            try:
                write(chunk)
                update(chunk)
            except BaseException as exc:  # ENOSPC, EIO: the receive stops at its next chunk
                with self._ready:
                    self._failure = exc
                    self._chunks.clear()
                    self._ready.notify_all()
                return


def pump(
    chunks: Iterable[bytes],
    handle: BinaryIO,
    digest: hashlib._Hash,
    done: int,
    total: int | None,
    reporter: Reporter,
    limit: int,
    tap: Tap | None = None,
) -> int:
    """Append, hash, tap and report each chunk; returns the byte count reached."""
    writer = _Writer(handle, digest)
    batch: list[bytes] = []  # received, not handed over yet
    batched, handed = 0, monotonic()
    try:
        for chunk in chunks:
            reporter.check("download cancelled; the partial file is kept")
            done += len(chunk)
            if done > limit:
                raise TooLarge
            batch.append(chunk)
            batched += len(chunk)
            now = monotonic()
            if batched >= _BATCH or now - handed >= _HOLD:
                writer.put(b"".join(batch))
                batch.clear()
                batched, handed = 0, now
            if tap is not None:
                tap.feed(chunk)
            reporter.progress(done, total)
    except BaseException:
        with contextlib.suppress(BaseException):  # the first failure is the one to report
            writer.put(b"".join(batch))
            writer.close()  # what arrived is kept for the resume, as it was before a failure
        raise
    writer.put(b"".join(batch))
    writer.close()
    return done

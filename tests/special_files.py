"""Files that are not what a reader expects: fifos, devices, huge files; and a hang guard.

A fifo blocks a plain open until someone writes, ``/dev/zero`` feeds bytes for ever, and a
sparse file can claim any size: each must be refused by type or size, never read.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

SPECIAL_KINDS = ["fifo", "dev-zero", "directory", "huge"]
# What pyshelf says of each (the limit a huge file passes depends on the file).
REFUSED = {
    "fifo": "a fifo, not a regular file",
    "dev-zero": "a character device, not a regular file",
    "directory": "a directory, not a regular file",
    "huge": "larger than",
}


def make_special(path: Path, kind: str, *, huge: int = 1 << 30) -> None:
    """Put a ``kind`` of special file at ``path`` (replacing what is there)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "directory":
        path.mkdir()
    elif kind == "huge":  # sparse: takes no disk, claims ``huge`` bytes
        with path.open("wb") as handle:
            handle.truncate(huge)
    else:
        raise ValueError(kind)


class Hung(BaseException):
    """Raised into a call that ran past its deadline: a BaseException, so that no
    ``except Exception`` in pyshelf's last guards turns it into an error line."""


@contextlib.contextmanager
def deadline(timeout: float = 60) -> Iterator[None]:
    """Fail the test as hung if its block has not ended by ``timeout``.

    An alarm interrupts the main thread even inside a blocking open (a fifo's), where a
    thread could not be stopped; the CLI, which sets signal handlers, must run there anyway.
    """

    def hung(signum: int, frame: object) -> None:
        raise Hung(f"hung: still running after {timeout} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def finishes(call: Callable[[], T], timeout: float = 60) -> T:
    """``call()``'s result, or the test fails as hung (see :func:`deadline`)."""
    with deadline(timeout):
        return call()

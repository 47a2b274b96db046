"""Files that are not what a reader expects: fifos, devices, huge files; and a hang guard.

A fifo blocks a plain open until someone writes, ``/dev/zero`` feeds bytes for ever, and a
sparse file can claim any size: each must be refused by type or size, never read.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

SPECIAL_KINDS = ["fifo", "dev-zero", "directory", "huge"]


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


def finishes(call: Callable[[], T], timeout: float = 60) -> T:
    """``call()``'s result; fails the test as hung if it has not returned by ``timeout``.

    The call runs on a daemon thread, so one that blocks for ever (a fifo's open) is left
    behind rather than holding up the test run.
    """
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the test's thread
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise AssertionError(f"hung: still running after {timeout} s")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]

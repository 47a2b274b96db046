"""Lock files: the one uv and pyshelf share (opened as uv leaves it, and who holds it), and
whether a process holds one of pyshelf's own."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from tui.engine.fsutil import open_nofollow
from tui.engine.platform import locks
from tui.engine.platform.flags import NEW_FILE, O_RDONLY, O_RDWR, fchmod


def lock_holders(fd: int) -> list[int]:
    """PIDs holding a flock on fd's file, from /proc/locks (Linux; best effort)."""
    return locks.holders(fd)


def open_lock_file(path: Path) -> int:
    """The shared lock file, created as uv leaves it; a link or a special file planted in its
    place is refused (NotOurFile), never followed."""
    try:
        fd = os.open(path, O_RDWR | NEW_FILE, 0o666)
    except FileExistsError:
        pass
    else:
        with contextlib.suppress(OSError):
            fchmod(fd, 0o666)  # as uv leaves it, whatever the umask: the lock is shared
        return fd
    try:
        return open_nofollow(path, O_RDWR)
    except PermissionError:
        return open_nofollow(path, O_RDONLY)  # flock needs no write access


def lock_held(path: str) -> bool:
    """Whether a live process holds a flock on ``path`` (a missing file is held by none)."""
    try:
        fd = open_nofollow(Path(path))
    except OSError:  # a link or a fifo in its place is no lock either (NotOurFile)
        return False
    try:
        return not locks.try_lock(fd)
    finally:
        os.close(fd)  # also drops the lock taken just now

"""Lock files: the one uv and pyshelf share (opened as uv leaves it, and who holds it), and
whether a process holds one of pyshelf's own."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from tui.engine.fsutil import open_nofollow


def lock_holders(fd: int) -> list[int]:
    """PIDs holding a flock on fd's file, from /proc/locks (Linux; best effort)."""
    st = os.fstat(fd)
    ident = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    try:
        text = Path("/proc/locks").read_text()
    except OSError:
        return []
    pids = []
    for line in text.splitlines():
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 4242 fe:00:1234 0 EOF"; waiters carry a "->" field.
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == ident:
            with contextlib.suppress(ValueError):
                pids.append(int(fields[4]))
    return pids


def open_lock_file(path: Path) -> int:
    """The shared lock file, created as uv leaves it; a link or a special file planted in its
    place is refused (NotOurFile), never followed."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    except FileExistsError:
        pass
    else:
        with contextlib.suppress(OSError):
            os.fchmod(fd, 0o666)  # as uv leaves it, whatever the umask: the lock is shared
        return fd
    try:
        return open_nofollow(path, os.O_RDWR)
    except PermissionError:
        return open_nofollow(path, os.O_RDONLY)  # flock needs no write access


def lock_held(path: str) -> bool:
    """Whether a live process holds a flock on ``path`` (a missing file is held by none)."""
    try:
        fd = open_nofollow(Path(path))
    except OSError:  # a link or a fifo in its place is no lock either (NotOurFile)
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also drops the flock taken just now
    return False

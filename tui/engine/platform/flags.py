"""Open flags and descriptor abilities, 0 or False where the system lacks them.

Windows has no O_NOFOLLOW, O_DIRECTORY, O_NONBLOCK or O_CLOEXEC (its descriptors are not
inherited unless asked, O_NOINHERIT says so) and needs O_BINARY, or every b"\\n" written
becomes b"\\r\\n". A flag that is 0 here is made up for by the caller (an lstat before the
open, a path-based walk); on Linux and macOS every value is the system's own.
"""

from __future__ import annotations

import os
import sys

# The flags every system has, named here too so callers take all their flags from one place.
O_RDONLY, O_WRONLY, O_RDWR = os.O_RDONLY, os.O_WRONLY, os.O_RDWR
O_CREAT, O_EXCL, O_TRUNC, O_APPEND = os.O_CREAT, os.O_EXCL, os.O_TRUNC, os.O_APPEND

O_BINARY: int = getattr(os, "O_BINARY", 0)
O_NOFOLLOW: int = getattr(os, "O_NOFOLLOW", 0)
O_DIRECTORY: int = getattr(os, "O_DIRECTORY", 0)
O_NONBLOCK: int = getattr(os, "O_NONBLOCK", 0)
O_CLOEXEC: int = getattr(os, "O_CLOEXEC", getattr(os, "O_NOINHERIT", 0))

# A new file of pyshelf's own: never through a link, never over an existing name.
NEW_FILE = os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_BINARY

# Folders opened as descriptors, and names resolved relative to them (``dir_fd``): the
# POSIX systems; Windows opens no folder and takes no ``dir_fd``.
FOLDER_FDS = bool(O_DIRECTORY) and {os.open, os.unlink, os.rmdir} <= os.supports_dir_fd
# ``os.utime`` on a descriptor (not on Windows: set the time by path once it is closed).
UTIME_FD = os.utime in os.supports_fd


def set_blocking(fd: int) -> None:
    """Make a descriptor opened with O_NONBLOCK (so a fifo cannot stall the open) block
    again; where there is no O_NONBLOCK it never stopped blocking (and Windows refuses
    ``os.set_blocking`` on a regular file)."""
    if sys.platform != "win32" and O_NONBLOCK:
        os.set_blocking(fd, True)


def fchmod(fd: int, mode: int) -> None:
    """``os.fchmod``; where the system has none (Windows before Python 3.13) a file's mode
    is its read-only bit alone, and pyshelf's files are writable: nothing to do."""
    if sys.platform != "win32" or sys.version_info >= (3, 13):
        os.fchmod(fd, mode)

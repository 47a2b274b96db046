"""Whole-file advisory locks, taken as uv takes them, and who holds one.

uv locks with Rust's ``File::lock``/``try_lock``: ``flock`` on Linux and macOS, and on
Windows ``LockFileEx`` from offset 0 over 2**64 - 1 bytes (both lengths ``u32::MAX``). The
Windows lock here covers the same range, so pyshelf and uv exclude each other there too
(``msvcrt.locking`` locks from the file position for at most 2**31 - 1 bytes: a different
range, which LockFileEx would not see as the same lock).
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

if sys.platform == "win32":
    import ctypes
    import msvcrt
    from ctypes import wintypes

    class _Overlapped(ctypes.Structure):
        _fields_ = (
            ("Internal", ctypes.c_size_t),
            ("InternalHigh", ctypes.c_size_t),
            ("Offset", wintypes.DWORD),
            ("OffsetHigh", wintypes.DWORD),
            ("hEvent", wintypes.HANDLE),
        )

    _kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    _LockFileEx = _kernel32.LockFileEx
    _LockFileEx.argtypes = (
        wintypes.HANDLE,
        wintypes.DWORD,
        wintypes.DWORD,
        wintypes.DWORD,
        wintypes.DWORD,
        ctypes.POINTER(_Overlapped),
    )
    _LockFileEx.restype = wintypes.BOOL
    _UnlockFileEx = _kernel32.UnlockFileEx
    _UnlockFileEx.argtypes = (
        wintypes.HANDLE,
        wintypes.DWORD,
        wintypes.DWORD,
        wintypes.DWORD,
        ctypes.POINTER(_Overlapped),
    )
    _UnlockFileEx.restype = wintypes.BOOL
    _EXCLUSIVE, _FAIL_IMMEDIATELY = 0x2, 0x1
    _LOCK_VIOLATION, _IO_PENDING = 33, 997
    _ALL = 0xFFFFFFFF  # low and high halves of the length: the whole file, as uv's

    def _lock(fd: int, shared: bool, wait: bool) -> bool:
        flags = (0 if shared else _EXCLUSIVE) | (0 if wait else _FAIL_IMMEDIATELY)
        handle = msvcrt.get_osfhandle(fd)
        if _LockFileEx(handle, flags, 0, _ALL, _ALL, ctypes.byref(_Overlapped())):
            return True
        code = ctypes.get_last_error()
        if code in (_LOCK_VIOLATION, _IO_PENDING) and not wait:
            return False
        raise ctypes.WinError(code)

    def unlock(fd: int) -> None:
        """Let go of the lock taken on ``fd`` (closing it does too)."""
        handle = msvcrt.get_osfhandle(fd)
        if not _UnlockFileEx(handle, 0, _ALL, _ALL, ctypes.byref(_Overlapped())):
            raise ctypes.WinError(ctypes.get_last_error())

else:
    import fcntl

    def _lock(fd: int, shared: bool, wait: bool) -> bool:
        kind = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        try:
            fcntl.flock(fd, kind if wait else kind | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def unlock(fd: int) -> None:
        """Let go of the lock taken on ``fd`` (closing it does too)."""
        fcntl.flock(fd, fcntl.LOCK_UN)


def lock(fd: int, *, shared: bool = False) -> None:
    """Take the lock on ``fd``'s file, waiting for whoever holds it."""
    _lock(fd, shared, True)


def try_lock(fd: int, *, shared: bool = False) -> bool:
    """Take the lock on ``fd``'s file if no one else holds it; False if someone does."""
    return _lock(fd, shared, False)


def remove_held(fd: int, path: str) -> None:
    """Delete the lock file ``path`` that ``fd`` holds, and close ``fd``: deleted while still
    held where the system allows it, closed first on Windows, where an open file cannot be
    deleted. One already gone (or that cannot go) is left to the next sweep."""
    if sys.platform == "win32":
        os.close(fd)
    try:
        with contextlib.suppress(OSError):
            os.unlink(path)
    finally:
        if sys.platform != "win32":
            os.close(fd)


def holders(fd: int) -> list[int]:
    """PIDs holding a flock on fd's file, from /proc/locks (Linux; best effort: [] where
    the system does not say)."""
    if sys.platform == "win32":
        return []
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

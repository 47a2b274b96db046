"""Swapping two paths in one step: ``renameat2(RENAME_EXCHANGE)`` on Linux,
``renamex_np(RENAME_SWAP)`` on macOS. Elsewhere (and where the filesystem refuses) the
caller renames the old one aside first: a moment without either."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path

_RENAME_EXCHANGE = 2  # linux/fs.h
_RENAME_SWAP = 2  # macOS sys/stdio.h
_AT_FDCWD = -100


@functools.cache
def _swapper() -> Callable[[bytes, bytes], int] | None:
    """The system's swap as a function of two paths (0 on success), or None."""
    if not sys.platform.startswith("linux") and sys.platform != "darwin":
        return None
    import ctypes  # only a reinstall's swap needs it

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.renamex_np if sys.platform == "darwin" else libc.renameat2
    except (OSError, AttributeError):  # glibc before 2.28 has no renameat2
        return None
    function.restype = ctypes.c_int
    if sys.platform == "darwin":
        function.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint]
        return lambda a, b: int(function(a, b, _RENAME_SWAP))
    function.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    return lambda a, b: int(function(_AT_FDCWD, a, _AT_FDCWD, b, _RENAME_EXCHANGE))


def exchange_paths(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False where the system or the filesystem cannot (an old
    kernel, some filesystems, Windows): then nothing has moved."""
    swap = _swapper()
    return swap is not None and swap(os.fsencode(a), os.fsencode(b)) == 0

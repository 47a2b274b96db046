"""Small filesystem helpers: atomic writes and safe removal.

They use ``os`` alone: ``tempfile``, ``secrets`` and ``shutil`` (with the modules they load)
cost a reinstall of a fraction of a second a few milliseconds to import.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from tui.engine.errors import PyshelfError


def atomic_write_bytes(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write beside the destination, then rename, so readers never see half a file.

    The new file keeps the mode of the one it replaces (mkstemp alone would make it 0600);
    a ``private`` file (one that may hold URLs, hence tokens) is always 0600.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = 0o600 if private else stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o644
    fd, tmp = new_scratch_file(path.parent, f".{path.name}.", ".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            os.fchmod(handle.fileno(), mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class UnsafePath(PyshelfError):
    """A path built from outside data would leave the folder it belongs in."""


def within(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or below it; both already resolved or normalised."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def inside(root: Path, *parts: str) -> Path:
    """``root / parts``, refused unless it stays inside ``root``.

    Every path built from catalog or archive data goes through here before it is opened,
    unlinked or renamed: each part must be one plain name (no separator, no ``..``, no NUL),
    and the folders between ``root`` and the last part must not lead out through a link (the
    last part itself is never followed by the callers' unlink and rename).
    """
    for part in parts:
        if (
            not part
            or part in (".", "..")
            or "/" in part
            or "\\" in part
            or "\0" in part
            or len(part.encode("utf-8", "surrogateescape")) > 255
        ):
            raise UnsafePath(f"refusing a path outside {root}: {part!r} is not a plain name")
    path = root.joinpath(*parts)
    if len(parts) > 1:  # a folder on the way may be a link that leads out
        base, real = os.path.realpath(root), os.path.realpath(path.parent)
        if not within(real, base):
            raise UnsafePath(f"refusing a path outside {root}: {path}")
    return path


def open_regular(path: Path) -> BinaryIO | None:
    """Open ``path`` for reading if it is a regular file, else ``None``.

    A fifo or a device named by a catalog or a mirror (``/dev/zero``) must neither block the
    open nor feed bytes for ever, so the open does not wait and the type is checked first.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def scratch_token() -> str:
    """Eight random hex digits for a scratch name, as ``secrets.token_hex(4)`` makes them."""
    return os.urandom(4).hex()


def new_scratch_file(directory: Path, prefix: str, suffix: str = "") -> tuple[int, Path]:
    """Create a new file, mode 0600, named ``prefix + random + suffix`` in ``directory``, as
    ``tempfile.mkstemp`` does; returns its open descriptor and its path."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(100):
        path = directory / f"{prefix}{scratch_token()}{suffix}"
        try:
            return os.open(path, flags, 0o600), path
        except FileExistsError:
            continue  # another scratch file drew the same name
    raise FileExistsError(errno.EEXIST, "no unused scratch name", os.fspath(directory))


def remove_path(path: Path) -> None:
    """Remove a file, link, special file or directory tree; a missing path is fine."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        remove_tree(path)
    else:
        path.unlink(missing_ok=True)


_TREE_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def remove_tree(path: Path) -> None:
    """Delete a directory tree, as ``shutil.rmtree`` does (it raises the first error), with
    one unlink per entry relative to its directory's descriptor. Links are removed, never
    followed: a directory swapped for a link midway fails to open (O_NOFOLLOW).

    No recursion, and one descriptor open at a time, so no depth is too deep (a hostile
    archive or a planted folder can nest thousands of levels): the walk goes down by name
    and back up through ``..``, and a parent that is not the directory it came from (one
    moved midway) stops it rather than deleting in the wrong place."""

    def listing(fd: int) -> list[tuple[str, bool]]:
        with os.scandir(fd) as entries:
            return [(e.name, e.is_dir(follow_symlinks=False)) for e in entries]

    def identity(fd: int) -> tuple[int, int]:
        info = os.fstat(fd)
        return info.st_dev, info.st_ino

    fd = os.open(path, _TREE_FLAGS)
    # One frame per directory on the way down: its name, identity and entries still to go.
    frames: list[tuple[str, tuple[int, int], list[tuple[str, bool]]]] = []
    entry = ""  # what the walk is at, below the last frame
    try:
        frames.append(("", identity(fd), listing(fd)))
        while True:
            name, _, pending = frames[-1]
            if pending:
                entry, is_dir = pending.pop()
                if not is_dir:
                    os.unlink(entry, dir_fd=fd)
                    continue
                old, fd = fd, os.open(entry, _TREE_FLAGS, dir_fd=fd)
                os.close(old)
                frames.append((entry, identity(fd), listing(fd)))
                continue
            frames.pop()
            if not frames:
                break
            entry = name
            old, fd = fd, os.open("..", _TREE_FLAGS, dir_fd=fd)
            os.close(old)
            if identity(fd) != frames[-1][1]:
                raise OSError(errno.ESTALE, "a folder moved while it was being removed")
            os.rmdir(name, dir_fd=fd)
    except OSError as exc:  # name the entry, not just its name in its folder
        below = [frame[0] for frame in frames[1:]] + ([entry] if entry else [])
        if len(below) > 4:  # a hostile depth: the start and the end say enough
            below = [below[0], "…", *below[-2:]]
        exc.filename = os.path.join(path, *below)
        raise
    finally:
        os.close(fd)
    os.rmdir(path)


_RENAME_EXCHANGE = 2  # linux/fs.h


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # only a reinstall's swap needs it

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.renameat2  # glibc 2.28+
    except (OSError, AttributeError):
        return None
    function.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    function.restype = ctypes.c_int
    return function


def exchange_paths(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where the system cannot."""
    function = _renameat2()
    if function is None:
        return False
    at_cwd = -100  # AT_FDCWD
    result = function(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0  # EINVAL/ENOSYS (old kernel, some filesystems): fall back

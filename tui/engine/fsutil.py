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


class NotAFile(OSError):
    """A local file pyshelf reads is a fifo, a device, a link where none may be, or too big.

    An OSError, so every caller that already says "cannot read X" says it for these too.
    """

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(errno.EINVAL, why, os.fspath(path))

    def __str__(self) -> str:
        return f"{self.filename} is {self.strerror}"


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a fifo"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symlink"),
)


def _not_regular(path: Path, mode: int) -> NotAFile:
    kind = next((name for test, name in _KINDS if test(mode)), "a special file")
    return NotAFile(path, f"{kind}, not a regular file")


def _open_file(path: Path, follow: bool) -> int:
    """A descriptor for ``path``, a regular file; NotAFile for anything else.

    The type is looked at before the open, so a device is never opened (opening one can do
    something), and the open does not wait (a fifo would block it); the descriptor's own type
    is what counts, in case the path changed in between.
    """
    mode = os.stat(path, follow_symlinks=follow).st_mode
    if not stat.S_ISREG(mode):
        raise _not_regular(path, mode)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:  # made a link since the stat
            raise _not_regular(path, stat.S_IFLNK) from None
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _not_regular(path, mode)
    os.set_blocking(fd, True)
    return fd


def open_regular(path: Path, *, follow: bool = True) -> BinaryIO | None:
    """Open ``path`` for reading if it is a regular file, else ``None``.

    A fifo or a device named by a catalog or a mirror (``/dev/zero``) must neither block the
    open nor feed bytes for ever (see :func:`_open_file`). ``follow=False``: a link is not
    a regular file either.
    """
    try:
        return os.fdopen(_open_file(path, follow), "rb")
    except NotAFile:
        return None


def read_small(path: Path, limit: int, *, follow: bool = True) -> bytes:
    """All of a small local file (a config, a checksum list, a kept catalog), safely.

    Anything but a regular file (with ``follow=False``, a link too) is refused by type, and a
    file larger than ``limit`` by size: both as :class:`NotAFile`, an OSError, so the caller's
    "cannot read" line covers them. Other OSErrors (FileNotFoundError...) pass as they are.
    """
    with os.fdopen(_open_file(path, follow), "rb") as handle:
        if os.fstat(handle.fileno()).st_size <= limit:
            data = handle.read(limit + 1)  # never more, however fast the file grows
            if len(data) <= limit:
                return data
    cap = f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit >> 10} KiB"
    raise NotAFile(path, f"larger than {cap}, more than such a file holds")


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
    """Remove a file, link or directory tree; a missing path is fine."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        remove_tree(path)


_TREE_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def remove_tree(path: Path) -> None:
    """Delete a directory tree, as ``shutil.rmtree`` does (it raises the first error), with
    one unlink per entry relative to its directory's descriptor. Links are removed, never
    followed: a directory swapped for a link midway fails to open (O_NOFOLLOW)."""

    def empty(fd: int) -> None:
        with os.scandir(fd) as entries:
            listed = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries]
        for name, is_dir in listed:
            if is_dir:
                inner = os.open(name, _TREE_FLAGS, dir_fd=fd)
                try:
                    empty(inner)
                finally:
                    os.close(inner)
                os.rmdir(name, dir_fd=fd)
            else:
                os.unlink(name, dir_fd=fd)

    fd = os.open(path, _TREE_FLAGS)
    try:
        empty(fd)
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

"""Small filesystem helpers: atomic writes and safe removal.

They use ``os`` alone: ``tempfile``, ``secrets`` and ``shutil`` (with the modules they load)
cost a reinstall of a fraction of a second a few milliseconds to import.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from tui.engine.errors import PyshelfError
from tui.engine.platform.flags import (
    FOLDER_FDS,
    NEW_FILE,
    O_BINARY,
    O_CLOEXEC,
    O_CREAT,
    O_DIRECTORY,
    O_EXCL,
    O_NOFOLLOW,
    O_NONBLOCK,
    O_RDONLY,
    O_RDWR,
    O_TRUNC,
    fchmod,
    set_blocking,
)
from tui.engine.platform.swap import exchange_paths as exchange_paths


def atomic_write_bytes(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write beside the destination, then rename, so readers never see half a file.

    The new file keeps the mode of the one it replaces (mkstemp alone would make it 0600);
    a ``private`` file (one that may hold URLs, hence tokens) is always 0600.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = 0o600 if private else stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o664 if group_shared(path.parent) else 0o644
    fd, tmp = new_scratch_file(path.parent, f".{path.name}.", ".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            fchmod(handle.fileno(), mode)
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
    (stat.S_ISLNK, "a symbolic link"),
)


def _not_regular(path: Path, mode: int) -> NotAFile:
    return NotAFile(path, f"{_kind(mode)}, not a regular file")


def _open_file(path: Path, follow: bool) -> int:
    """A descriptor for ``path``, a regular file; NotAFile for anything else.

    The type is looked at before the open, so a device is never opened (opening one can do
    something), and the open does not wait (a fifo would block it); the descriptor's own type
    is what counts, in case the path changed in between.
    """
    mode = os.stat(path, follow_symlinks=follow).st_mode
    if not stat.S_ISREG(mode):
        raise _not_regular(path, mode)
    flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_BINARY | (0 if follow else O_NOFOLLOW)
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
    set_blocking(fd)
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


def read_owned(path: Path, limit: int) -> bytes | None:
    """The bytes of ``path`` if it is a regular file of this user's of at most ``limit``
    bytes, else None: what pyshelf wrote itself in a place others may write (a link, a fifo
    or another user's file planted there is not read)."""
    try:
        fd = open_nofollow(path, owned=True)
    except OSError:
        return None
    try:
        if os.fstat(fd).st_size > limit:
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(limit + 1)
        return None if len(data) > limit else data
    except OSError:
        return None
    finally:
        os.close(fd)


class NotOurFile(PyshelfError, OSError):
    """Something other than what pyshelf made sits at one of its names in a shared place (a
    link, a fifo, a device, another user's file): refused, never followed. An ``OSError``
    too, so a write that may fail quietly (a read-only cache) skips it quietly."""


def _kind(mode: int) -> str:
    return next((what for test, what in _KINDS if test(mode)), "a special file")


def not_ours(path: Path, why: str) -> NotOurFile:
    """The one line a refusal says: what is at ``path`` and what to do about it."""
    return NotOurFile(f"{path}: {why}; remove it and retry")


def misplaced(path: Path, mode: int, what: str = "a file") -> NotOurFile:
    """The refusal of whatever ``mode`` says is at ``path`` in place of ``what``."""
    return not_ours(path, f"{_kind(mode)} where pyshelf keeps {what}")


_OWN = "pyshelf writes only into files of its own there"


def open_nofollow(
    path: Path, flags: int = O_RDONLY, mode: int = 0o600, *, owned: bool = False
) -> int:
    """Open a file pyshelf keeps by a stable name in a shared place (a partial download, a
    lock file, a cached archive) and return its descriptor.

    A link there is never followed and a fifo never waited on: anything but a regular file is
    refused (NotOurFile) before a byte is read or written. With ``owned`` (a file pyshelf
    writes into) so is a file another user owns or one with other hard links. ``O_TRUNC`` is
    not taken: it would act before the check, so truncate the descriptor afterwards.
    """
    assert not flags & O_TRUNC, "truncate after the check"
    if not O_NOFOLLOW:  # Windows: look first (a link made in between is not caught there)
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISLNK(with_mode := os.lstat(path).st_mode):
                raise misplaced(path, with_mode)
    try:
        fd = os.open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_BINARY, mode)
    except OSError as exc:
        # ELOOP: a link (EMLINK on the BSDs); ENXIO: a fifo opened to write, with no reader.
        if exc.errno in (errno.ELOOP, errno.EMLINK, errno.ENXIO):
            with_mode = os.lstat(path).st_mode
            if not stat.S_ISREG(with_mode):
                raise misplaced(path, with_mode) from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise misplaced(path, st.st_mode)
        if owned and hasattr(os, "geteuid") and st.st_uid != os.geteuid():
            raise not_ours(path, f"owned by another user (uid {st.st_uid}); {_OWN}")
        if owned and st.st_nlink != 1:
            raise not_ours(path, f"hard-linked elsewhere ({st.st_nlink} links); {_OWN}")
        set_blocking(fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


def group_shared(folder: Path) -> bool:
    """Whether ``folder`` is shared with its group on purpose: group-writable or setgid (a
    team's cache). What pyshelf makes there keeps the group's write bit, so the next member
    can use it; elsewhere the umask has its say."""
    try:
        mode = os.stat(folder).st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IWGRP | stat.S_ISGID))


def share_with_group(fd: int) -> None:
    """Give a file pyshelf just made in a group-shared folder the group's read and write."""
    with contextlib.suppress(OSError):
        fchmod(fd, stat.S_IMODE(os.fstat(fd).st_mode) | 0o060)


def open_lock(path: Path) -> int:
    """Open (or make) a lock file in a shared place, as uv makes its own: mode 0666 whatever
    the umask, so every user of a shared cache can take it; another's lock that this user
    cannot write is opened read-only (flock needs no write access). A link is refused."""
    try:
        fd = open_nofollow(path, O_RDWR | O_CREAT | O_EXCL, 0o666)
    except FileExistsError:
        pass
    else:
        with contextlib.suppress(OSError):
            fchmod(fd, 0o666)
        return fd
    try:
        return open_nofollow(path, O_RDWR)
    except PermissionError:
        return open_nofollow(path, O_RDONLY)


def own_dir(path: Path, levels: int = 1) -> Path:
    """Make the folder ``path`` whose last ``levels`` names are folders pyshelf makes in a
    shared place (the cache's ``.pyshelf/partial``, a bundle's release folder); returns it.

    Each of those must be a real folder: a link (or anything else) planted in the place of
    one is refused (NotOurFile), so nothing written below it lands elsewhere. The folders
    above them are the user's choice, links included, and are made as they are.
    """
    levels = min(levels, len(path.parents))  # "/x" has one folder above it
    current = path.parents[levels - 1]
    current.mkdir(parents=True, exist_ok=True)
    for name in path.parts[-levels:]:
        shared = group_shared(current)
        current = current / name
        try:
            os.mkdir(current)
        except FileExistsError:
            pass
        else:
            if shared:  # the umask may have taken the group's write bit: give it back
                with contextlib.suppress(OSError):
                    os.chmod(current, stat.S_IMODE(os.lstat(current).st_mode) | 0o070)
        mode = os.lstat(current).st_mode
        if not stat.S_ISDIR(mode):
            raise misplaced(current, mode, "a folder")
    return current


def scratch_token() -> str:
    """Eight random hex digits for a scratch name, as ``secrets.token_hex(4)`` makes them."""
    return os.urandom(4).hex()


def new_scratch_file(directory: Path, prefix: str, suffix: str = "") -> tuple[int, Path]:
    """Create a new file, mode 0600, named ``prefix + random + suffix`` in ``directory``, as
    ``tempfile.mkstemp`` does; returns its open descriptor and its path."""
    flags = O_RDWR | NEW_FILE
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


_TREE_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC


def remove_tree(path: Path) -> None:
    """Delete a directory tree, as ``shutil.rmtree`` does (it raises the first error), with
    one unlink per entry relative to its directory's descriptor. Links are removed, never
    followed: a directory swapped for a link midway fails to open (O_NOFOLLOW).

    No recursion, and one descriptor open at a time, so no depth is too deep (a hostile
    archive or a planted folder can nest thousands of levels): the walk goes down by name
    and back up through ``..``, and a parent that is not the directory it came from (one
    moved midway) stops it rather than deleting in the wrong place."""

    if not FOLDER_FDS:  # Windows: no folder descriptors; rmtree removes junctions unfollowed
        import shutil

        shutil.rmtree(path)
        return

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

"""Apparent disk usage of directory trees, like ``du -sb``, without spawning du."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Container, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tui.engine.platform import flags

_DIR_FLAGS = os.O_RDONLY | flags.O_DIRECTORY | flags.O_CLOEXEC
_SEP = os.sep  # paths below a root are joined as os.path.abspath spells them ("\\" on Windows)


def _open_dir(directory: str) -> int | None:
    """A descriptor to scan ``directory`` by, each lstat then an fstatat relative to it (short
    lookups); None where folders take no descriptors (Windows): scan and lstat by path."""
    return os.open(directory, _DIR_FLAGS) if flags.FOLDER_FDS else None


def stat_tree(root: str) -> Iterator[os.stat_result]:
    """lstat of ``root`` and of everything below it; never follows symlinks."""
    try:
        st = os.lstat(root)
    except OSError:
        return  # missing: counts 0
    yield st
    if not stat.S_ISDIR(st.st_mode):
        return
    lstat, is_dir = os.lstat, stat.S_ISDIR  # hot loop: local names
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            fd = _open_dir(directory)
        except OSError:
            continue
        try:
            with os.scandir(directory if fd is None else fd) as entries:
                for entry in entries:
                    try:
                        st = lstat(entry.name, dir_fd=fd) if fd is not None else lstat(entry.path)
                    except OSError:
                        continue  # vanished or unreadable: du warns and goes on
                    if is_dir(st.st_mode):
                        stack.append(f"{directory}{_SEP}{entry.name}")
                    yield st
        finally:
            if fd is not None:
                os.close(fd)


@dataclass(frozen=True, slots=True)
class Measured:
    size: int  # apparent bytes, each hard-linked inode counted where the tally first met it
    shared: int  # bytes of hard-linked files left out because an earlier path holds them
    # Which earlier trees (by the order the tally measured them, from 0) hold those files.
    sharers: frozenset[int] = frozenset()


class Tally:
    """Sizes of several trees measured in turn with one seen-inode set, as one ``du -sb a b``
    invocation prints them: a file hard-linked into two trees counts in the first one only."""

    def __init__(self) -> None:
        self.seen: dict[tuple[int, int], int] = {}  # inode -> the tree that counted it
        self.trees = 0  # trees measured so far

    def measure(
        self,
        path: Path | str,
        skip: Container[str] = (),
        cancel: threading.Event | None = None,
    ) -> Measured | None:
        """The tree's bytes not counted before; None when ``cancel`` was set meanwhile.
        Entries whose path (``path`` joined with names by ``os.sep``) is in ``skip`` are left
        out with all they hold (measured on their own).

        The walk of ``stat_tree``, written out with the tally inside it: one ``lstat`` per
        entry, by name relative to its directory's descriptor, and nothing else made per
        entry (no generator step, no path string but a directory's). The syscalls cost what
        ``du``'s do; the rest is Python making each ``stat_result``.
        """
        if cancel is not None and cancel.is_set():
            return None
        root = os.fspath(path)
        seen, tree, sharers = self.seen, self.trees, set()
        self.trees += 1
        lstat, is_dir = os.lstat, stat.S_ISDIR  # hot loop: local names
        try:
            st = lstat(root)
        except OSError:
            return Measured(0, 0)  # missing: counts 0
        if not is_dir(st.st_mode):
            if st.st_nlink > 1:
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    return Measured(0, st.st_size, frozenset([seen[key]]))
                seen[key] = tree
            return Measured(st.st_size, 0)
        size, shared = st.st_size, 0
        stack = [root]
        while stack:
            directory = stack.pop()
            if cancel is not None and cancel.is_set():
                return None
            try:
                fd = _open_dir(directory)
            except OSError:
                continue
            try:
                with os.scandir(directory if fd is None else fd) as entries:
                    for entry in entries:
                        name = entry.name
                        if skip and f"{directory}{_SEP}{name}" in skip:
                            continue  # measured on its own
                        try:
                            st = lstat(name, dir_fd=fd) if fd is not None else lstat(entry.path)
                        except OSError:
                            continue  # vanished or unreadable: du warns and goes on
                        if is_dir(st.st_mode):
                            stack.append(f"{directory}{_SEP}{name}")
                        elif st.st_nlink > 1:
                            key = (st.st_dev, st.st_ino)
                            if key in seen:
                                shared += st.st_size  # another link to an inode counted before
                                sharers.add(seen[key])
                                continue
                            seen[key] = tree
                        size += st.st_size
            finally:
                if fd is not None:
                    os.close(fd)
        return Measured(size, shared, frozenset(sharers))

    def size(self, path: Path | str) -> int:
        measured = self.measure(path)
        assert measured is not None  # no cancel event, so never stopped
        return measured.size


def tree_size(path: Path | str) -> int:
    """Apparent size in bytes of ``path`` and everything below it, as ``du -sb`` reports.

    Counts directories' and symlinks' own sizes, each hard-linked inode once, never follows
    symlinks, and treats a missing path as 0.
    """
    return Tally().size(path)


def freed_size(path: Path | str, *more: Path | str) -> int:
    """Apparent bytes that deleting ``path`` (and ``more``, together) would give back: a
    hard-linked file counts only when every one of its links is inside the trees deleted
    (not when an unpacked store or an install left in place shares it), and then once."""
    return sum(freed_sizes([path, *more]))


def freed_sizes(paths: Sequence[Path | str]) -> list[int]:
    """``freed_size`` of the union of ``paths``, split per path: a shared inode whose links
    all lie in the union counts once, for the last path that holds one. Paths go in that
    order, so that is the removal that really frees it: each step's figure is what its
    execution reports."""
    per = [0] * len(paths)
    shared: dict[tuple[int, int], list[int]] = {}  # inode -> [links seen, nlink, size, index]
    for index, path in enumerate(paths):
        for st in stat_tree(os.fspath(path)):
            if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode):
                key = (st.st_dev, st.st_ino)
                found = shared.setdefault(key, [0, st.st_nlink, st.st_size, index])
                found[0] += 1
                found[3] = index
            else:
                per[index] += st.st_size
    for seen, nlink, size, index in shared.values():
        if seen >= nlink:
            per[index] += size
    return per

"""Apparent disk usage of directory trees, like ``du -sb``, without spawning du."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

_Seen = set[tuple[int, int]]


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
            # Scan by fd so each lstat is an fstatat relative to the directory: short lookups.
            fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    try:
                        st = lstat(entry.name, dir_fd=fd)
                    except OSError:
                        continue  # vanished or unreadable: du warns and goes on
                    if is_dir(st.st_mode):
                        stack.append(f"{directory}/{entry.name}")
                    yield st
        finally:
            os.close(fd)


def _size(root: str, seen: _Seen) -> int:
    total = 0
    for st in stat_tree(root):
        if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode):
            key = (st.st_dev, st.st_ino)
            if key in seen:
                continue  # another link to an inode already counted
            seen.add(key)
        total += st.st_size
    return total


def tree_size(path: Path | str) -> int:
    """Apparent size in bytes of ``path`` and everything below it, as ``du -sb`` reports.

    Counts directories' and symlinks' own sizes, each hard-linked inode once, never follows
    symlinks, and treats a missing path as 0.
    """
    return _size(os.fspath(path), set())


def tree_sizes(paths: Iterable[Path | str]) -> dict[Path, int]:
    """Sizes of several trees sharing one seen-inode set, like ``du -sb a b``: an inode
    hard-linked into two trees counts in the first only."""
    seen: _Seen = set()
    return {Path(p): _size(os.fspath(p), seen) for p in paths}


def freed_size(path: Path | str, *more: Path | str) -> int:
    """Apparent bytes that deleting ``path`` (and ``more``, together) would give back: a
    hard-linked file counts only when every one of its links is inside the trees deleted
    (not when an unpacked store or an install left in place shares it), and then once."""
    total = 0
    shared: dict[tuple[int, int], list[int]] = {}  # inode -> [links seen here, nlink, size]
    for root in (path, *more):
        for st in stat_tree(os.fspath(root)):
            if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode):
                shared.setdefault((st.st_dev, st.st_ino), [0, st.st_nlink, st.st_size])[0] += 1
            else:
                total += st.st_size
    return total + sum(size for seen, nlink, size in shared.values() if seen >= nlink)

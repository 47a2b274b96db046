"""Apparent disk usage of directory trees, like ``du -sb``, without spawning du."""

from __future__ import annotations

import marshal
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Container, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from tui.engine import treewalk
from tui.engine.platform import flags
from tui.engine.treewalk import Link, Sized, Walker, settle

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


class Job(NamedTuple):
    """A tree for ``Tally.measure_all``."""

    path: Path | str
    skip: Container[str] = ()  # paths left out with all they hold (measured on their own)
    # Trees of one group are walked by one process: trees that share files go together, so
    # no process hands back many links to settle.
    group: object = None
    folder: bool = True  # False: one file, one lstat (walked here, never counted as a tree)


# Below this many trees a helper's round trip (about 30 ms here) costs more than it saves.
PARALLEL_MIN_TREES = 12
_MAX_WALKERS = 4  # the walk is bound by the system calls: more helpers only queue up


def _cores() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


class Tally:
    """Sizes of several trees measured in turn with one seen-inode set, as one ``du -sb a b``
    invocation prints them: a file hard-linked into two trees counts in the first one only."""

    def __init__(self) -> None:
        self._walker = Walker(_DIR_FLAGS, flags.FOLDER_FDS)
        self.trees = 0  # trees measured so far

    def measure(
        self,
        path: Path | str,
        skip: Container[str] = (),
        cancel: threading.Event | None = None,
    ) -> Measured | None:
        """The tree's bytes not counted before; None when ``cancel`` was set meanwhile.
        Entries whose path (``path`` joined with names by ``os.sep``) is in ``skip`` are left
        out with all they hold (measured on their own)."""
        tree = self.trees
        self.trees += 1
        sized = self._walker.walk(tree, os.fspath(path), skip, cancel)
        return None if sized is None else _measured(sized)

    def measure_all(
        self,
        jobs: Sequence[Job],
        cancel: threading.Event | None = None,
        walked: Callable[[int, Measured], None] | None = None,
    ) -> list[Measured] | None:
        """``measure`` of each job in turn, with the same figures, the walk shared among
        helper processes when there are enough trees and cores; None when ``cancel`` was set
        meanwhile. A helper that fails has its trees walked here.

        ``walked(index, measured)`` hears of each tree this process walks as it is done, for
        progress: a figure that a hard link met by a helper changes is final only in the
        list returned."""
        folders = sum(job.folder for job in jobs)
        walkers = min(_cores(), _MAX_WALKERS, folders // (PARALLEL_MIN_TREES // 2))
        if folders < PARALLEL_MIN_TREES or walkers < 2:
            out = []
            for index, job in enumerate(jobs):
                measured = self.measure(job.path, job.skip, cancel)
                if measured is None:
                    return None
                out.append(measured)
                if walked is not None:
                    walked(index, measured)
            return out
        first = self.trees
        self.trees += len(jobs)
        numbered = [
            (first + n, os.fspath(job.path), job.skip, job.group, job.folder)
            for n, job in enumerate(jobs)
        ]

        def walked_here(sized: Sized) -> None:
            if walked is not None:
                walked(sized.tree - first, _measured(sized))

        sized = _walk_shared(self._walker, _shares(numbered, walkers), cancel, walked_here)
        if sized is None:
            return None
        return [_measured(sized[first + n]) for n in range(len(jobs))]

    def size(self, path: Path | str) -> int:
        measured = self.measure(path)
        assert measured is not None  # no cancel event, so never stopped
        return measured.size


def _measured(sized: Sized) -> Measured:
    return Measured(sized.size, sized.shared, frozenset(sized.sharers))


_Numbered = tuple[int, str, Container[str], object, bool]  # number, root, skip, group, folder


def _shares(jobs: list[_Numbered], count: int) -> list[list[_Numbered]]:
    """``jobs`` dealt to ``count`` walkers, a group to one walker, about as many folders each
    (largest groups first), each walker's in tree order; single files stay here (the first)."""
    groups: dict[object, list[_Numbered]] = {}
    shares: list[list[_Numbered]] = [[] for _ in range(count)]
    for job in jobs:
        if not job[4]:
            shares[0].append(job)
            continue
        groups.setdefault(job[3] if job[3] is not None else ("tree", job[0]), []).append(job)
    folders = [0] * count
    for group in sorted(groups.values(), key=len, reverse=True):
        least = folders.index(min(folders))
        shares[least].extend(group)
        folders[least] += len(group)
    return [sorted(share) for share in shares if share]


def _walk_shared(
    walker: Walker,
    shares: list[list[_Numbered]],
    cancel: threading.Event | None,
    walked: Callable[[Sized], None],
) -> dict[int, Sized] | None:
    """The first share walked here, the others by helper processes started first; their
    results settled into ``walker``'s memory of inodes."""
    helpers = [(_start_helper(share), share) for share in shares[1:]]
    try:
        sized: dict[int, Sized] = {}
        for tree, root, skip, *_ in shares[0]:
            found = walker.walk(tree, root, skip, cancel)
            if found is None:
                return None
            sized[tree] = found
            walked(found)
        links = [walker.open_links()]
        for helper, share in helpers:
            answer = _answer(helper, cancel)
            if answer is None and cancel is not None and cancel.is_set():
                return None
            if answer is None:  # the helper failed: walk its trees here, one walker's links
                own = Walker(walker.dir_flags, walker.folder_fds)
                for tree, root, skip, *_ in share:
                    found = own.walk(tree, root, skip, cancel)
                    if found is None:
                        return None
                    sized[tree] = found
                links.append(own.open_links())
                continue
            trees, open_links = answer
            sized.update((s.tree, s) for s in trees)
            links.append(open_links)
        walker.seen = settle(sized, links)
        return sized
    finally:
        for helper, _ in helpers:
            if helper is not None and helper.poll() is None:
                helper.kill()
                helper.wait()


def _start_helper(share: list[_Numbered]) -> subprocess.Popen[bytes] | None:
    """A helper process walking ``share``; None when none can start (the share is then
    walked here)."""
    if not sys.executable or getattr(sys, "frozen", False):
        return None  # no interpreter to run the helper with (embedded, or a frozen app)
    jobs = [(tree, root, tuple(sorted(skip))) for tree, root, skip, *_ in share]  # type: ignore[call-overload]
    try:
        helper = subprocess.Popen(
            [sys.executable, "-I", "-S", treewalk.__file__],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    except OSError:
        return None
    assert helper.stdin is not None
    try:
        helper.stdin.write(marshal.dumps((_DIR_FLAGS, flags.FOLDER_FDS, jobs)))
        helper.stdin.close()
        helper.stdin = None  # written: ``communicate`` only reads from here on
    except OSError:
        helper.kill()
        helper.wait()
        return None
    return helper


def _answer(
    helper: subprocess.Popen[bytes] | None, cancel: threading.Event | None
) -> tuple[list[Sized], list[Link]] | None:
    """What a helper found; None when it failed or ``cancel`` was set while it walked."""
    if helper is None:
        return None
    while True:
        try:
            out, _ = helper.communicate(timeout=0.1)
            break
        except subprocess.TimeoutExpired:
            if cancel is not None and cancel.is_set():
                return None
    if helper.returncode:
        return None
    try:
        trees, links = marshal.loads(out)
        return [Sized(*s) for s in trees], [Link(*link) for link in links]
    except (ValueError, EOFError, TypeError):
        return None


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

"""The walk under ``du``: apparent sizes of trees as one ``du -sb a b c`` gives them, walked
here or shared out to helper processes that each walk whole trees.

A walk costs one ``lstat`` per entry, and in Python making each ``stat_result`` costs about as
much as the system call, so one interpreter reaches about half ``du``'s pace. Each helper is
an interpreter of its own (threads would share one lock), so with two cores two walks run at
once. Run as a script, ``python -I -S treewalk.py``, this module is such a helper: it reads
its trees from stdin and writes their sizes to stdout, ``marshal``-encoded, between pyshelf
and its own child. It imports nothing of pyshelf's: a helper with nothing to walk comes
and goes in about 30 ms here.

Hard links: an inode is counted in the first tree (by tree number) that holds a link to it.
A walker forgets an inode once it has met all its links; those it has not (another walker
may hold the rest) are handed back, and ``settle`` moves each to its first tree.
"""

from __future__ import annotations

import marshal
import os
import stat
import sys
import threading
from collections.abc import Container, Sequence
from typing import NamedTuple

Inode = tuple[int, int]  # st_dev, st_ino


class Sized(NamedTuple):
    tree: int
    size: int  # bytes, each hard-linked inode counted in the first tree that holds it
    shared: int  # bytes of hard-linked files left out because an earlier tree holds them
    sharers: tuple[int, ...]  # those earlier trees


class Link(NamedTuple):
    """A hard-linked file whose links a walker has not all met."""

    dev: int
    ino: int
    tree: int  # the first tree, of this walker's, that holds it (it counted the bytes there)
    size: int
    nlink: int
    again: tuple[int, ...]  # the trees where this walker met its other links


class Walker:
    """Walks trees in turn with one memory of the hard-linked inodes met so far."""

    def __init__(self, dir_flags: int, folder_fds: bool) -> None:
        self.dir_flags = dir_flags  # O_RDONLY | O_DIRECTORY | O_CLOEXEC where there are such
        self.folder_fds = folder_fds  # scan and lstat by folder descriptor (not on Windows)
        # Hard-linked files with links not all met: inode -> [first tree, size, nlink, and
        # the tree of each other link met]. The list's length tells how many are met.
        self.seen: dict[Inode, list[int]] = {}

    def walk(
        self,
        tree: int,
        root: str,
        skip: Container[str] = (),
        cancel: threading.Event | None = None,
    ) -> Sized | None:
        """The size of the tree at ``root`` (numbered ``tree``); entries whose path is in
        ``skip`` are left out with what they hold. None when ``cancel`` was set meanwhile.

        One ``lstat`` per entry, by name relative to its folder's descriptor, and nothing
        else made per entry but a key for a hard-linked file (and a folder's path).
        """
        if cancel is not None and cancel.is_set():
            return None
        seen, sharers = self.seen, set()
        lstat, is_dir, sep = os.lstat, stat.S_ISDIR, os.sep  # hot loop: local names
        try:
            st = lstat(root)
        except OSError:
            return Sized(tree, 0, 0, ())  # missing: counts 0
        if not is_dir(st.st_mode):
            if st.st_nlink > 1:
                return self._linked_root(tree, st)
            return Sized(tree, st.st_size, 0, ())
        size, shared = st.st_size, 0
        stack = [root]
        while stack:
            directory = stack.pop()
            if cancel is not None and cancel.is_set():
                return None
            try:
                fd = os.open(directory, self.dir_flags) if self.folder_fds else None
            except OSError:
                continue
            try:
                with os.scandir(directory if fd is None else fd) as entries:
                    for entry in entries:
                        name = entry.name
                        if skip and f"{directory}{sep}{name}" in skip:
                            continue  # measured on its own
                        try:  # by descriptor: an fstatat; Windows: by path, for the inode
                            st = (
                                entry.stat(follow_symlinks=False)
                                if fd is not None
                                else lstat(entry.path)
                            )
                        except OSError:
                            continue  # vanished or unreadable: du warns and goes on
                        if is_dir(st.st_mode):
                            stack.append(f"{directory}{sep}{name}")
                        elif st.st_nlink > 1:
                            key = (st.st_dev, st.st_ino)
                            first = seen.get(key)
                            if first is None:
                                seen[key] = [tree, st.st_size, st.st_nlink]
                            else:
                                shared += st.st_size  # another link to an inode counted before
                                sharers.add(first[0])
                                first.append(tree)
                                if len(first) - 2 >= first[2]:
                                    del seen[key]  # every link met: none can come again
                                continue
                        size += st.st_size
            finally:
                if fd is not None:
                    os.close(fd)
        return Sized(tree, size, shared, tuple(sharers))

    def _linked_root(self, tree: int, st: os.stat_result) -> Sized:
        key = (st.st_dev, st.st_ino)
        first = self.seen.get(key)
        if first is None:
            self.seen[key] = [tree, st.st_size, st.st_nlink]
            return Sized(tree, st.st_size, 0, ())
        first.append(tree)
        return Sized(tree, 0, st.st_size, (first[0],))

    def open_links(self) -> list[Link]:
        """The hard-linked files met whose other links this walker has not met."""
        return [
            Link(dev, ino, tree, size, nlink, tuple(again))
            for (dev, ino), (tree, size, nlink, *again) in self.seen.items()
        ]


Job = tuple[int, str, Sequence[str]]  # tree number, root, paths left out


def settle(sized: dict[int, Sized], links: Sequence[Sequence[Link]]) -> dict[Inode, list[int]]:
    """Merge the walks of several walkers: each inode that more than one of them met counts in
    the first of its trees; its bytes leave the other walkers' first trees, which share them
    with it now, as do the trees where those walkers met it again. ``sized`` is updated in
    place; returns the inodes whose links are not all met yet, as ``Walker.seen`` holds
    them, for walks that follow."""
    by_inode: dict[Inode, list[Link]] = {}
    for walker in links:
        for link in walker:
            by_inode.setdefault((link.dev, link.ino), []).append(link)
    still: dict[Inode, list[int]] = {}
    for key, found in by_inode.items():
        if len(found) == 1:
            link = found[0]
            still[key] = [link.tree, link.size, link.nlink, *link.again]
            continue
        first = min(link.tree for link in found)
        met: list[int] = []  # the trees of the links met, but the first's
        for link in found:
            met += link.again
            if link.tree == first:
                continue
            met.append(link.tree)
            was = sized[link.tree]
            sized[link.tree] = was._replace(
                size=was.size - link.size, shared=was.shared + link.size
            )
            for tree in (link.tree, *link.again):
                sized[tree] = sized[tree]._replace(sharers=tuple({*sized[tree].sharers, first}))
        if len(met) + 1 < found[0].nlink:
            still[key] = [first, found[0].size, found[0].nlink, *met]
    return still


def _serve() -> None:
    """A helper: trees from stdin, their sizes and open links to stdout."""
    dir_flags, folder_fds, jobs = marshal.loads(sys.stdin.buffer.read())
    walker = Walker(dir_flags, folder_fds)
    sized = [walker.walk(tree, root, frozenset(skip)) for tree, root, skip in jobs]
    trees = [tuple(s) for s in sized if s is not None]  # marshal takes plain tuples only
    sys.stdout.buffer.write(marshal.dumps((trees, [tuple(x) for x in walker.open_links()])))


if __name__ == "__main__":
    _serve()

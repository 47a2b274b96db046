"""Tree sizes measured before, so a listing of many installs does not walk them all again.

A measurement records the size of every install and unpacked copy it walked (in the cache's
state folder, a file per user), with a stamp of the tree taken before the walk: the
inode and mtime of the tree's folder, of the folders in its top two levels and of each
``site-packages`` folder just below them (adding, removing or renaming a file changes its
folder's mtime: a package pip adds or removes, a script in ``bin``, a reinstall's new
folder), and for an unpacked copy, whose tree sits a level lower, the inode, mtime, link
count, size and ctime of its files in the top three levels too (an install linked from the
copy changes their link counts). A measurement that trusts the records (``list``, the
app's table) reads a tree's size from its record while the stamp holds, and walks the rest;
``du`` and the disk view never trust them and record afresh, and ``verify`` drops them.

What a stamp cannot see: a file rewritten in place (not replaced), or a file added deeper
down, in a folder that already existed (a ``.pyc`` written by running the interpreter, into
a ``__pycache__`` it had). ``du`` and the disk view measure in full and correct the record.

Hard links tie trees together: an unpacked copy's files are counted with the install linked
from it (see ``tui.engine.usage.inventory``). Counting them right needs either both trees'
sizes from the record or both walked, so the trees walked are closed over "shares files
with" (as the last walk saw it, and as the entries say now).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

from tui.engine.du import Measured
from tui.engine.fsutil import atomic_write_bytes, own_dir, read_owned

# One file per user: in a group-shared cache each user's installs differ, and a file is read
# only by the user who owns it (``read_owned``), so a shared one would be rewritten by turns.
_UID = getattr(os, "getuid", lambda: None)()
FILE_NAME = "tree-sizes.json" if _UID is None else f"tree-sizes-{_UID}.json"
_VERSION = 1
_MAX_FILE = 16 << 20  # far more than thousands of trees take


def _marks(root: str, depth: int, files: bool) -> list[tuple[object, ...]] | None:
    """What the stamp of the tree at ``root`` is made of, down to ``depth`` levels (folders
    alone, or ``files`` too); None when it is not a folder."""
    try:
        top = os.lstat(root)
    except OSError:
        return None
    if not stat.S_ISDIR(top.st_mode):
        return None
    marks: list[tuple[object, ...]] = [(top.st_dev, top.st_ino, top.st_mtime_ns)]
    level = [root]
    for level_no in range(1, depth + 1):
        below = []
        for folder in level:
            try:
                with os.scandir(folder) as listing:
                    found = [e for e in listing if files or e.is_dir(follow_symlinks=False)]
            except OSError:
                marks.append((folder, "unreadable"))
                continue
            for entry in sorted(found, key=lambda e: e.name):
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    marks.append((entry.name, st.st_ino, st.st_mtime_ns))
                    below.append(entry.path)
                else:
                    marks.append((
                        entry.name, st.st_ino, st.st_mtime_ns, st.st_nlink, st.st_size,
                        st.st_ctime_ns,
                    ))  # fmt: skip
        level = below
        if level_no == depth:
            for folder in level:  # lib/python3.12/site-packages: where pip writes
                with contextlib.suppress(OSError):
                    st = os.lstat(f"{folder}/site-packages")
                    marks.append(("site-packages", st.st_ino, st.st_mtime_ns))
    return marks


def stamp(path: Path | str, depth: int = 2, *, files: bool = False) -> str | None:
    """A digest of what changes when files are added to or removed from the tree at
    ``path``; None when there is no tree there. Adding, removing or renaming a file changes
    its folder's mtime; an unpacked copy looks at its ``files`` too (``depth`` 3: its tree
    sits one level down), for the link counts an install linked from it changes."""
    marks = _marks(os.fspath(path), depth, files)
    if marks is None:
        return None
    return hashlib.blake2b(repr(marks).encode(), digest_size=16).hexdigest()


class _Record:
    __slots__ = ("shared", "sharers", "size", "stamp")

    def __init__(self, stamp: str, size: int, shared: int, sharers: tuple[str, ...]) -> None:
        self.stamp, self.size, self.shared, self.sharers = stamp, size, shared, sharers


def _parse(data: bytes | None) -> dict[str, _Record]:
    """The records in a file pyshelf wrote; anything malformed is left out (then measured)."""
    try:
        saved = json.loads(data or b"{}")
    except (ValueError, RecursionError):
        return {}
    if not isinstance(saved, dict) or saved.get("version") != _VERSION:
        return {}
    trees = saved.get("trees")
    if not isinstance(trees, dict):
        return {}
    out = {}
    for path, fields in trees.items():
        if not isinstance(fields, dict):
            continue
        mark, size, shared, sharers = (fields.get(k) for k in ("stamp", "size", "shared", "by"))
        if (
            isinstance(mark, str)
            and type(size) is int  # not a bool, not a float
            and type(shared) is int
            and size >= 0
            and shared >= 0
            and isinstance(sharers, list)
            and all(isinstance(s, str) for s in sharers)
        ):
            out[path] = _Record(mark, size, shared, tuple(sharers))
    return out


class Tree(NamedTuple):
    """A tree a measurement may take from the record: how deep its stamp looks, and the tree
    the entries say it shares files with now (an unpacked copy's install), if any."""

    depth: int
    files: bool = False  # files' link counts and ctimes, not only folders' mtimes
    partner: str | None = None


class SizeRecords:
    """The records in the cache's state folder, and those a measurement makes. Trees are
    named by absolute path.

    ``trust``: use a record while its tree's stamp holds (``list``, the app); without it every
    tree is walked and recorded anew (``du``, the disk view).
    """

    def __init__(self, state_dir: Path, *, trust: bool) -> None:
        self.path = state_dir / FILE_NAME
        self.trust = trust
        self._saved = _parse(read_owned(self.path, _MAX_FILE))
        self._new: dict[str, _Record] = {}
        self._stamps: dict[str, str | None] = {}  # taken before a walk, for ``note``

    def known(self, trees: Mapping[str, Tree], *, trust: bool = True) -> dict[str, Measured]:
        """Recorded sizes of ``trees`` that still hold: the trees whose stamp is unchanged
        and that share files only with trees also taken from the record. ``trust`` False
        (a killed run's scratch may hold links into any copy): none, stamps taken all the
        same."""
        for path, tree in trees.items():
            self._stamps[path] = stamp(path, tree.depth, files=tree.files)
        if not (self.trust and trust):
            return {}
        ties: dict[str, set[str]] = {path: set() for path in trees}

        def tie(a: str, b: str | None) -> None:
            if b is not None and b in ties:
                ties[a].add(b)
                ties[b].add(a)

        walk: set[str] = set()
        for path, tree in trees.items():
            record = self._saved.get(path)
            if record is None or record.stamp != self._stamps[path]:
                walk.add(path)
            for other in record.sharers if record is not None else ():
                if other not in trees:
                    walk.add(path)  # what it shared files with is gone: its size changed
                tie(path, other)
            tie(path, tree.partner)
        todo = list(walk)
        while todo:  # a tree walked takes the trees it shares files with along
            for tied in ties[todo.pop()] - walk:
                walk.add(tied)
                todo.append(tied)
        return {
            path: Measured(self._saved[path].size, self._saved[path].shared)
            for path in trees
            if path not in walk
        }

    def note(self, path: str, measured: Measured, sharers: Iterable[str]) -> None:
        """Record what a walk of the tree at ``path`` found, under the stamp taken before."""
        mark = self._stamps.get(path)
        if mark is not None:
            record = _Record(mark, measured.size, measured.shared, tuple(sorted(sharers)))
            self._new[path] = record

    def save(self, keep: Iterable[str]) -> None:
        """Keep the records of the trees at ``keep`` (those used and those made now); a
        read-only cache, or a link planted in the place of the state folder, only forgets."""
        keep = set(keep)
        merged = {p: r for p, r in self._saved.items() if p in keep}
        merged.update((p, r) for p, r in self._new.items() if p in keep)
        if not self._new and len(merged) == len(self._saved):
            return  # nothing new: no write
        body = {
            "version": _VERSION,
            "trees": {
                path: {"stamp": r.stamp, "size": r.size, "shared": r.shared, "by": list(r.sharers)}
                for path, r in sorted(merged.items())
            },
        }
        with contextlib.suppress(OSError):
            own_dir(self.path.parent)
            atomic_write_bytes(self.path, json.dumps(body).encode())


def forget(state_dir: Path) -> None:
    """Drop every record: the next listing measures in full (``verify`` does, since a file
    changed in place keeps its tree's stamp)."""
    with contextlib.suppress(OSError):
        (state_dir / FILE_NAME).unlink()

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
_MAX_PROBE = 4096  # paths a stamp is read from: a few dozen in any interpreter's tree


Mark = tuple[object, ...]


def _scan(root: str, depth: int, files: bool) -> tuple[list[Mark], list[str] | None] | None:
    """What the stamp of the tree at ``root`` is made of, down to ``depth`` levels (folders
    alone, or ``files`` too), and the paths below ``root`` those marks were read from, in
    order (None when a folder could not be listed); None when it is not a folder."""
    try:
        top = os.lstat(root)
    except OSError:
        return None
    if not stat.S_ISDIR(top.st_mode):
        return None
    marks: list[Mark] = [(top.st_dev, top.st_ino, top.st_mtime_ns)]
    paths: list[str] | None = []
    level = [""]
    for level_no in range(1, depth + 1):
        below = []
        for folder in level:
            try:
                with os.scandir(f"{root}/{folder}" if folder else root) as listing:
                    found = [e for e in listing if files or e.is_dir(follow_symlinks=False)]
            except OSError:
                marks.append((folder, "unreadable"))
                paths = None
                continue
            for entry in sorted(found, key=lambda e: e.name):
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                rel = f"{folder}/{entry.name}" if folder else entry.name
                marks.append(_mark(entry.name, st))
                if paths is not None:
                    paths.append(rel)
                if stat.S_ISDIR(st.st_mode):
                    below.append(rel)
        level = below
        if level_no == depth:
            for folder in level:  # lib/python3.12/site-packages: where pip writes
                with contextlib.suppress(OSError):
                    rel = f"{folder}/site-packages"
                    marks.append(_mark("site-packages", os.lstat(f"{root}/{rel}")))
                    if paths is not None:
                        paths.append(rel)
    return marks, paths


def _mark(name: str, st: os.stat_result) -> Mark:
    if stat.S_ISDIR(st.st_mode):
        return (name, st.st_ino, st.st_mtime_ns)
    return (name, st.st_ino, st.st_mtime_ns, st.st_nlink, st.st_size, st.st_ctime_ns)


def _probe(root: str, paths: tuple[str, ...]) -> list[Mark] | None:
    """The marks of a tree read again from the paths its last scan read them from, one
    ``lstat`` each, with no folder listed: while a folder's mtime holds, so do the names in
    it, so the marks come out as a scan's would. None when one is gone."""
    try:
        top = os.lstat(root)
        marks: list[Mark] = [(top.st_dev, top.st_ino, top.st_mtime_ns)]
        marks.extend(_mark(rel.rpartition("/")[2], os.lstat(f"{root}/{rel}")) for rel in paths)
    except OSError:
        return None
    return marks if stat.S_ISDIR(top.st_mode) else None


def _digest(marks: list[Mark]) -> str:
    return hashlib.blake2b(repr(marks).encode(), digest_size=16).hexdigest()


def stamp(path: Path | str, depth: int = 2, *, files: bool = False) -> str | None:
    """A digest of what changes when files are added to or removed from the tree at
    ``path``; None when there is no tree there. Adding, removing or renaming a file changes
    its folder's mtime; an unpacked copy looks at its ``files`` too (``depth`` 3: its tree
    sits one level down), for the link counts an install linked from it changes."""
    scanned = _scan(os.fspath(path), depth, files)
    return None if scanned is None else _digest(scanned[0])


def _probe_paths(value: object) -> tuple[str, ...] | None:
    """A record's probe paths, if they are paths below a tree (a record is read back from
    a file: ``..``, absolute paths and anything else are dropped, and the tree scanned)."""
    if not isinstance(value, list) or len(value) > _MAX_PROBE:
        return None
    for rel in value:
        if not isinstance(rel, str) or not rel or rel.startswith("/") or "\\" in rel:
            return None
        if any(part in ("", ".", "..") for part in rel.split("/")):
            return None
    return tuple(value)


class _Record:
    __slots__ = ("probe", "shared", "sharers", "size", "stamp")

    def __init__(
        self,
        stamp: str,
        size: int,
        shared: int,
        sharers: tuple[str, ...],
        probe: tuple[str, ...] | None,
    ) -> None:
        self.stamp, self.size, self.shared, self.sharers = stamp, size, shared, sharers
        self.probe = probe  # where the stamp's marks were read (see ``_probe``)


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
            out[path] = _Record(
                mark, size, shared, tuple(sharers), _probe_paths(fields.get("probe"))
            )
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
        self._probes: dict[str, tuple[str, ...] | None] = {}  # where they were read

    def known(self, trees: Mapping[str, Tree], *, trust: bool = True) -> dict[str, Measured]:
        """Recorded sizes of ``trees`` that still hold: the trees whose stamp is unchanged
        and that share files only with trees also taken from the record. ``trust`` False
        (a killed run's scratch may hold links into any copy): none, stamps taken all the
        same."""
        for path, tree in trees.items():
            self._stamps[path], self._probes[path] = self._stamp(path, tree, self.trust and trust)
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
        known = {}
        for path in trees:
            if path in walk:
                continue
            record = self._saved[path]
            known[path] = Measured(record.size, record.shared)
            if record.probe is None and (probe := self._probes[path]) is not None:
                # A record from before probes (or an unlistable folder's): probed next time.
                self._new[path] = _Record(
                    record.stamp, record.size, record.shared, record.sharers, probe
                )
        return known

    def _stamp(
        self, path: str, tree: Tree, quick: bool
    ) -> tuple[str | None, tuple[str, ...] | None]:
        """The tree's stamp, and where its marks were read. ``quick``: first from where its
        record's were read, which holds for most trees; a tree that changed is scanned."""
        record = self._saved.get(path)
        if quick and record is not None and record.probe is not None:
            marks = _probe(path, record.probe)
            if marks is not None and _digest(marks) == record.stamp:
                return record.stamp, record.probe
        scanned = _scan(path, tree.depth, tree.files)
        if scanned is None:
            return None, None
        marks, paths = scanned
        return _digest(marks), None if paths is None else tuple(paths)

    def note(self, path: str, measured: Measured, sharers: Iterable[str]) -> None:
        """Record what a walk of the tree at ``path`` found, under the stamp taken before."""
        mark = self._stamps.get(path)
        if mark is not None:
            record = _Record(
                mark, measured.size, measured.shared, tuple(sorted(sharers)),
                self._probes.get(path),
            )  # fmt: skip
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
            "trees": {path: _fields(r) for path, r in sorted(merged.items())},
        }
        with contextlib.suppress(OSError):
            own_dir(self.path.parent)
            atomic_write_bytes(self.path, json.dumps(body).encode())


def _fields(record: _Record) -> dict[str, object]:
    fields: dict[str, object] = {
        "stamp": record.stamp, "size": record.size, "shared": record.shared,
        "by": list(record.sharers),
    }  # fmt: skip
    if record.probe is not None:
        fields["probe"] = list(record.probe)
    return fields


def forget(state_dir: Path) -> None:
    """Drop every record: the next listing measures in full (``verify`` does, since a file
    changed in place keeps its tree's stamp)."""
    with contextlib.suppress(OSError):
        (state_dir / FILE_NAME).unlink()

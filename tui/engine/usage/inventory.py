"""What every interpreter and archive costs on disk, grouped by who owns it.

``take_inventory`` lists everything at once from directory listings (fast: a UI can show it
immediately); ``scan_sizes`` then measures the items one by one in the background and reports
each size as it comes.

Sizes are apparent bytes, as ``du -sb`` counts them, and every hard-linked inode counts once
across the whole inventory: the first item scanned that holds a link gets it. Items are scanned
in inventory order, installs before the cache, so the files an install shares with the unpacked
copy it was linked from count with the install, and the unpacked copy shows only what it adds
(nothing, while its install exists). Besides the things a user can remove, the install dir and
the cache each have an item for the rest of their bytes (links, locks, pyshelf's state files,
the directories themselves), and the cache one for each leftover of a killed run, so the uv
group adds up to the first line of ``du -sb <install dir> <cache dir>`` and the cache group to
the second (see ``tui.engine.usage.ledger``). What deleting something would free is a different
number, which a removal plan computes (see ``tui.engine.usage.removal``).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from tui.engine.du import Job, Measured, Tally  # the du walker: sizes here match du's
from tui.engine.fsutil import within
from tui.engine.shelf import Entry, Shelf
from tui.engine.sizerecords import SizeRecords, Tree
from tui.engine.usage.managers import SYSTEM_DIRS, find_foreign, read_version
from tui.engine.usage.registry import GROUP_TITLES
from tui.engine.usage.venvs import Pin, SearchRoot, User, Venv, default_roots, find_users
from tui.engine.usage.versionfiles import Claim, find_manager_pins, resolve

_UNPACKED_NAME = re.compile(r"^[0-9a-f]{16,64}$")
_SCRATCH = ".pyshelf-"  # marks pyshelf's scratch entries in the install dir's .temp


class _Group(StrEnum):
    # Shadows str.title() (a method) with the group's heading; nothing title-cases an Owner.
    @property
    def title(self) -> str:  # type: ignore[override]
        """The group's title in the disk-usage view."""
        return GROUP_TITLES[self.value]


# Who an item belongs to, also the inventory's group order: UV (installs in uv's layout, ours
# or uv's own), CACHE (archives, their unpacked copies, partial downloads), one per
# registry.MANAGERS entry (PYENV, RYE, ...), then SYSTEM.
if TYPE_CHECKING:
    # The members code names; the managers' (built from the registry below) are reached as
    # Owner(name) and by iterating, which mypy types as Owner all the same.
    class Owner(_Group):
        UV = "uv"
        CACHE = "cache"
        SYSTEM = "system"
else:
    Owner = _Group("Owner", [(name.upper(), name) for name in GROUP_TITLES])


class Kind(StrEnum):
    INSTALL = "install"  # a uv-layout install directory
    ARCHIVE = "archive"  # a cached archive file
    UNPACKED = "unpacked"  # an unpacked copy installs are hard-linked from
    PARTIAL = "partial"  # a partial download
    LEFTOVER = "leftover"  # scratch of a killed unpack or install, swept by the next write
    OTHER = "other"  # the rest of the install dir or cache: links, locks, state, directories
    INTERPRETER = "interpreter"  # another manager's unit directory, or a system executable


@dataclass(eq=False, slots=True)
class Item:
    """One thing on disk. Compared by identity: a UI marks the objects it was given."""

    owner: Owner
    kind: Kind
    name: str
    version: str | None
    path: Path
    mtime: float
    deletable: bool
    reason: str | None = None  # why not, when not deletable
    entry: Entry | None = None  # uv-managed items: what Shelf.uninstall / Shelf.evict act on
    size: int | None = None  # set by scan_sizes; None until measured
    # Interpreters only, None until venvs are scanned: the environments that run on it, and
    # the other managers' defaults and pins that name it and nothing else.
    used_by: tuple[User, ...] | None = None
    skip: frozenset[str] = frozenset()  # paths inside ``path`` that other items measure
    shared: int = 0  # hard-linked bytes an earlier item holds (an unpacked copy's install)

    @property
    def is_interpreter(self) -> bool:
        return self.kind in (Kind.INSTALL, Kind.INTERPRETER)

    @property
    def is_file(self) -> bool:
        """A single file rather than a tree (archives, partials, system executables)."""
        return self.kind in (Kind.ARCHIVE, Kind.PARTIAL) or self.owner == Owner.SYSTEM

    def age(self, now: float | None = None) -> float:
        """Seconds since the item last changed."""
        return max(0.0, (time.time() if now is None else now) - self.mtime)


@dataclass(slots=True)
class Inventory:
    items: list[Item]
    install_root: Path  # uv's install dir: venv homes through its minor links are recognised
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    home: Path = field(default_factory=Path.home)
    venvs: list[Venv] | None = None  # None until scan_venvs (or attach_venvs) ran
    pins: list[Pin] = field(default_factory=list)  # .python-version files scan_venvs found
    claims: list[Claim] = field(default_factory=list)  # other managers' pins (versionfiles)
    # The unpacked copies an uninstall of these entries takes along (Shelf.uninstall trims
    # copies no install uses to Settings.keep_unpacked); None: none go.
    unpacked_going: Callable[[Sequence[Entry]], list[Path]] | None = None
    records: SizeRecords | None = None  # where a full measurement records the trees' sizes

    def groups(self) -> dict[Owner, list[Item]]:
        """Non-empty groups, in Owner order."""
        out: dict[Owner, list[Item]] = {}
        for owner in Owner:
            if members := [i for i in self.items if i.owner == owner]:
                out[owner] = members
        return out

    def total(self, owner: Owner | None = None) -> int | None:
        """Bytes of a group (or of everything); None while any of it is unmeasured."""
        sizes = [i.size for i in self.items if owner is None or i.owner == owner]
        return None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)

    def measured(self) -> bool:
        return all(i.size is not None for i in self.items)

    def scan_sizes(
        self,
        on_size: Callable[[Item, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> bool:
        """Measure every item in full, and record the trees' sizes (``self.records``)."""
        return scan_sizes(self.items, on_size, cancel, self.records)

    def scan_venvs(
        self,
        roots: Sequence[SearchRoot] | None = None,
        *,
        configured: Sequence[Path] = (),
        cwd: Path | None = None,
        cancel: threading.Event | None = None,
    ) -> list[Venv]:
        """Find environments and ``.python-version`` files (default places, ``configured``
        dirs, ``cwd``), and the versions other managers ask for (their variables and global
        files, and their files in ``cwd`` and its parents), and attach them."""
        if roots is None:
            roots = default_roots(configured=configured, cwd=cwd, env=self.env, home=self.home)
        venvs, pins = find_users(roots, cancel=cancel)
        if cancel is not None and cancel.is_set():
            return venvs  # a partial list could hide an environment a removal would break
        self.pins = pins
        self.claims = [
            resolve(pin, self.env, self.home)
            for pin in find_manager_pins(self.env, self.home, cwd)
        ]  # fmt: skip
        self.attach_venvs(venvs)
        return venvs

    def attach_venvs(self, venvs: Iterable[Venv]) -> None:
        """Fill each interpreter's ``used_by`` from ``venvs`` and from the claims that can
        resolve to that interpreter alone."""
        self.venvs = list(venvs)
        for item in self.items:
            if not item.is_interpreter:
                continue
            real = os.path.realpath(item.path)
            users: list[User] = [
                v for v in self.venvs if v.uses(real, is_file=item.is_file, version=item.version)
            ]
            users += [
                c.pin for c in self.claims
                if len(c.targets) == 1 and within(c.targets[0], real)
            ]  # fmt: skip
            item.used_by = tuple(users)

    def holder(self, target: str) -> Item | None:
        """The interpreter a claim's target (a real path) lies in, if the inventory has it."""
        for item in self.items:
            if item.is_interpreter and within(target, os.path.realpath(item.path)):
                return item
        return None


def scan_sizes(
    items: Sequence[Item],
    on_size: Callable[[Item, int], None] | None = None,
    cancel: threading.Event | None = None,
    records: SizeRecords | None = None,
    *,
    walk: bool = True,
) -> bool:
    """Measure ``items`` as one ``du -sb`` of them in order would (a hard-linked file counts
    in the first that holds it), calling ``on_size`` once for each: as its walk ends where
    this process walks it, else once all are measured. Many trees are walked by several
    processes at once (``Tally.measure_all``); a size told early changes only when a hard
    link a helper met moves its bytes (the item then holds the final figure).

    With ``records``, the trees whose record still holds are read from it (when it trusts
    them), and the trees walked are recorded (see ``tui.engine.sizerecords``); ``walk=False``
    measures nothing and returns False when a tree would have to be walked. Meant for a
    worker thread; returns False when ``cancel`` stopped it (items not reached keep their
    previous size, and nothing is recorded).
    """
    trees = {os.path.abspath(i.path): _tree(i) for i in items if i.kind in _TREES}
    leftovers = any(i.kind == Kind.LEFTOVER for i in items)  # they may link into any copy
    known = records.known(trees, trust=not leftovers) if records is not None else {}
    if not walk and len(known) < len(trees):
        return False  # a tree changed, or was never measured: the caller walks later
    paths = [os.path.abspath(i.path) for i in items]
    pending = [n for n, path in enumerate(paths) if path not in known]
    # The record file is one of the cache's own files, and the total must include it as it
    # is once saved: the items that hold it are measured after the save.
    late = {n for n in pending if records is not None and _holds(items[n], records.path)}
    tally = Tally()
    early = [n for n in pending if n not in late]
    # An unpacked copy goes to one walker with its install (its tree's partner): they share files.
    partner = {path: tree.partner for path, tree in trees.items() if tree.partner}
    jobs = [
        Job(
            items[n].path,
            items[n].skip,
            partner.get(paths[n], paths[n]),
            items[n].kind not in _FILES,
        )
        for n in early
    ]
    told: set[int] = set()  # items whose on_size came as their walk ended

    def progress(index: int, measured: Measured) -> None:
        item = items[early[index]]
        item.size, item.shared = measured.size, measured.shared
        told.add(early[index])
        if on_size is not None:
            on_size(item, measured.size)

    walked = tally.measure_all(jobs, cancel, progress)  # by the tally's order: whom it shares with
    if walked is None:
        return False
    found = dict(zip(early, walked, strict=True))
    if records is not None:
        for n, measured in found.items():
            if paths[n] in trees:
                records.note(paths[n], measured, (paths[early[t]] for t in measured.sharers))
        records.save(trees)  # the records of trees gone go; those of trees kept stay
    for n in sorted(late):
        if (after := tally.measure(items[n].path, items[n].skip, cancel)) is None:
            return False
        found[n] = after
    for n, item in enumerate(items):
        if cancel is not None and cancel.is_set():
            return False  # items not reached keep their previous size
        measured = found.get(n) or known[paths[n]]
        item.size, item.shared = measured.size, measured.shared
        if on_size is not None and n not in told:
            on_size(item, measured.size)
    return True


def _holds(item: Item, target: Path) -> bool:
    """Whether measuring ``item`` counts the file at ``target``."""
    path = os.path.abspath(target)
    return within(path, os.path.abspath(item.path)) and not any(within(path, s) for s in item.skip)


_TREES = (Kind.INSTALL, Kind.UNPACKED)  # the items whose sizes are recorded
_FILES = (Kind.ARCHIVE, Kind.PARTIAL)  # one lstat each


def _tree(item: Item) -> Tree:
    """How ``item``'s record is checked: an unpacked copy's tree is a level down, and it
    shares files with its build's install."""
    if item.kind != Kind.UNPACKED:
        return Tree(2)
    install = item.entry.installation if item.entry is not None else None
    return Tree(3, True, os.path.abspath(install.path) if install is not None else None)


def _mtime(path: Path) -> float:
    try:
        return os.lstat(path).st_mtime
    except OSError:
        return 0.0


def _writable(directory: Path) -> str | None:
    if os.access(directory, os.W_OK | os.X_OK):
        return None
    return f"no write access to {directory}"


def uv_items(shelf: Shelf, entries: Sequence[Entry]) -> list[Item]:
    """uv-layout installs, then the cache: archives, unpacked copies, partial downloads."""
    items: list[Item] = []
    install_reason = _writable(shelf.installs.root)
    installs = [(e.installation, e) for e in entries if e.installation is not None]
    installs.sort(key=lambda pair: (pair[0].parts.sort_key(), pair[0].key), reverse=True)
    for inst, installed in installs:
        items.append(Item(
            Owner.UV, Kind.INSTALL, inst.key, inst.version, inst.path, _mtime(inst.path),
            install_reason is None, install_reason, installed,
        ))  # fmt: skip
    for path in _install_scratch(shelf):
        items.append(Item(
            Owner.UV, Kind.LEFTOVER, f"{path.name} (leftover)", None, path, _mtime(path),
            False, "a killed install's scratch: the next install or uninstall sweeps it", None,
        ))  # fmt: skip
    items += _rest(
        shelf.installs.root, Owner.UV, "(links, locks, dirs)",
        [*(i.path for i in items), shelf.settings.cache_dir],
        "links and locks: they go with the installs",
    )  # fmt: skip

    # Shelf.evict removes a verified build's archive, partial download and unpacked copy
    # together, so those link to the entry; anything else in the cache stands alone.
    by_archive = {os.fspath(e.cached.path): e for e in entries if e.cached is not None}
    evictable = [e for e in entries if e.build.sha256]  # the catalog's, or pyshelf's record
    by_unpacked = {
        shelf.unpacked.path_for(sha).name: e for e in evictable if (sha := e.build.sha256)
    }
    partials = _listing(  # beside them lie their locks, which stay
        shelf.cache.partial_dir,
        lambda e: e.name.endswith(".part") and e.is_file(follow_symlinks=False),
    )
    by_partial = {  # every catalog row's name, only when there is a partial download to name
        shelf.cache.partial_for(e.build).name: e for e in evictable if e.build.url and partials
    }

    cache_reason = _writable(shelf.cache.root)
    for archive in sorted(shelf.cache.scan(), key=lambda a: a.name):
        entry = by_archive.get(os.fspath(archive.path))
        name = archive.name  # the file's name without uv's sha256 prefix
        if entry is not None:  # several builds of one key may be cached: say which
            name = f"{entry.key} (archive{' ' + entry.build.build if entry.build.build else ''})"
        items.append(Item(
            Owner.CACHE, Kind.ARCHIVE, name, entry.build.version if entry else None,
            archive.path, archive.mtime, cache_reason is None, cache_reason, entry,
        ))  # fmt: skip
    unpacked_reason = _writable(shelf.unpacked.root)
    for path in _listing(shelf.unpacked.root, lambda e: e.is_dir(follow_symlinks=False)):
        if not _UNPACKED_NAME.match(path.name):
            continue
        entry = by_unpacked.get(path.name)
        name = f"{entry.key} (unpacked)" if entry else f"{path.name} (unpacked)"
        tree = path / "tree"  # UnpackedStore keeps the tree beside its manifest
        version = entry.build.version if entry else read_version(tree if tree.is_dir() else path)
        items.append(Item(
            Owner.CACHE, Kind.UNPACKED, name, version, path, _mtime(path),
            unpacked_reason is None, unpacked_reason, entry,
        ))  # fmt: skip
    partial_reason = _writable(shelf.cache.partial_dir)
    for path in partials:
        entry = by_partial.get(path.name)
        name = f"{entry.key} (partial download)" if entry else path.name
        items.append(Item(
            Owner.CACHE, Kind.PARTIAL, name, entry.build.version if entry else None,
            path, _mtime(path), partial_reason is None, partial_reason, entry,
        ))  # fmt: skip
    for path in sorted(shelf.unpacked.leftovers()):
        items.append(Item(
            Owner.CACHE, Kind.LEFTOVER, f"{path.name} (leftover)", None, path, _mtime(path),
            False, "a killed unpack's scratch: the next write to the cache sweeps it", None,
        ))  # fmt: skip
    cache_items = [i.path for i in items if i.owner == Owner.CACHE]
    items += _rest(
        shelf.settings.cache_dir, Owner.CACHE, "(pyshelf state, dirs)",
        [*cache_items, shelf.installs.root], "pyshelf's state: catalogs, sizes, locks",
    )  # fmt: skip
    return items


def _install_scratch(shelf: Shelf) -> list[Path]:
    """pyshelf's scratch in the install dir's ``.temp``; the next install sweeps it."""
    return [p for p in _listing(shelf.installs.temp_dir, lambda e: True, dots=True)
            if _SCRATCH in p.name]  # fmt: skip


def _rest(root: Path, owner: Owner, name: str, measured: list[Path], why: str) -> list[Item]:
    """The bytes of ``root`` no other item measures, as one item that is never removed."""
    root = Path(os.path.abspath(root))
    return [Item(
        owner, Kind.OTHER, name, None, root, _mtime(root), False, why,
        skip=frozenset(os.path.abspath(p) for p in measured),
    )]  # fmt: skip


def _listing(
    directory: Path, keep: Callable[[os.DirEntry[str]], bool], *, dots: bool = False
) -> list[Path]:
    try:
        with os.scandir(directory) as entries:
            return sorted(
                Path(e.path) for e in entries if (dots or not e.name.startswith(".")) and keep(e)
            )
    except OSError:
        return []


def take_inventory(
    shelf: Shelf,
    *,
    foreign: bool = True,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    system_dirs: Sequence[Path] = SYSTEM_DIRS,
    entries: Sequence[Entry] | None = None,
) -> Inventory:
    """Everything on disk, no sizes yet. ``entries`` reuses a list the caller already has
    (it must come from ``shelf.entries(all_platforms=True)`` so every archive maps to one)."""
    env = dict(os.environ) if env is None else dict(env)
    home = Path.home() if home is None else home
    if entries is None:
        entries = shelf.entries(all_platforms=True)
    items = uv_items(shelf, entries)
    if foreign:
        exclude = (shelf.installs.root, shelf.settings.cache_dir)
        for found in find_foreign(env, home, system_dirs, exclude):
            items.append(Item(
                Owner(found.manager), Kind.INTERPRETER, found.name, found.version, found.path,
                found.mtime, found.deletable, found.reason,
            ))  # fmt: skip

    def unpacked_going(uninstalled: Sequence[Entry]) -> list[Path]:
        going = [sha for e in uninstalled for sha in shelf.unpacked_going(e)]
        return shelf.unpacked.plan_trim(shelf.settings.keep_unpacked, going)

    records = SizeRecords(shelf.settings.state_dir, trust=False)
    return Inventory(
        items, shelf.installs.root, env, home, unpacked_going=unpacked_going, records=records
    )

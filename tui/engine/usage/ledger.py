"""One ledger of what pyshelf's things cost on disk, and what removing them would free.

Every size pyshelf shows comes from here: the table's Cached and Installed columns, the header
totals, the disk view, ``list --json`` and ``du --json``. It measures the uv-managed part of an
inventory (``tui.engine.usage.inventory``) in one pass that counts each hard-linked inode once.

What "agrees with ``du -sb``" means, exactly: apparent sizes (``st_size``) of every entry,
regular files, symlinks and directories alike, each hard-linked inode counted once, measured
as ONE invocation ``du -sb <install dir> <cache dir>`` measures them: the install dir first. So

* ``installs_total`` is the first line: every install, the minor-version links, uv's lock and
  ``.temp``, and the directory itself;
* ``cache_total`` is the second line: archives, partial downloads, unpacked copies, leftovers
  of killed runs, pyshelf's own state files and the directories. An unpacked copy's files that
  an install hard-links were counted in the first line already; they are ``shared``, so
  ``du -sb <cache dir>`` run on its own prints ``cache_total + shared``.

A build's cost follows the same rule: ``install`` is its install tree, and ``unpacked`` only
what its unpacked copy holds beyond the installs (nothing but the copy's directories and
manifest while the install exists; the whole tree once it is gone). Freeing is a different
question, answered by ``uninstall_frees`` and ``evict_frees`` from the disk as it is now: a
file counts there only if every link to it goes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tui.engine.du import freed_size
from tui.engine.shelf import Entry, Shelf
from tui.engine.sizerecords import SizeRecords
from tui.engine.usage.inventory import Item, Kind, Owner, scan_sizes, uv_items


@dataclass(frozen=True, slots=True)
class Cost:
    """What one build holds on disk, in bytes (as the ledger attributes them)."""

    install: int  # its install tree (0 when not installed)
    archive: int  # its cached archive
    partial: int  # a partial download of it
    unpacked: int  # its unpacked copy, beyond the files an install shares
    shared: int  # the copy's files its install holds too (counted in ``install``)

    @property
    def cached(self) -> int:
        """What the build costs in the cache: the Cached column."""
        return self.archive + self.partial + self.unpacked


@dataclass(frozen=True, slots=True)
class Ledger:
    install_dir: Path
    cache_dir: Path
    items: tuple[Item, ...]  # measured, installs first: see ``tui.engine.usage.inventory``

    @classmethod
    def measure(
        cls,
        shelf: Shelf,
        entries: Sequence[Entry] | None = None,
        cancel: threading.Event | None = None,
        *,
        walk: bool = True,
    ) -> Ledger | None:
        """Measure the install dir and the cache; None when ``cancel`` stopped it.

        ``entries`` only names the items (pass ``shelf.entries(all_platforms=True)`` when you
        have it); costs are looked up by path, so any entry list can be priced afterwards.
        A tree that has not changed since it was last measured is taken from the record
        (``tui.engine.sizerecords``), and the trees walked are recorded. ``walk=False``: None
        unless every tree's size comes from the record (the rest, single files and the
        folders' own bytes, is measured all the same).
        """
        if entries is None:
            entries = shelf.entries(all_platforms=True)
        items = uv_items(shelf, entries)
        records = SizeRecords(shelf.settings.state_dir, trust=True)
        if not scan_sizes(items, cancel=cancel, records=records, walk=walk):
            return None
        return cls.of(shelf, items)

    @classmethod
    def of(cls, shelf: Shelf, items: Iterable[Item]) -> Ledger:
        """The ledger of an inventory's measured uv and cache items."""
        mine = tuple(i for i in items if i.owner in (Owner.UV, Owner.CACHE))
        assert all(i.size is not None for i in mine), "measure the items first"
        return cls(shelf.installs.root, Path(os.path.abspath(shelf.settings.cache_dir)), mine)

    # -- per build ------------------------------------------------------------------------

    def _by_path(self) -> dict[str, Item]:
        return {os.path.abspath(i.path): i for i in self.items}

    def cost(self, shelf: Shelf, entry: Entry) -> Cost:
        """What ``entry`` costs, by the paths its install and cache files live at."""
        return self.costs(shelf, [entry])[0]

    def costs(self, shelf: Shelf, entries: Sequence[Entry]) -> list[Cost]:
        by_path = self._by_path()

        def item(path: Path | None) -> Item | None:
            return by_path.get(os.path.abspath(path)) if path is not None else None

        out = []
        for entry in entries:
            inst = item(entry.installation.path if entry.installation else None)
            archive = item(entry.cached.path if entry.cached else None)
            partial = copy = None
            if sha := entry.build.sha256:
                partial = item(shelf.cache.partial_for(entry.build)) if entry.build.url else None
                copy = item(shelf.unpacked.path_for(sha))
            out.append(Cost(
                _size(inst), _size(archive), _size(partial), _size(copy),
                copy.shared if copy is not None else 0,
            ))  # fmt: skip
        return out

    def frees(self, shelf: Shelf, entries: Sequence[Entry]) -> list[tuple[int | None, int | None]]:
        """``uninstall_frees`` and ``evict_frees`` of each entry on its own (None where there
        is nothing to remove), from this measurement rather than a walk each: a listing of
        many rows answers them in the time of one. The copies a trim may take are found once.

        By the ledger's rule (a hard-linked file counts in the first tree that holds it, and
        an unpacked copy's files are linked only from its build's install): an uninstall
        frees the install but for what a copy it keeps shares with it, and the copies the
        trim takes; an eviction frees the archive, the partial download and what the copy
        holds beyond the install.
        """
        by_path = self._by_path()

        def item(path: Path | None) -> Item | None:
            return by_path.get(os.path.abspath(path)) if path is not None else None

        def whole(path: Path) -> int:  # a copy's own bytes and those its install shares
            found = item(path)
            if found is None or found.size is None:
                from tui.engine.du import tree_size

                return tree_size(path)
            return found.size + found.shared

        keep, idle = shelf.settings.keep_unpacked, shelf.unpacked.idle_copies()
        out: list[tuple[int | None, int | None]] = []
        for entry, cost in zip(entries, self.costs(shelf, entries), strict=True):
            sha = entry.build.sha256
            copy = item(shelf.unpacked.path_for(sha)) if sha else None
            uninstall = None
            if entry.installation is not None:
                going = shelf.unpacked_going(entry)
                trimmed = shelf.unpacked.plan_trim(keep, going, idle=idle, size=whole)
                kept = copy is not None and os.path.abspath(copy.path) not in {
                    os.path.abspath(t) for t in trimmed
                }
                uninstall = cost.install - (cost.shared if kept else 0)
                uninstall += sum(_size(item(t)) for t in trimmed)
            evict = cost.archive + cost.partial + cost.unpacked if entry.in_cache else None
            out.append((uninstall, evict))
        return out

    def sized(self, shelf: Shelf, entries: Sequence[Entry]) -> list[Entry]:
        """The entries as new rows with their measured sizes (``install_size``,
        ``unpacked_size``); the rows given stay as they were."""
        return [
            entry._replace(
                install_size=cost.install if entry.installation is not None else None,
                unpacked_size=cost.unpacked,
            )
            for entry, cost in zip(entries, self.costs(shelf, entries), strict=True)
        ]

    # -- totals ----------------------------------------------------------------------------

    def total(self, owner: Owner, kind: Kind | None = None) -> int:
        return sum(
            _size(i) for i in self.items if i.owner == owner and (kind is None or i.kind == kind)
        )

    @property
    def installs_total(self) -> int:
        """The first line of ``du -sb <install dir> <cache dir>``."""
        return self.total(Owner.UV)

    @property
    def cache_total(self) -> int:
        """The second line of ``du -sb <install dir> <cache dir>``."""
        return self.total(Owner.CACHE)

    @property
    def shared(self) -> int:
        """Bytes in the cache that installs hard-link too (counted with the installs)."""
        return sum(i.shared for i in self.items if i.owner == Owner.CACHE)

    @property
    def leftovers(self) -> int:
        """Scratch of killed runs, install dir and cache; the next write there sweeps it."""
        return self.total(Owner.UV, Kind.LEFTOVER) + self.total(Owner.CACHE, Kind.LEFTOVER)

    def summary(self) -> dict[str, object]:
        """The totals as ``du --json`` prints them."""
        return {
            "install_dir": str(self.install_dir),
            "cache_dir": str(self.cache_dir),
            "installs_total": self.installs_total,
            "cache_total": self.cache_total,
            "cache_shared_with_installs": self.shared,
            "cache_parts": {
                str(kind): self.total(Owner.CACHE, kind)
                for kind in (Kind.ARCHIVE, Kind.PARTIAL, Kind.UNPACKED, Kind.LEFTOVER, Kind.OTHER)
            },
            "leftovers": self.leftovers,
        }


def _size(item: Item | None) -> int:
    return item.size or 0 if item is not None else 0


# -- what an action frees ------------------------------------------------------------------


def uninstall_paths(shelf: Shelf, entries: Iterable[Entry]) -> list[Path]:
    """What ``Shelf.uninstall`` of ``entries`` deletes: the installs, then the unpacked copies
    that go with them under the keep policy (``Settings.keep_unpacked``)."""
    installed = [e for e in entries if e.installation is not None]
    going = [sha for e in installed for sha in shelf.unpacked_going(e)]
    trimmed = shelf.unpacked.plan_trim(shelf.settings.keep_unpacked, going)
    return [*(e.installation.path for e in installed if e.installation), *trimmed]


def evict_paths(shelf: Shelf, entries: Iterable[Entry]) -> list[Path]:
    """What ``Shelf.evict`` of ``entries`` deletes: archive, partial download, unpacked copy."""
    paths: list[Path] = []
    for entry in entries:
        if entry.cached is not None:
            paths.append(entry.cached.path)
        if (sha := entry.build.sha256) and entry.build.url:
            paths.append(shelf.cache.partial_for(entry.build))
        if sha:
            paths.append(shelf.unpacked.path_for(sha))
    return paths


def uninstall_frees(shelf: Shelf, entries: Iterable[Entry]) -> int:
    """Bytes an uninstall of ``entries`` gives back, hard links counted once and only when
    every link goes (an unpacked copy kept hot keeps the files it shares)."""
    paths = uninstall_paths(shelf, entries)
    return freed_size(*paths) if paths else 0


def evict_frees(shelf: Shelf, entries: Iterable[Entry]) -> int:
    """Bytes an eviction of ``entries`` gives back (an unpacked copy its install still links
    frees only its own directories and manifest)."""
    paths = evict_paths(shelf, entries)
    return freed_size(*paths) if paths else 0

"""What an uninstall or an eviction will delete, and the bytes that really come free.

An install made from the cache's unpacked copy shares its files with that copy through hard
links, so deleting one of the two frees only what the other does not share. The figures here
follow the disk, not the apparent sizes: a confirmation never promises more than it frees.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tui.engine.du import freed_size
from tui.engine.shelf import Entry, Shelf


@dataclass(frozen=True, slots=True)
class Removal:
    path: Path | None  # None for a partial download named by its build
    label: str
    freed: int
    note: str = ""  # why less comes free than the files add up to


def preview_uninstall(shelf: Shelf, entries: Iterable[Entry]) -> list[Removal]:
    out = []
    for entry in entries:
        if entry.installation is None:
            continue
        path = entry.installation.path
        note = ""
        if shelf.unpacked_tree(entry) is not None:
            note = "files shared with the cache stay for an offline reinstall"
        out.append(Removal(path, str(path), freed_size(path), note))
    return out


def preview_evict(shelf: Shelf, entries: Iterable[Entry]) -> list[Removal]:
    out = []
    for entry in entries:
        if entry.cached is not None:
            out.append(Removal(entry.cached.path, str(entry.cached.path), entry.cached.size))
        if entry.partial_bytes:
            partial = shelf.cache.partial_for(entry.build)
            out.append(Removal(partial, f"partial download of {entry.key}", entry.partial_bytes))
        tree = shelf.unpacked_tree(entry)
        if tree is not None:
            note = "shared with the install, which keeps it" if entry.installation else ""
            out.append(Removal(tree, str(tree), freed_size(tree), note))
    return out

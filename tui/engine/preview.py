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
    """The installs, then the unpacked copies that go with them (all of them unless hot
    copies are kept, see ``Settings.keep_unpacked``): ``Shelf.uninstall`` frees the sum."""
    entries = [e for e in entries if e.installation is not None]
    going = [sha for e in entries for sha in shelf.unpacked_going(e)]
    cap = shelf.settings.keep_unpacked
    trimmed = shelf.unpacked.plan_trim(cap, going)
    out = []
    deleted: list[Path] = []
    before = 0

    def freed_by(*paths: Path) -> int:
        # What ``paths`` add once the removals before them are done: a file they share with
        # those counts once, in the step that deletes its last link.
        nonlocal before
        deleted.extend(paths)
        after = freed_size(*deleted)
        freed, before = after - before, after
        return freed

    mine = {shelf.unpacked.path_for(sha) for sha in going}
    for entry in entries:
        assert entry.installation is not None
        path = entry.installation.path
        note = ""
        if any(shelf.unpacked.path_for(sha) not in trimmed for sha in shelf.unpacked_going(entry)):
            note = "files shared with the cache's unpacked copy stay for a quick reinstall"
        out.append(Removal(path, str(path), freed_by(path), note))
    for copy in trimmed:
        note = "its unpacked copy goes with it" if copy in mine else "unused unpacked copy"
        out.append(Removal(copy, str(copy), freed_by(copy), note))
    return out


def preview_evict(shelf: Shelf, entries: Iterable[Entry]) -> list[Removal]:
    out = []
    for entry in entries:
        if entry.cached is not None:
            out.append(Removal(entry.cached.path, str(entry.cached.path), entry.cached.size))
        if entry.partial_bytes:
            partial = shelf.cache.partial_for(entry.build)
            out.append(Removal(partial, f"partial download of {entry.key}", entry.partial_bytes))
        if shelf.unpacked_tree(entry) is not None and entry.build.sha256:
            copy = shelf.unpacked.path_for(entry.build.sha256)
            note = "shared with the install, which keeps it" if entry.installation else ""
            out.append(Removal(copy, str(copy), freed_size(copy), note))
    return out

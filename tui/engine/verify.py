"""``verify``: hash every cached archive and every file of every unpacked copy in full.

The cheap check before a reinstall (one lstat per file) misses an edit that kept a file's size
and mtime; hashing does not. A damaged unpacked copy is dropped, so the next install unpacks
the archive again; a damaged archive is left for ``fetch``, which replaces it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from tui.engine.archives.cache import CachedArchive, sha256_file
from tui.engine.progress import NULL, Reporter
from tui.engine.shelf import Entry, Shelf
from tui.engine.sizerecords import forget


class Checked(NamedTuple):
    """One archive or unpacked copy hashed, and what was found."""

    kind: str  # "archive" or "unpacked"
    path: Path
    key: str | None  # the build it belongs to, when a listing names it
    problems: tuple[str, ...]  # one line each, naming the file; none: it matches
    repair: str | None  # what was done about them, or what to do


@dataclass(slots=True)
class Verification:
    archives: int = 0
    copies: int = 0
    problems: list[str] = field(default_factory=list)  # one line each, naming the file
    repairs: list[str] = field(default_factory=list)  # what was done about them
    checked: list[Checked] = field(default_factory=list)  # every item, in the order hashed

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(
    shelf: Shelf,
    entries: Sequence[Entry] | None = None,
    *,
    on_line: Callable[[str], None] | None = None,
    reporter: Reporter = NULL,
) -> Verification:
    """Verify ``entries``' archives and unpacked copies, or everything in the cache (None)."""
    result = Verification()

    def say(line: str, into: list[str]) -> None:
        into.append(line)
        if on_line is not None:
            on_line(line)

    all_entries = shelf.entries(all_platforms=True)
    by_archive = {e.cached.path: e for e in all_entries if e.cached is not None}
    by_copy = {shelf.unpacked.path_for(sha).name: e for e in all_entries if (sha := e.build.sha256)}
    if entries is None:
        archives = shelf.cache.scan()
        copies = [c.name for c in shelf.unpacked.copies()]
    else:
        archives = [e.cached for e in entries if e.cached is not None]
        copies = [
            shelf.unpacked.path_for(sha).name
            for e in entries
            if (sha := e.build.sha256) and shelf.unpacked.path_for(sha).exists()
        ]

    for archive in archives:
        result.archives += 1
        entry = by_archive.get(archive.path)
        problem = _archive_problem(archive, entry, reporter)
        key = entry.key if entry is not None else None
        if problem is None:
            result.checked.append(Checked("archive", archive.path, key, (), None))
            continue
        line = f"{archive.path}: {problem}"
        say(line, result.problems)
        repair = f"`pyshelf fetch {key or 'it'}` downloads it again"
        say(repair, result.repairs)
        result.checked.append(Checked("archive", archive.path, key, (line,), repair))

    if entries is None:
        for refusal in shelf.cache.strays():  # a link in a shared cache: named, never read
            say(str(refusal), result.problems)

    for name in copies:
        result.copies += 1
        copy = shelf.unpacked.path_for(name)
        entry = by_copy.get(name)
        if shelf.unpacked.get(name) is None:
            found = [f"{copy}: not an unpacked copy pyshelf can check (no tree and manifest)"]
        else:
            found = shelf.unpacked.verify(name, reporter=reporter)
        key = entry.key if entry is not None else None
        if not found:
            result.checked.append(Checked("unpacked", copy, key, (), None))
            continue
        for line in found:
            say(line, result.problems)
        shared = shelf.unpacked.in_use(name)
        shelf.unpacked.remove(name)
        repair = (
            f"dropped the unpacked copy of {key or name}; the next install unpacks the archive "
            "again"
        )
        if shared and entry is not None:
            repair += f"; `pyshelf reinstall {entry.key}` repairs the install that shares its files"
        say(repair, result.repairs)
        result.checked.append(Checked("unpacked", copy, key, tuple(found), repair))
    # A file changed in place keeps its tree's stamp: the next listing measures in full.
    forget(shelf.settings.state_dir)
    return result


def _archive_problem(archive: CachedArchive, entry: Entry | None, reporter: Reporter) -> str | None:
    try:
        got = sha256_file(archive.path, reporter)
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    if entry is not None and entry.build.sha256:
        want = entry.build.sha256
        if got != want:
            says = "the catalog says" if entry.available else "pyshelf recorded"
            return f"sha256 {got}, {says} {want}"
        return None
    # No catalog lists it: uv's cache names start with the first 9 hex digits of the sha256.
    prefix = archive.path.name.partition("-")[0]
    if not got.startswith(prefix):
        return f"sha256 {got} does not start with {prefix}, as its name says it should"
    return None

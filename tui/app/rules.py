"""Which actions apply to which entry, and what a reinstall will replace.

The answers come only from the entry's state as the engine reports it; the engine still has
the last word when the job runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tui.app.present import show_path
from tui.engine.jobs import JobKind
from tui.engine.shelf import Entry

DESTRUCTIVE = (JobKind.UNINSTALL, JobKind.EVICT)
VERBS = {
    JobKind.FETCH: "fetch",
    JobKind.INSTALL: "install",
    JobKind.REINSTALL: "reinstall",
    JobKind.UNINSTALL: "uninstall",
    JobKind.EVICT: "evict",
    JobKind.REMOVE: "remove",
}


def why_not(
    kind: JobKind, entry: Entry, *, offline: bool = False, busy: JobKind | None = None
) -> str | None:
    """Why ``kind`` does not apply to ``entry``, or None when it does.

    ``busy`` is the kind of an unfinished job on the same build: nothing is deleted under it.
    """
    if busy is not None and kind in DESTRUCTIVE:
        return f"a {VERBS[busy]} job is running on it (c in the queue cancels it)"
    cached = entry.cached is not None
    installed = entry.installation is not None
    if kind == JobKind.FETCH:
        # On a cached archive a fetch verifies its sha256 again; that needs the catalog's.
        if not entry.available:
            return "not in the catalog: nothing to download or verify against"
        if offline and not cached:
            return "offline: cannot download"
    elif kind == JobKind.INSTALL:
        if installed:
            return "already installed: press r to reinstall" + ("" if cached else " (f first)")
        if not cached and not entry.available:
            return "neither in the catalog nor in the cache"
        if not cached and offline:
            return "not cached and offline: cannot download"
    elif kind == JobKind.REINSTALL:
        if not cached:
            return "not cached: press f to fetch"
    elif kind == JobKind.UNINSTALL:
        if not installed:
            return "not installed"
    elif kind == JobKind.EVICT and not cached and not entry.partial_bytes:
        return "no archive in the cache"
    return None


def needs_confirmation(kind: JobKind, entries: Iterable[Entry]) -> bool:
    if kind in DESTRUCTIVE:
        return True
    return kind == JobKind.REINSTALL and any(e.installation is not None for e in entries)


@dataclass(frozen=True, slots=True)
class Replacement:
    """An install a reinstall replaces, with its size (None: not measured yet)."""

    path: str
    size: int | None


def replacements(entries: Iterable[Entry]) -> list[Replacement]:
    """What a reinstall replaces. Uninstalls and evictions are removal plans instead
    (``tui.engine.usage.removal.plan_builds``): they free space, and may break environments."""
    return [
        Replacement(show_path(e.installation.path), e.install_size)
        for e in entries
        if e.installation is not None
    ]

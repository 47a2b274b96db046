"""Rebuilds: the catalog's newer build of a patch that is installed.

python-build-standalone publishes every live patch again under a new build tag (3.12.11 as
``+20250630``, then as ``+20250828``). An install is of the build it was made from (its
``BUILD`` file, and the archive pyshelf recorded: see ``tui.engine.installs.records``); the
catalog's newer build of the same installation key is its rebuild. ``pyshelf upgrade``
installs a rebuild as it installs a newer patch; a reinstall reinstalls the build that is
there, and an install of the key finds it installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from tui.engine.builds import build_order
from tui.engine.shelf import Entry


def installed_build(
    entry: Entry, entries: Iterable[Entry], *, on_rebuild: Callable[[str], object] | None = None
) -> Entry:
    """The entry of the build installed under ``entry``'s key when that is another build than
    ``entry``'s (a request resolves to the catalog's newest); else ``entry`` itself.
    ``on_rebuild`` is told, in a line, when ``entry`` is a rebuild of what is installed."""
    if entry.installation is not None:
        return entry
    installed = next((e for e in entries if e.key == entry.key and e.installation), entry)
    newer = build_order(entry.build.build) > build_order(installed.build.build)
    if installed is not entry and newer and on_rebuild is not None:
        on_rebuild(
            f"{installed.key} is installed as build {installed.build.build}; the catalog has a "
            f"rebuild, {entry.build.build}: `pyshelf upgrade {installed.key}` installs it"
        )
    return installed


def rebuilds_of(
    rows: Sequence[Entry], entries: Iterable[Entry], *, offline: bool = False
) -> list[Entry | None]:
    """For each of ``rows``, the newest build of an installed row's key that is newer than
    the installed one and can be installed (a catalog lists it; ``offline``: its archive is
    cached), else None. ``entries`` are grouped by key once: a listing of many installs
    would otherwise compare every row with every entry."""
    installed = {e.key for e in rows if e.installation is not None}
    by_key: dict[str, list[Entry]] = {}
    for e in entries:
        key = e.key
        if key in installed and (e.cached is not None or (e.available and not offline)):
            by_key.setdefault(key, []).append(e)
    out: list[Entry | None] = []
    for entry in rows:
        if entry.installation is None:
            out.append(None)
            continue
        mine = build_order(entry.build.build)
        newer = [e for e in by_key.get(entry.key, ()) if build_order(e.build.build) > mine]
        out.append(max(newer, key=lambda e: build_order(e.build.build), default=None))
    return out

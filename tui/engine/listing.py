"""Which entries a listing shows by default."""

from __future__ import annotations

from collections.abc import Iterable

from tui.engine.resolve import parse_request
from tui.engine.shelf import Entry


def default_view(entries: Iterable[Entry]) -> list[Entry]:
    """The newest patch of each minor (per implementation and variant), plus anything on disk."""
    entries = list(entries)
    newest: dict[tuple[str, int, int, str | None, str], Entry] = {}
    for entry in entries:
        if not entry.available:
            continue
        b = entry.build
        group = (b.implementation, b.major, b.minor, b.variant, b.platform)
        best = newest.get(group)
        # A stable release beats a newer pre-release of the same minor.
        rank = (not b.is_prerelease, b.sort_key())
        if best is None or rank > (not best.build.is_prerelease, best.build.sort_key()):
            newest[group] = entry
    keep = {id(e) for e in newest.values()}
    return [
        e for e in entries
        if id(e) in keep or e.cached or e.installation or e.partial_bytes
    ]  # fmt: skip


def filter_request(entries: Iterable[Entry], text: str) -> list[Entry]:
    request = parse_request(text)
    return [e for e in entries if request.matches(e.build)]

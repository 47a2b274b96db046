"""Which entries a listing shows: what ``uv python list`` lists, plus what is on disk.

uv lists the downloads a request allows, newest first, and of each minor (per
implementation, variant and libc; per OS and architecture too with ``--all-platforms``) only
its newest patch unless ``--all-versions``; of each patch one build (the release, not its
release candidates; x86_64, not its x86_64_v3 build). It does not list debug builds; pyshelf
does when the request names them (``3.13d``).
"""

from __future__ import annotations

from collections.abc import Iterable

from tui.engine import platforms
from tui.engine.platforms import Host
from tui.engine.requests.resolve import Request, parse_request
from tui.engine.shelf import Entry

ANY = parse_request("any")


def default_view(
    entries: Iterable[Entry], host: Host | None = None, *, all_versions: bool = False
) -> list[Entry]:
    """What ``uv python list`` lists for this machine, plus anything on disk."""
    if host is None:
        from tui.engine.host import current_host

        host = current_host()
    return listed(entries, host, all_versions=all_versions)


def listed(
    entries: Iterable[Entry],
    host: Host,
    request: Request = ANY,
    *,
    all_versions: bool = False,
    all_platforms: bool = False,
) -> list[Entry]:
    """The entries ``uv python list [REQUEST] [--all-versions] [--all-platforms
    --all-arches]`` would list on ``host``, in order (a build with no sha256 too, shown as
    unverifiable), plus the matching ones on disk (cached, installed or partly downloaded)."""
    matching = [e for e in entries if request.fits(e.build, None if all_platforms else host)]
    downloads = [
        e for e in matching
        if e.build.url and (request.asks_debug or "debug" not in (e.build.variant or ""))
    ]  # fmt: skip
    # uv's order: newest first, and of one version its preferred platform first.
    downloads.sort(key=lambda e: platforms.platform_order(*_platform(e), host.arch))
    downloads.sort(key=lambda e: e.build.sort_key(), reverse=True)
    seen_minor: set[tuple[object, ...]] = set()
    seen_patch: set[tuple[object, ...]] = set()
    keep: set[int] = set()
    for entry in downloads:
        b = entry.build
        where = (b.os, b.arch) if all_platforms else ()
        line = (platforms.key_implementation(b.implementation, b.os), b.variant, b.libc, *where)
        minor, patch = (*line, b.major, b.minor), (*line, b.major, b.minor, b.patch)
        if minor in seen_minor and not all_versions:
            continue
        seen_minor.add(minor)
        if patch not in seen_patch:
            seen_patch.add(patch)
            keep.add(id(entry))
    return [
        e for e in matching
        if id(e) in keep or e.cached or e.installation or e.partial_bytes
    ]  # fmt: skip


def _platform(entry: Entry) -> tuple[str, str, str]:
    return entry.build.os, entry.build.arch, entry.build.libc

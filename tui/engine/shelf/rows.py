"""The shelf's rows: the catalog's builds merged with the archive cache and the installs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.engine.archives.cache import CachedArchive, holds_archive
from tui.engine.builds import Build
from tui.engine.installs.installation import Installation, scan_installations
from tui.engine.shelf.entry import Entry, orphan_from_archive, orphan_from_installation

if TYPE_CHECKING:
    from tui.engine.shelf.shelf import Shelf


class _Row:
    """A row while the listing assembles it: filled from the catalog, the cache and the
    installs in turn, then frozen into an ``Entry`` that nothing changes any more."""

    __slots__ = (
        "available",
        "build",
        "cached",
        "download_size",
        "installation",
        "partial_bytes",
        "unpacked_size",
    )  # fmt: skip

    def __init__(self, build: Build, available: bool, download_size: int | None = None) -> None:
        self.build = build
        self.available = available
        self.cached: CachedArchive | None = None
        self.installation: Installation | None = None
        self.download_size = download_size
        self.partial_bytes = 0
        self.unpacked_size: int | None = 0

    @property
    def key(self) -> str:
        return self.build.key

    def frozen(self) -> Entry:
        return Entry(
            self.build, self.available, self.cached, self.installation, self.download_size,
            self.partial_bytes, None, self.unpacked_size,
        )  # fmt: skip


def list_entries(shelf: Shelf, *, all_platforms: bool) -> list[Entry]:
    """Every build of the catalog, plus whatever is cached or installed without one."""
    by_cache_name: dict[str, _Row] = {}
    by_key: dict[str, _Row] = {}
    by_build: dict[tuple[str, str], _Row] = {}  # (key, build tag): every build listed
    copies = {c.name for c in shelf.unpacked.copies()}
    partials = shelf.cache.partial_sizes()

    def add(row: _Row) -> _Row:
        sha = row.build.sha256
        if sha and sha[:16] in copies:
            row.unpacked_size = None  # the ledger measures it
        by_build.setdefault((row.key, row.build.build), row)
        return row

    for build in sorted(shelf.builds(all_platforms), key=Build.sort_key):
        row = _Row(build, bool(build.url and build.sha256), shelf.sizes.get(build))
        name = shelf.cache.path_for(build).name if build.sha256 else ""
        row.partial_bytes = partials.get(name, 0) if name else 0
        if build.sha256 and build.url:
            by_cache_name[name] = row
        by_key[build.key] = add(row)  # the newest build of a key wins
    for archive in shelf.cache.scan():
        row_of = by_cache_name.get(archive.path.name)
        if row_of is None:
            orphan = shelf.provenance.verified_build(archive) or orphan_from_archive(archive)
            if orphan is None or not (all_platforms or orphan.runs_on(shelf.host)):
                continue
            row_of = _Row(orphan, False, archive.size)
            by_cache_name[archive.path.name] = row_of
            by_key.setdefault(orphan.key, row_of)
            if orphan.sha256:  # an install may be of it; never of an archive none checks
                add(row_of)
        row_of.cached = archive
    more: list[_Row] = []  # installs of a build nothing above lists
    for inst in scan_installations(shelf.settings.install_dir):
        owner = by_key.get(inst.key)
        if owner is not None and inst.build and owner.build.build not in ("", inst.build):
            # Another build of the key is installed (the catalog names a rebuild): the
            # install is its own build's, whose record or archive says what it is.
            owner = by_build.get((inst.key, inst.build))
            if owner is None:
                build = shelf.provenance.recorded(inst) or orphan_from_installation(inst)
                owner = add(_Row(build, False))
                more.append(owner)
        if owner is None or (owner.installation is not None):
            owner = _Row(orphan_from_installation(inst), False)
            by_key[inst.key] = owner
        # An install belongs to the key's row even when a newer build of it exists.
        owner.installation = inst
    seen: set[int] = set()
    out = []
    for row in [*by_key.values(), *by_cache_name.values(), *more]:
        if id(row) not in seen:
            seen.add(id(row))
            out.append(row.frozen())
    return sorted(out, key=lambda e: e.build.sort_key(), reverse=True)


def refreshed(shelf: Shelf, entry: Entry) -> Entry:
    """``entry``'s new row once a job changed it (a fetch, an install, an uninstall, an
    eviction): its install, archive, partial download and unpacked copy looked up again. A
    size whose subject changed is unknown again (None, or 0 with no copy), to be measured;
    the others stay."""
    build, sha = entry.build, entry.build.sha256
    inst = shelf.installs.get(entry.key)
    if inst is not None and inst.build and build.build not in ("", inst.build):
        inst = None  # another build of the key is installed: that build's row has it
    cached, partial = entry.cached, entry.partial_bytes
    if build.url and sha:
        cached, partial = shelf.cache.find(build), shelf.cache.partial_size(build)
    elif cached is not None and not holds_archive(cached.path):
        cached = None
    copy = bool(sha) and shelf.unpacked.get(sha or "") is not None
    same = inst == entry.installation
    unpacked = entry.unpacked_size if same and copy == (entry.unpacked_size != 0) else None
    return entry._replace(
        cached=cached, installation=inst, partial_bytes=partial,
        install_size=entry.install_size if same else None,
        unpacked_size=unpacked if copy else 0,
    )  # fmt: skip

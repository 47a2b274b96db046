"""One row of the shelf: a build as the user sees it, and the builds of what only the disk knows.

A row is a snapshot. Nothing changes one in place: a job, a size probe or the disk walk makes
a new row (``Entry._replace``, ``Shelf.refreshed``) and whoever shows rows swaps it in, so a
thread that reads a row never sees it half-changed.
"""

from __future__ import annotations

from typing import NamedTuple

from tui.engine import names
from tui.engine.archives.cache import CachedArchive
from tui.engine.builds import Build
from tui.engine.installs.installation import Installation


class Entry(NamedTuple):
    """A build as the user sees it: available, cached, installed, or several at once.

    A NamedTuple rather than a dataclass: immutable, and the dataclasses module and each
    class it makes cost start-up time that a reinstall feels (see ``tui.engine.builds``).
    """

    build: Build
    available: bool  # a catalog lists it, so it can be downloaded
    cached: CachedArchive | None = None
    installation: Installation | None = None
    download_size: int | None = None
    partial_bytes: int = 0
    install_size: int | None = None  # from the disk walk; None means not known yet
    # What its unpacked copy adds beyond the files an install shares (see
    # tui.engine.usage.ledger): 0 without a copy, None while a copy is there but not
    # measured yet.
    unpacked_size: int | None = 0

    @property
    def key(self) -> str:
        return self.build.key

    @property
    def state(self) -> str:
        if self.installation and self.cached:
            return "installed+cached"
        if self.installation:
            return "installed"
        if self.cached:
            return "cached"
        if self.partial_bytes:
            return "partial"
        # Listed, but with no published sha256 there is nothing to verify a download against.
        return "available" if self.available else "unverifiable"

    @property
    def in_cache(self) -> bool:
        """Whether the cache holds anything of it: archive, partial download, unpacked copy."""
        return self.cached is not None or self.partial_bytes > 0 or self.unpacked_size != 0

    @property
    def cache_size(self) -> int | None:
        """What it costs in the cache, the Cached column: the archive, a partial download and
        what its unpacked copy adds. None while the copy is unmeasured or nothing is cached."""
        if self.unpacked_size is None or not self.in_cache:
            return None
        return (self.cached.size if self.cached else 0) + self.partial_bytes + self.unpacked_size


def orphan_from_archive(archive: CachedArchive) -> Build | None:
    """A cached archive no catalog lists (uv may have cached it from another index)."""
    parsed = names.parse_archive_name(archive.name)
    if parsed is None:
        return None
    major, minor, patch, pre = names.split_version(parsed.version)
    return Build(
        parsed.implementation, major, minor, patch, pre, parsed.variant,
        parsed.os, parsed.arch, parsed.libc, parsed.build, url=None, sha256=None,
    )  # fmt: skip


def orphan_from_installation(inst: Installation) -> Build:
    p = inst.parts
    return Build(
        p.implementation, p.major, p.minor, p.patch, p.prerelease, p.variant,
        p.os, p.arch, p.libc, inst.build, url=None, sha256=None,
    )  # fmt: skip

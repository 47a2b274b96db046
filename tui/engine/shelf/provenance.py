"""Which verified build an archive or an install is, when no catalog lists it any more: as
pyshelf recorded it when it verified the archive, or as a sealed unpacked copy names it."""

from __future__ import annotations

from collections.abc import Callable

from tui.engine.archives.cache import ArchiveCache, CachedArchive
from tui.engine.builds import Build
from tui.engine.installs.installation import Installation
from tui.engine.installs.records import BuildRecords
from tui.engine.installs.unpacked import UnpackedStore
from tui.engine.shelf.entry import orphan_from_archive


class Provenance:
    """Looks builds up in pyshelf's records, the unpacked copies, the cache and the catalog
    (``catalog_builds``, asked only when needed: it may load the catalog)."""

    def __init__(
        self,
        records: BuildRecords,
        unpacked: UnpackedStore,
        cache: ArchiveCache,
        catalog_builds: Callable[[], list[Build]],
    ) -> None:
        self.records = records
        self.unpacked = unpacked
        self.cache = cache
        self.catalog_builds = catalog_builds

    def verified_build(self, archive: CachedArchive) -> Build | None:
        """The build of a cached archive no catalog lists, with the sha256 to check it by: as
        pyshelf recorded it when it verified the archive, else as this user's sealed unpacked
        copy of it names it (a copy made before records were kept). None when neither says."""
        name = archive.path.name
        if (build := self.records.recall(name)) is not None:
            return build
        orphan = orphan_from_archive(archive)
        sha = self.unpacked.sha256_with_prefix(name[:9]) if orphan is not None else None
        if orphan is None or sha is None:
            return None
        build = orphan._replace(sha256=sha)
        self.records.remember(build, name)  # the copy may go before the archive does
        return build

    def recorded(self, inst: Installation) -> Build | None:
        """The recorded build of an install whose archive is no longer cached."""
        same = (inst.key, inst.build)
        records = self.records.recall_all().values()
        return next((b for b in records if (b.key, b.build) == same), None)

    def build_of(self, inst: Installation) -> Build | None:
        """The verified build an install was made from, found by its key and ``BUILD``: in the
        catalog, in pyshelf's records, or in a cached archive a sealed copy vouches for."""
        same = (inst.key, inst.build)
        for build in [*self.catalog_builds(), *self.records.recall_all().values()]:
            if (build.key, build.build) == same and build.sha256:
                return build
        for archive in self.cache.scan():
            orphan = orphan_from_archive(archive)
            if orphan is None or (orphan.key, orphan.build) != same:
                continue
            if (verified := self.verified_build(archive)) is not None:
                return verified
        return None

"""The archive cache, in the layout uv uses for ``UV_PYTHON_CACHE_DIR``."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import NamedTuple

from tui.engine import names
from tui.engine.builds import Build
from tui.engine.fsutil import inside
from tui.engine.progress import NULL, Reporter

_ARCHIVE_SUFFIXES = (".tar.gz", ".tar.zst", ".tar.bz2", ".tar.xz", ".zip")
HASH_CHUNK = 1 << 20


class CachedArchive(NamedTuple):
    path: Path
    size: int
    mtime: float
    name: str  # the archive's name with "+" written as "-"


def sha256_file(path: Path, reporter: Reporter = NULL) -> str:
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            reporter.check("cancelled while verifying")
            digest.update(chunk)
            done += len(chunk)
            reporter.progress(done, total)
    return digest.hexdigest()


class ArchiveCache:
    def __init__(self, root: Path, state_dir: Path) -> None:
        self.root = root
        self.partial_dir = state_dir / "partial"

    def path_for(self, build: Build) -> Path:
        assert build.sha256, "only builds with a published sha256 are cached"
        return inside(self.root, names.cache_file_name(build.sha256, build.filename))

    def partial_for(self, build: Build) -> Path:
        return inside(self.partial_dir, self.path_for(build).name + ".part")

    def partial_size(self, build: Build) -> int:
        if not build.sha256:
            return 0
        try:
            return self.partial_for(build).stat().st_size
        except OSError:
            return 0

    def partial_sizes(self) -> dict[str, int]:
        """The size of every partial download, by its archive's cache name: one listing, not
        a stat per build (``partial_size`` for one)."""
        sizes = {}
        try:
            entries = list(os.scandir(self.partial_dir))
        except OSError:
            return {}
        for entry in entries:
            if entry.name.endswith(".part"):
                try:
                    sizes[entry.name[: -len(".part")]] = entry.stat().st_size
                except OSError:
                    continue
        return sizes

    def find(self, build: Build) -> CachedArchive | None:
        if not build.sha256 or not build.url:
            return None
        path = self.path_for(build)
        try:
            stat = path.stat()
        except OSError:
            return None
        return CachedArchive(path, stat.st_size, stat.st_mtime, path.name[10:])

    def scan(self) -> list[CachedArchive]:
        """Every archive in the cache, including those uv put there."""
        found = []
        try:
            entries = list(os.scandir(self.root))
        except OSError:
            return []
        for entry in entries:
            name = entry.name
            prefix, _, rest = name.partition("-")
            if len(prefix) != 9 or not rest or not name.endswith(_ARCHIVE_SUFFIXES):
                continue
            if not entry.is_file(follow_symlinks=False):
                continue
            stat = entry.stat(follow_symlinks=False)
            found.append(CachedArchive(Path(entry.path), stat.st_size, stat.st_mtime, rest))
        return found

    def evict(self, build: Build) -> int:
        """Remove the archive and any partial download of it; return the bytes freed."""
        freed = 0
        for path in (self.path_for(build), self.partial_for(build)):
            try:
                freed += path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                continue
        return freed

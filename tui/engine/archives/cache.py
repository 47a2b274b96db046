"""The archive cache, in the layout uv uses for ``UV_PYTHON_CACHE_DIR``."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from pathlib import Path
from typing import NamedTuple

from tui.engine import names
from tui.engine.builds import Build
from tui.engine.fsutil import NotOurFile, inside, misplaced, open_nofollow, own_dir
from tui.engine.progress import NULL, Reporter

_ARCHIVE_SUFFIXES = (".tar.gz", ".tar.zst", ".tar.bz2", ".tar.xz", ".zip")
HASH_CHUNK = 1 << 20


class CachedArchive(NamedTuple):
    path: Path
    size: int
    mtime: float
    name: str  # the archive's name with "+" written as "-"


def sha256_file(path: Path, reporter: Reporter = NULL) -> str:
    """The sha256 of a regular file, never read through a link (NotOurFile)."""
    digest = hashlib.sha256()
    done = 0
    with os.fdopen(open_nofollow(path), "rb") as handle:
        total = os.fstat(handle.fileno()).st_size
        while chunk := handle.read(HASH_CHUNK):
            reporter.check("cancelled while verifying")
            digest.update(chunk)
            done += len(chunk)
            reporter.progress(done, total)
    return digest.hexdigest()


def holds_archive(path: Path) -> bool:
    """Whether an archive is cached at ``path``: False when nothing is there, NotOurFile when
    something other than a regular file is (a link planted in a shared cache is never
    followed, and a fifo never read)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(mode):
        raise misplaced(path, mode, "an archive")
    return True


def _archive_name(name: str) -> bool:
    """Named as uv names a cached archive: the sha256's first 9 hex digits, a dash, a name."""
    prefix, _, rest = name.partition("-")
    return len(prefix) == 9 and bool(rest) and name.endswith(_ARCHIVE_SUFFIXES)


class ArchiveCache:
    def __init__(self, root: Path, state_dir: Path) -> None:
        self.root = root
        self.partial_dir = state_dir / "partial"

    def path_for(self, build: Build) -> Path:
        assert build.sha256, "only builds with a published sha256 are cached"
        return inside(self.root, names.cache_file_name(build.sha256, build.filename))

    def partial_for(self, build: Build) -> Path:
        return inside(self.partial_dir, self.path_for(build).name + ".part")

    def make_partial_dir(self) -> Path:
        """``.pyshelf/partial``, made as real folders (a link planted there is refused)."""
        return own_dir(self.partial_dir, levels=2)

    def partial_size(self, build: Build) -> int:
        if not build.sha256:
            return 0
        try:
            st = os.lstat(self.partial_for(build))
        except OSError:
            return 0
        return st.st_size if stat.S_ISREG(st.st_mode) else 0

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
                    if entry.is_file(follow_symlinks=False):
                        sizes[entry.name[: -len(".part")]] = entry.stat().st_size
                except OSError:
                    continue
        return sizes

    def find(self, build: Build) -> CachedArchive | None:
        if not build.sha256 or not build.url:
            return None
        path = self.path_for(build)
        try:
            st = os.lstat(path)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None  # a link or a special file is no archive (``verify`` names it)
        return CachedArchive(path, st.st_size, st.st_mtime, path.name[10:])

    def _named_like_archives(self) -> list[os.DirEntry[str]]:
        """The cache's entries named as uv names archives, whatever they are."""
        try:
            entries = list(os.scandir(self.root))
        except OSError:
            return []
        return [entry for entry in entries if _archive_name(entry.name)]

    def scan(self) -> list[CachedArchive]:
        """Every archive in the cache, including those uv put there."""
        found = []
        for entry in self._named_like_archives():
            if not entry.is_file(follow_symlinks=False):
                continue  # a link or a special file is no archive (``strays`` names it)
            st = entry.stat(follow_symlinks=False)
            rest = entry.name.partition("-")[2]
            found.append(CachedArchive(Path(entry.path), st.st_size, st.st_mtime, rest))
        return found

    def strays(self) -> list[NotOurFile]:
        """What sits under an archive's name without being a regular file (a link planted in
        a shared cache, a fifo): never read, one refusal each."""
        found = []
        for entry in self._named_like_archives():
            with contextlib.suppress(OSError):
                mode = entry.stat(follow_symlinks=False).st_mode
                if not stat.S_ISREG(mode):
                    found.append(misplaced(Path(entry.path), mode, "an archive"))
        return found

    def evict(self, build: Build) -> int:
        """Remove the archive and any partial download of it; return the bytes freed."""
        freed = 0
        for path in (self.path_for(build), self.partial_for(build)):
            try:
                freed += os.lstat(path).st_size
                path.unlink()
            except FileNotFoundError:
                continue
        return freed

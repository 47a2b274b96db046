"""Unpacked copies of verified archives, which installs are hard-linked from.

Layout, inside the cache's ``.pyshelf/``:

    unpacked/.lock                      writers share it; a sweep of leftovers takes it alone
    unpacked/<sha256[:16]>/             one copy, appearing with a single rename:
        tree/                           the archive's tree (top directory stripped)
        manifest                        every entry of tree: type, mode, size, mtime, sha256
    unpacked/.tmp-<id>.pyshelf-<rand>/  an unpack in progress, or a killed one's leftover
    unpacked/.del-<id>.pyshelf-<rand>/  a copy being deleted

An install shares inodes with its copy, so an edit made in the install is an edit to the copy.
Before a copy is reused it is checked against its manifest with one lstat per entry (size,
mtime and mode catch an append or a chmod; extra or missing entries are found too); a copy
that differs is dropped and unpacked again from the verified archive. An edit that keeps size
and mtime is only found by hashing every file: ``verify`` does that.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from tui.engine.errors import PyshelfError, describe_os_error
from tui.engine.fsutil import (
    inside,
    open_lock,
    own_dir,
    read_owned,
    remove_path,
    scratch_token,
)
from tui.engine.installs.copycheck import UNSEALED, CopyDiffers, compare_copy, verify_copy
from tui.engine.installs.linktree import can_link
from tui.engine.installs.manifest import (
    Manifest,
    file_links,
    linked,
    parse,
    render,
)
from tui.engine.platform import locks
from tui.engine.progress import NULL, Reporter

if TYPE_CHECKING:  # a copy that is reused never reads its archive: these load to unpack
    from tui.engine.archives.download import Tap
    from tui.engine.archives.extract import Written

_OURS = ".pyshelf-"  # marks scratch entries (the same mark the install dir's sweep uses)
_TEMP = ".tmp-"
_ASIDE = ".del-"
_TREE = "tree"
_MANIFEST = "manifest"
_ID = re.compile(r"[0-9a-f]{16}")
_MAX_MANIFEST = 64 << 20  # about 100 bytes an entry: far more than any interpreter has


class StoredCopy(NamedTuple):
    """One unpacked copy as the store lists it."""

    name: str  # sha256[:16]
    path: Path  # the copy's directory: its tree and its manifest
    last_used: float  # when an install was made from it or its install went


def _lock_fd(path: Path, *, shared: bool, wait: bool) -> int | None:
    fd = open_lock(path)  # 0666 as uv's, so a shared cache's users all take it
    try:
        if wait:
            locks.lock(fd, shared=shared)
        elif not locks.try_lock(fd, shared=shared):
            os.close(fd)
            return None
    except BaseException:
        os.close(fd)
        raise
    return fd


_UNSEALED = UNSEALED  # its old name, which tests import


class UnpackedStore:
    """Unpacked copies of verified archives, ``root/<sha256[:16]>/``, for hard-link installs.

    A copy (tree and manifest) appears with one rename, so one that exists is complete. Its
    files are shared with installs made from them: nothing may modify them in place, and a
    copy is only reused once ``usable`` has checked it.
    """

    def __init__(self, root: Path, on_warning: Callable[[str], None] | None = None) -> None:
        self.root = Path(root)
        self.on_warning = on_warning  # told once of each leftover a sweep cannot remove
        self._left_alone: set[Path] = set()

    # -- naming --------------------------------------------------------------------------

    def path_for(self, sha256: str) -> Path:
        """The copy's directory (its tree and manifest): what deleting the copy removes."""
        if not re.fullmatch(r"[0-9a-f]{16,64}", sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return inside(self.root, sha256[:16])

    def manifest_for(self, sha256: str) -> Path:
        return self.path_for(sha256) / _MANIFEST

    def get(self, sha256: str) -> Path | None:
        """The copy's tree if one exists, unchecked (``usable`` checks it)."""
        path = self.path_for(sha256) / _TREE
        return path if path.is_dir() else None

    def copies(self) -> list[StoredCopy]:
        """Every copy in the store, newest use first."""
        try:
            names = [e.name for e in os.scandir(self.root) if e.is_dir(follow_symlinks=False)]
        except OSError:
            return []
        found = []
        for name in names:
            if not _ID.fullmatch(name):
                continue
            try:
                used = (self.root / name / _MANIFEST).stat().st_mtime
            except OSError:
                used = 0.0  # no manifest: oldest, the first to go
            found.append(StoredCopy(name, self.root / name, used))
        return sorted(found, key=lambda c: c.last_used, reverse=True)

    def sha256_with_prefix(self, prefix: str) -> str | None:
        """The whole sha256 of the one archive whose digest starts with ``prefix`` (the 9 hex
        digits of uv's cache name) and that this user unpacked here: its sealed manifest names
        it. None when no copy, or more than one, does."""
        found = {
            manifest.archive_sha256
            for copy in self.copies()
            if copy.name.startswith(prefix)
            and (manifest := self.manifest(copy.name, full=False)) is not None
            and manifest.archive_sha256.startswith(prefix)
        }
        return found.pop() if len(found) == 1 else None

    # -- checking ------------------------------------------------------------------------

    def manifest(self, sha256: str, *, full: bool = True) -> Manifest | None:
        """The copy's manifest when this user sealed it for this archive, else None."""
        data = read_owned(self.manifest_for(sha256), _MAX_MANIFEST)
        return None if data is None else parse(data, sha256, full=full)

    def check(self, sha256: str) -> str | None:
        """Why the copy differs from what was unpacked, or None when it matches (or is absent).

        One lstat per entry: a changed size, mtime, mode, file type or link target, and any
        extra or missing entry. Content changes that keep size and mtime need ``verify``.
        """
        tree = self.get(sha256)
        if tree is None:
            return None
        manifest = self.manifest(sha256, full=False)
        if manifest is None:
            return UNSEALED
        return compare_copy(os.fspath(tree), manifest.rows)

    def link_into(self, sha256: str, dest: Path, reporter: Reporter = NULL) -> None:
        """Recreate the copy's tree at ``dest`` (new) with hard links, checking it as ``check``
        does in the same pass: one walk and one lstat per entry for both.

        Raises CopyDiffers when the copy differs from its manifest (or is gone), with
        ``dest`` partly made: the caller removes it, and the copy, and unpacks again.
        """
        tree = self.get(sha256)
        if tree is None:
            raise CopyDiffers("it is gone")
        manifest = self.manifest(sha256, full=False)
        if manifest is None:
            raise CopyDiffers(UNSEALED)
        problem = compare_copy(os.fspath(tree), manifest.rows, os.fspath(dest), reporter)
        if problem is not None:
            raise CopyDiffers(problem)

    def usable(self, sha256: str) -> tuple[Path | None, str | None]:
        """The copy when it matches its manifest; a copy that differs is dropped, and the
        reason is returned with None so the caller can unpack the archive again."""
        if self.get(sha256) is None:
            if self.path_for(sha256).exists():  # no tree inside: an older layout, or damaged
                self.remove(sha256)
            return None, None
        problem = self.check(sha256)
        if problem is None:
            return self.get(sha256), None
        self.remove(sha256)
        return None, problem

    def verify(
        self,
        sha256: str,
        *,
        reporter: Reporter = NULL,
    ) -> list[str]:
        """Every difference between the copy and its manifest, hashing every file in full:
        one line each, naming the file. Empty when the copy is intact (or absent)."""
        tree = self.get(sha256)
        if tree is None:
            return []
        manifest = self.manifest(sha256)
        if manifest is None:
            why = "missing, damaged, planted, or another user's"
            return [f"{self.manifest_for(sha256)}: not sealed by pyshelf for this user ({why})"]
        return verify_copy(tree, manifest, self.check(sha256), reporter)

    def in_use(self, sha256: str) -> bool:
        """Whether an install still shares this copy's files (more links than it was made
        with). While one does, the copy costs almost nothing of its own."""
        manifest = read_owned(self.manifest_for(sha256), _MAX_MANIFEST)
        links = None if manifest is None else file_links(manifest, sha256)
        return links is not None and (tree := self.get(sha256)) is not None and linked(tree, links)

    # -- writing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Shared hold on the store lock for one write, after sweeping what killed runs left.

        Every unpack and deletion holds the lock shared, so a sweep that gets it exclusively
        knows no scratch entry is in use by any process."""
        own_dir(self.root, levels=2)  # .pyshelf/unpacked: a link planted there is refused
        self.sweep()
        fd = _lock_fd(self.root / ".lock", shared=True, wait=True)
        assert fd is not None
        try:
            yield
        finally:
            os.close(fd)  # releases the flock

    def sweep(self) -> int:
        """Delete the scratch entries of unpacks and deletions that were killed; returns the
        bytes freed. Skipped (0) while any process is writing the store."""
        if self.root.is_symlink() or not self.root.is_dir():
            return 0  # none made yet, or not one pyshelf made
        fd = _lock_fd(self.root / ".lock", shared=False, wait=False)
        if fd is None:
            return 0  # an unpack is under way somewhere: its scratch is not a leftover
        freed = 0
        try:
            for path in self.leftovers():
                from tui.engine.du import freed_size

                try:
                    size = freed_size(path)
                    remove_path(path)
                    freed += size
                except FileNotFoundError:
                    pass
                except OSError as exc:  # read-only, immutable, busy: left, and said once
                    if path not in self._left_alone and self.on_warning is not None:
                        self.on_warning(
                            f"left {path} in place: {describe_os_error(exc)}; remove it by hand"
                        )
                    self._left_alone.add(path)
        finally:
            os.close(fd)
        return freed

    def leftovers(self) -> list[Path]:
        """Scratch entries: unpacks and deletions under way, or left by a killed run (the next
        run that writes the store sweeps those)."""
        try:
            entries = list(os.scandir(self.root))
        except OSError:
            return []
        return [Path(e.path) for e in entries if e.name.startswith(".") and _OURS in e.name]

    def add(
        self,
        archive: Path,
        sha256: str,
        *,
        reporter: Reporter = NULL,
    ) -> Path:
        """Unpack ``archive`` unless a copy matching its manifest is already present (a copy
        that does not match is replaced). The archive is hashed by the same pass that unpacks
        it: ChecksumError, and no copy, when it is not the archive ``sha256`` names."""
        tree, _ = self.usable(sha256)  # drops a copy that differs from its manifest
        if tree is not None:
            return tree
        from tui.engine.archives.extract import Written, extract_archive

        def fill(temp: Path) -> Written:
            record = Written()
            extract_archive(archive, temp, reporter=reporter, record=record, sha256=sha256)
            return record

        return self._unpack(sha256, fill)

    def add_stream(
        self,
        sha256: str,
        name: str,
        fetch: Callable[[Tap], object],
    ) -> Path:
        """Unpack an archive while ``fetch`` gets it (a download, or a cached copy it checks),
        one pass over its bytes: ``fetch`` feeds the tap it is given and returns once they
        are verified, or raises and no copy is kept."""
        tree, _ = self.usable(sha256)
        if tree is not None:
            return tree
        from tui.engine.archives.extract import ResettableExtract, Written

        def fill(temp: Path) -> Written:
            tap = ResettableExtract(name, temp, record=Written())
            tap.run(fetch)
            assert tap.record is not None  # given above
            return tap.record

        return self._unpack(sha256, fill)

    def _unpack(self, sha256: str, fill: Callable[[Path], Written]) -> Path:
        """A new copy: ``fill`` writes the tree in a scratch directory and says what it wrote,
        then tree and manifest appear together with one rename."""
        final = self.path_for(sha256)
        with self._writing():
            temp = self.root / f"{_TEMP}{sha256[:16]}{_OURS}{scratch_token()}"
            try:
                os.mkdir(temp)
                manifest = render(temp / _TREE, sha256, fill(temp / _TREE))
                with open(temp / _MANIFEST, "xb") as handle:
                    handle.write(manifest)
                try:
                    os.rename(temp, final)  # tree and manifest appear together
                except OSError as exc:
                    if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                        raise
                    self._settle(sha256, temp, final)
            except BaseException:
                with contextlib.suppress(OSError):  # else the next sweep's, and said then
                    remove_path(temp)
                raise
        return final / _TREE

    def _settle(self, sha256: str, temp: Path, final: Path) -> None:
        """A copy appeared at ``final`` while ``temp`` was unpacked: another process finished
        the same archive first, and its copy is kept if this user sealed it; anything else
        (planted by someone who can write the store) goes, and ``temp`` takes its place."""
        if self.get(sha256) is not None and self.check(sha256) is None:
            remove_path(temp)
            return
        aside = self.root / f"{_ASIDE}{final.name}{_OURS}{scratch_token()}"
        try:
            os.rename(final, aside)
            os.rename(temp, final)
        except OSError as exc:
            raise PyshelfError(
                f"{final}: cannot replace a copy pyshelf did not make there "
                f"({exc.strerror or exc}); remove it, or use a cache only you can write"
            ) from None
        with contextlib.suppress(OSError):  # another's files may not go: the sweep tries again
            remove_path(aside)

    def can_link_into(self, dest_dir: Path) -> bool:
        """Whether installs in ``dest_dir`` can be hard-linked from copies here. The probe
        file is made under the store's lock, so no sweep takes it midway."""
        with self._writing():
            return can_link(self.root, dest_dir)

    def touch(self, sha256: str) -> None:
        """Mark the copy as just used: the hot-copy cap keeps the most recently used."""
        now = time.time_ns()  # not utime(None): the kernel's file clock ticks coarsely
        with contextlib.suppress(OSError):
            os.utime(self.manifest_for(sha256), ns=(now, now))

    def remove(self, sha256: str) -> int:
        """Delete a copy (tree and manifest); returns the bytes that came free (installs may
        still share some of its files)."""
        path = self.path_for(sha256)
        if not path.exists():
            return 0
        with self._writing():
            aside = self.root / f"{_ASIDE}{path.name}{_OURS}{scratch_token()}"
            try:
                os.rename(path, aside)
            except FileNotFoundError:
                return 0  # another process removed it first
            from tui.engine.du import freed_size

            size = freed_size(aside)
            remove_path(aside)
        return size

    # -- the hot-copy cap ------------------------------------------------------------------

    def plan_trim(
        self,
        keep_bytes: int,
        going: list[str] | None = None,
        *,
        idle: list[Path] | None = None,
        size: Callable[[Path], int] | None = None,
    ) -> list[Path]:
        """The copies a trim to ``keep_bytes`` removes, oldest use first to go.

        Copies an install still links to cost nothing of their own and always stay (and so do
        copies without a manifest, which this store did not make), except those named in
        ``going`` (their installs are being removed); those count as the most recently used,
        in the order given (the last is the newest). ``idle``: what ``idle_copies`` returned,
        for a caller planning many trims; ``size``: a copy's bytes (walked by default).
        """
        going_names = [sha[:16] for sha in going or []]
        cold: list[Path] = [self.root / n for n in reversed(going_names)]
        cold += [
            p for p in (self.idle_copies() if idle is None else idle) if p.name not in going_names
        ]
        if size is None:
            from tui.engine.du import tree_size

            size = tree_size
        kept = 0
        doomed: list[Path] = []
        for path in cold:
            if not path.is_dir():
                continue
            took = size(path)
            if doomed or kept + took > keep_bytes:
                doomed.append(path)  # oldest dropped first: once one does not fit, none older
            else:
                kept += took
        return doomed

    def idle_copies(self) -> list[Path]:
        """The copies this store made that no install links, newest use first: what a trim
        may remove (a manifest read each). Another user's copy in a shared cache is theirs
        to trim: not sealed for us; a copy without a manifest stays for prune and evict."""
        idle = []
        for copy in self.copies():
            manifest = read_owned(self.manifest_for(copy.name), _MAX_MANIFEST)
            links = None if manifest is None else file_links(manifest, copy.name)
            tree = self.get(copy.name)
            if links is not None and tree is not None and not linked(tree, links):
                idle.append(copy.path)
        return idle

    def trim(self, keep_bytes: int, going: list[str] | None = None) -> int:
        """Remove the copies ``plan_trim`` names; returns the bytes freed."""
        for sha in going or []:
            self.touch(sha)
        return sum(self.remove(path.name) for path in self.plan_trim(keep_bytes, going))

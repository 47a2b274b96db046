"""Writing an archive's members into the extraction's folder: every path, link and mode
checked (see ``names``) and written here, whatever the archive (tar or zip) says."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from isal import isal_zlib

from tui.engine.archives.names import check_link_target, escapes, fold, split_member
from tui.engine.archives.tarstream import (
    DIRECTORY,
    HARDLINK,
    REGULAR,
    SPECIAL,
    SYMLINK,
    Member,
    TarReader,
)
from tui.engine.errors import ArchiveError
from tui.engine.platform.flags import NEW_FILE, O_WRONLY, UTIME_FD
from tui.engine.platform.links import link_or_copy

if TYPE_CHECKING:
    from tui.engine.archives.zipread import ZipReader  # a .zip alone loads zipfile

_OPEN_FLAGS = O_WRONLY | NEW_FILE  # O_BINARY on Windows: bytes land as they are


def _file_mode(mode: int) -> int:
    """tarfile's ``data`` filter rules, keeping executable bits."""
    mode &= 0o755  # no setuid/setgid/sticky, no group/other write
    if not mode & 0o100:
        mode &= ~0o111  # executable only if the owner may execute it
    return mode | 0o600


class Written:
    """What an extraction wrote, for the manifest of an unpacked copy: no second walk. (A
    plain class: an install need not load dataclasses.)"""

    __slots__ = ("dirs", "files", "links")

    def __init__(self) -> None:
        # Each regular file (and hard link to one): its status after writing, and the CRC-32
        # of its bytes, which catches an edit that keeps size and mtime (sha256 took a fifth
        # of an install; the archive itself is checked by sha256).
        self.files: dict[str, tuple[os.stat_result, str]] = {}
        self.dirs: set[str] = set()  # below the root ("" is the root)
        self.links: dict[str, str] = {}  # symlink -> target


class Extractor:
    def __init__(
        self, name: str, dest: Path, record: Written | None, check: Callable[[], None]
    ) -> None:
        self.name = name  # the archive's, for messages
        self.check = check  # raises Cancelled: called between members and inside long ones
        self.dest = os.fspath(dest)
        self.record = record
        self.top: str | None = None
        self.dirs: set[str] = {""}
        self.files: set[str] = set()  # regular files (and hard links to them)
        self.links: dict[str, str] = {}  # symlink path -> target, both relative to the root
        # Every entry by ``fold``ed path: its exact path and kind ("d", "f", "l"), so that two
        # names a case-insensitive disk makes one cannot smuggle a link onto a path.
        self.folded: dict[str, tuple[str, str]] = {"": ("", "d")}
        self.folded_links: dict[str, str] = {}  # fold(symlink path) -> target

    def finish(self) -> None:
        """Every member is written: an archive with none is refused; the record is told."""
        if self.top is None:
            raise ArchiveError(f"{self.name}: the archive is empty")
        if self.record is not None:
            self.record.dirs, self.record.links = self.dirs, self.links

    def fail(self, member: str, why: str) -> ArchiveError:
        return ArchiveError(f"{self.name}: member {member!r}: {why}")

    def relative(self, member: str, name: str) -> list[str] | None:
        """Path below the stripped top directory; None for the top directory itself."""
        try:
            parts = split_member(name)
        except ValueError as exc:
            raise self.fail(member, str(exc)) from None
        if not parts:
            return None
        if self.top is None:
            self.top = parts[0]
        elif parts[0] != self.top:
            raise self.fail(member, f"outside the top-level directory {self.top!r}")
        return parts[1:]

    def path(self, rel: str) -> str:
        return f"{self.dest}/{rel}"

    def ensure_parents(self, member: str, parts: list[str], rel: str) -> None:
        if rel.rpartition("/")[0] in self.dirs:  # the parent is there: most members
            return
        for i in range(1, len(parts)):
            prefix = "/".join(parts[:i])
            if prefix in self.dirs:
                continue
            if self.folded.get(fold(prefix), ("", "d"))[1] != "d":
                # Never write through a symlink (or into a file), whatever the case of its
                # name: that is how escapes happen.
                raise self.fail(member, f"path goes through non-directory {prefix!r}")
            os.mkdir(self.path(prefix))
            self.dirs.add(prefix)
            self.folded.setdefault(fold(prefix), (prefix, "d"))

    def add(self, tar: TarReader | ZipReader, member: Member) -> None:
        parts = self.relative(member.name, member.name)
        if parts is None or not parts:
            if member.type == DIRECTORY:
                return  # the top-level directory itself
            raise self.fail(member.name, "a file at the top level; expected one directory")
        rel = "/".join(parts)
        kind = member.type
        if kind == DIRECTORY:
            if rel in self.dirs:
                return
            self.check_new(member.name, rel, "d")
            self.ensure_parents(member.name, parts, rel)
            os.mkdir(self.path(rel))
            self.dirs.add(rel)
            return
        self.check_new(member.name, rel, "l" if kind == SYMLINK else "f")
        if kind == REGULAR:
            self.ensure_parents(member.name, parts, rel)
            self.write_file(tar, member, rel)
            self.files.add(rel)
        elif kind == SYMLINK:
            self.add_symlink(member, parts, rel)
        elif kind == HARDLINK:
            self.add_hardlink(member, parts, rel)
        else:
            what = SPECIAL.get(kind, f"type {kind!r}")
            raise self.fail(member.name, f"{what} entries are not allowed")

    def check_new(self, member: str, rel: str, kind: str) -> None:
        """Refuse a duplicate, and a name that a case-insensitive disk makes the same as an
        earlier one where that matters: a link on either side, or a file and a folder.
        (Two files or two folders differing in case are left to O_EXCL and merging.)"""
        if rel in self.dirs or rel in self.files or rel in self.links:
            raise self.fail(member, "duplicate member")
        key = fold(rel)
        other = self.folded.get(key)
        if other is None:
            self.folded[key] = (rel, kind)
        elif "l" in (kind, other[1]) or kind != other[1]:
            why = f"differs only in case from {other[0]!r}, the same name on some disks"
            raise self.fail(member, why)

    def write_file(self, tar: TarReader | ZipReader, member: Member, rel: str) -> None:
        fd = os.open(self.path(rel), _OPEN_FLAGS, _file_mode(member.mode))
        try:
            crc = 0
            whole = tar.whole()  # most files: one write, no generator
            for chunk in tar.data() if whole is None else (whole,):
                if whole is None:
                    self.check()  # a long member (or a hostile endless one) can be cancelled
                if (n := os.write(fd, chunk)) < len(chunk):
                    _write_all(fd, chunk[n:])  # a short write (a full disk's last bytes): rare
                if self.record is not None:
                    crc = isal_zlib.crc32(chunk, crc)
            # Keep mtimes: bytecode caches are validated against the source's mtime.
            mtime = int(member.mtime * 1_000_000_000)
            if UTIME_FD:
                os.utime(fd, ns=(mtime, mtime))
                if self.record is not None:
                    self.record.files[rel] = (os.fstat(fd), f"{crc:08x}")
        finally:
            os.close(fd)
        if not UTIME_FD:  # Windows: by name, once closed (a close may set the time)
            os.utime(self.path(rel), ns=(mtime, mtime))
            if self.record is not None:
                self.record.files[rel] = (os.stat(self.path(rel)), f"{crc:08x}")

    def add_symlink(self, member: Member, parts: list[str], rel: str) -> None:
        target = member.linkname
        if not target or target.startswith("/"):
            raise self.fail(member.name, f"symlink to empty or absolute path {target!r}")
        try:
            check_link_target(target)
        except ValueError as exc:
            raise self.fail(member.name, str(exc)) from None
        links = {**self.folded_links, fold(rel): target}
        if escapes(parts[:-1], target, links):
            raise self.fail(member.name, f"symlink to {target!r} escapes the target directory")
        # A new link can make an earlier one escape (``s -> a/b/../..``, then ``a/b -> .``);
        # only targets with ".." can climb out through it.
        for other, other_target in self.links.items():
            if ".." in other_target and escapes(other.split("/")[:-1], other_target, links):
                why = f"makes symlink {other!r} -> {other_target!r} escape the target directory"
                raise self.fail(member.name, why)
        self.ensure_parents(member.name, parts, rel)
        os.symlink(target, self.path(rel))
        self.links[rel] = target
        self.folded_links[fold(rel)] = target

    def add_hardlink(self, member: Member, parts: list[str], rel: str) -> None:
        source = self.relative(member.name, member.linkname)
        if not source or "/".join(source) not in self.files:
            why = f"hard link to {member.linkname!r}, which is outside or not yet extracted"
            raise self.fail(member.name, why)
        self.ensure_parents(member.name, parts, rel)
        linked = link_or_copy(self.path("/".join(source)), self.path(rel))
        self.files.add(rel)
        if self.record is not None:
            stat, crc = self.record.files["/".join(source)]
            self.record.files[rel] = (stat if linked else os.stat(self.path(rel)), crc)


def prepare_dest(dest: Path) -> None:
    try:
        dest.mkdir()
    except FileExistsError:
        if not dest.is_dir() or dest.is_symlink() or any(dest.iterdir()):
            raise FileExistsError(f"extraction target {dest} exists and is not empty") from None


def _write_all(fd: int, chunk: memoryview) -> None:
    while chunk:
        chunk = chunk[os.write(fd, chunk) :]

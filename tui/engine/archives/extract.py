"""Safe, fast extraction of interpreter archives (.tar.gz/.bz2/.xz/.zst) into a new directory.

tarfile only parses headers here; every path, link and mode is validated and written by this
module, so nothing can land outside the target whatever the archive says. The single top-level
directory (``python/`` for CPython, ``pypy3.10-v7.3.17-linux64/`` for PyPy) is stripped.
"""

from __future__ import annotations

import bz2
import hashlib
import io
import lzma
import os
import tarfile
import zlib
from collections import deque
from pathlib import Path
from typing import IO, Any

from isal import igzip_threaded
from isal.igzip_lib import IsalError

from tui.engine.errors import ArchiveError, Cancelled, PyshelfError
from tui.engine.progress import NULL, Reporter

_CHUNK = 1 << 20
# isal reads 8 blocks of compressed input at a time: 128 KiB blocks give ~1 MiB progress steps.
_GZ_BLOCK = 1 << 17
_TAR_BUFSIZE = 1 << 16  # fewer, larger reads from the decompressor than tarfile's 10 KiB default
_MAX_LINK_HOPS = 40  # like the kernel's ELOOP limit
_MAGIC = {
    b"\x1f\x8b": "gz",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zst",
}
_SPECIAL = {
    tarfile.CHRTYPE: "character device",
    tarfile.BLKTYPE: "block device",
    tarfile.FIFOTYPE: "fifo",
}
# Errors decompressors and tarfile raise for bad bytes (as opposed to a full disk).
_CORRUPT = (
    tarfile.TarError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    IsalError,
    ValueError,
    OverflowError,
)


class _CountingReader(io.RawIOBase):
    """Counts compressed bytes read; the decompressor may read from another thread."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.count += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        n = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        self.count += n or 0
        return n or 0


def _detect_format(raw: IO[bytes], archive: Path) -> str:
    head = raw.read(6)
    raw.seek(0)
    for magic, fmt in _MAGIC.items():
        if head.startswith(magic):
            return fmt
    raise ArchiveError(f"{archive.name}: not a gzip, bzip2, xz or zstd compressed tar archive")


def _zstd_reader(raw: IO[bytes], archive: Path) -> IO[bytes]:
    try:
        import zstandard
    except ImportError:
        try:
            from compression import zstd  # type: ignore[import-not-found]  # Python 3.14+
        except ImportError:
            raise ArchiveError(
                f"{archive.name}: .tar.zst archives need the 'zstandard' package"
            ) from None
        return zstd.ZstdFile(raw)  # type: ignore[no-any-return]
    reader = zstandard.ZstdDecompressor().stream_reader(raw, read_size=_CHUNK)
    return io.BufferedReader(reader, _CHUNK)  # type: ignore[arg-type]


def _decompressed(raw: _CountingReader, fmt: str, archive: Path) -> IO[bytes]:
    if fmt == "gz":
        # isal's threaded reader inflates in a worker thread (GIL released) while we write files.
        return igzip_threaded.open(raw, "rb", threads=1, block_size=_GZ_BLOCK)  # type: ignore[no-any-return]
    if fmt == "bz2":
        return bz2.BZ2File(raw)
    if fmt == "xz":
        return lzma.LZMAFile(raw)
    return _zstd_reader(raw, archive)


def _split(name: str) -> list[str]:
    """Member path components; raises ValueError on absolute paths and ``..``."""
    if name.startswith("/"):
        raise ValueError("absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ValueError("'..' in path")
    return parts


def _escapes(start: list[str], target: str, links: dict[str, str]) -> bool:
    """Whether ``target``, resolved from directory ``start`` through the archive's own symlinks,
    leaves the root. Purely lexical checks miss ``a -> .`` followed by ``b -> a/../..``."""
    stack = list(start)
    pending = deque(target.split("/"))
    hops = 0
    while pending:
        part = pending.popleft()
        if part in ("", "."):
            continue
        if part == "..":
            if not stack:
                return True
            stack.pop()
            continue
        stack.append(part)
        link = links.get("/".join(stack))
        if link is not None:
            hops += 1
            if hops > _MAX_LINK_HOPS or link.startswith("/"):
                return True
            stack.pop()
            pending.extendleft(reversed(link.split("/")))
    return False


_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _file_mode(mode: int) -> int:
    """tarfile's ``data`` filter rules, keeping executable bits."""
    mode &= 0o755  # no setuid/setgid/sticky, no group/other write
    if not mode & 0o100:
        mode &= ~0o111  # executable only if the owner may execute it
    return mode | 0o600


class _Extractor:
    def __init__(self, archive: Path, dest: Path, digests: dict[str, str] | None) -> None:
        self.archive = archive
        self.dest = os.fspath(dest)
        self.digests = digests  # relative path -> sha256 of each regular file, when wanted
        self.top: str | None = None
        self.dirs: set[str] = {""}
        self.files: set[str] = set()  # regular files (and hard links to them)
        self.links: dict[str, str] = {}  # symlink path -> target, both relative to the root

    def fail(self, member: str, why: str) -> ArchiveError:
        return ArchiveError(f"{self.archive.name}: member {member!r}: {why}")

    def relative(self, member: str, name: str) -> list[str] | None:
        """Path below the stripped top directory; None for the top directory itself."""
        try:
            parts = _split(name)
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

    def ensure_parents(self, member: str, parts: list[str]) -> None:
        parent = "/".join(parts[:-1])
        if parent in self.dirs:
            return
        for i in range(1, len(parts)):
            prefix = "/".join(parts[:i])
            if prefix in self.dirs:
                continue
            if prefix in self.files or prefix in self.links:
                # Never write through a symlink (or into a file): that is how escapes happen.
                raise self.fail(member, f"path goes through non-directory {prefix!r}")
            os.mkdir(self.path(prefix))
            self.dirs.add(prefix)

    def add(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        parts = self.relative(member.name, member.name)
        if parts is None or not parts:
            if member.isdir():
                return  # the top-level directory itself
            raise self.fail(member.name, "a file at the top level; expected one directory")
        rel = "/".join(parts)
        if member.isdir():
            if rel in self.dirs:
                return
            self.check_new(member.name, rel)
            self.ensure_parents(member.name, parts)
            os.mkdir(self.path(rel))
            self.dirs.add(rel)
            return
        self.check_new(member.name, rel)
        if member.isreg():
            self.ensure_parents(member.name, parts)
            self.write_file(tar, member, rel)
            self.files.add(rel)
        elif member.issym():
            self.add_symlink(member, parts, rel)
        elif member.islnk():
            self.add_hardlink(member, parts, rel)
        else:
            kind = _SPECIAL.get(member.type, f"type {member.type!r}")
            raise self.fail(member.name, f"{kind} entries are not allowed")

    def check_new(self, member: str, rel: str) -> None:
        if rel in self.dirs or rel in self.files or rel in self.links:
            raise self.fail(member, "duplicate member")

    def write_file(self, tar: tarfile.TarFile, member: tarfile.TarInfo, rel: str) -> None:
        source = tar.extractfile(member)
        if source is None:
            raise self.fail(member.name, "unreadable file entry")
        fd = os.open(self.path(rel), _OPEN_FLAGS, _file_mode(member.mode))
        digest = hashlib.sha256() if self.digests is not None else None
        with open(fd, "wb", buffering=0) as out:
            while chunk := source.read(_CHUNK):
                out.write(chunk)
                if digest is not None:
                    digest.update(chunk)
            if digest is not None and self.digests is not None:
                self.digests[rel] = digest.hexdigest()
            # Keep mtimes: bytecode caches are validated against the source's mtime.
            mtime = int(member.mtime * 1_000_000_000)
            os.utime(fd, ns=(mtime, mtime))

    def add_symlink(self, member: tarfile.TarInfo, parts: list[str], rel: str) -> None:
        target = member.linkname
        if not target or target.startswith("/"):
            raise self.fail(member.name, f"symlink to empty or absolute path {target!r}")
        links = {**self.links, rel: target}
        if _escapes(parts[:-1], target, links):
            raise self.fail(member.name, f"symlink to {target!r} escapes the target directory")
        # A new link can make an earlier one escape (``s -> a/b/../..``, then ``a/b -> .``);
        # only targets with ".." can climb out through it.
        for other, other_target in self.links.items():
            if ".." in other_target and _escapes(other.split("/")[:-1], other_target, links):
                why = f"makes symlink {other!r} -> {other_target!r} escape the target directory"
                raise self.fail(member.name, why)
        self.ensure_parents(member.name, parts)
        os.symlink(target, self.path(rel))
        self.links[rel] = target

    def add_hardlink(self, member: tarfile.TarInfo, parts: list[str], rel: str) -> None:
        source = self.relative(member.name, member.linkname)
        if not source or "/".join(source) not in self.files:
            why = f"hard link to {member.linkname!r}, which is outside or not yet extracted"
            raise self.fail(member.name, why)
        self.ensure_parents(member.name, parts)
        os.link(self.path("/".join(source)), self.path(rel), follow_symlinks=False)
        self.files.add(rel)
        if self.digests is not None:
            self.digests[rel] = self.digests["/".join(source)]


def _prepare_dest(dest: Path) -> None:
    try:
        dest.mkdir()
    except FileExistsError:
        if not dest.is_dir() or dest.is_symlink() or any(dest.iterdir()):
            raise FileExistsError(f"extraction target {dest} exists and is not empty") from None


def extract_archive(
    archive: Path,
    dest: Path,
    *,
    reporter: Reporter = NULL,
    digests: dict[str, str] | None = None,
) -> None:
    """Extract ``archive`` into ``dest`` (new or empty), stripping the top-level directory.

    ``digests``, when given, receives the sha256 of every regular file (by path relative to
    ``dest``), hashed from the bytes as they are written: no second read.

    Raises ArchiveError for corrupt or hostile archives, Cancelled when ``reporter`` is, and
    PyshelfError for I/O failures. Partial output is left in ``dest``: the caller removes it.
    """
    try:
        raw_file = archive.open("rb")
    except OSError as exc:
        raise PyshelfError(f"cannot open archive {archive}: {exc.strerror or exc}") from None
    with raw_file:
        total = os.fstat(raw_file.fileno()).st_size
        fmt = _detect_format(raw_file, archive)
        _prepare_dest(dest)
        counter = _CountingReader(raw_file)
        extractor = _Extractor(archive, dest, digests)
        try:
            with (
                _decompressed(counter, fmt, archive) as stream,
                tarfile.open(fileobj=stream, mode="r|", bufsize=_TAR_BUFSIZE) as tar,
            ):
                _run(tar, extractor, counter, total, reporter)
        except (ArchiveError, Cancelled):
            raise
        except OSError as exc:
            if exc.errno is None:  # decompressors report bad data as errno-less OSError
                raise ArchiveError(f"{archive.name}: corrupt or truncated ({exc})") from None
            where = exc.filename or dest
            raise PyshelfError(f"cannot extract {archive.name}: {exc.strerror} ({where})") from None
        except _CORRUPT as exc:
            raise ArchiveError(f"{archive.name}: corrupt or truncated ({exc})") from None
    reporter.progress(total, total)


def _run(
    tar: tarfile.TarFile,
    extractor: _Extractor,
    counter: _CountingReader,
    total: int,
    reporter: Reporter,
) -> None:
    reported = -1
    for member in tar:
        reporter.check(f"extraction of {extractor.archive.name} cancelled")
        extractor.add(tar, member)
        if counter.count != reported:
            reported = counter.count
            reporter.progress(min(reported, total), total)
    if extractor.top is None:
        raise ArchiveError(f"{extractor.archive.name}: the archive is empty")

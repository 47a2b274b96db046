"""Safe, fast extraction of interpreter archives (.tar.gz/.bz2/.xz/.zst) into a new directory.

Every path, link and mode is validated and written by this module, so nothing can land outside
the target whatever the archive says. The single top-level directory (``python/`` for CPython,
``pypy3.10-v7.3.17-linux64/`` for PyPy) is stripped.

One pass does everything: the compressed bytes are hashed as the decompressor reads them (in
its own thread for gzip), and members are written as the tar stream yields them. A download
feeds the same pass while it lands (``StreamingExtract``), so nothing is read twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import lzma
import os
import queue
import threading
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from isal import isal_zlib
from isal.igzip_lib import IsalError

from tui.engine.archives.decompress import CHUNK as _CHUNK
from tui.engine.archives.decompress import Source as _Source
from tui.engine.archives.decompress import decompressed, detect_format
from tui.engine.archives.names import check_link_target, fold, split_member
from tui.engine.archives.tarstream import (
    DIRECTORY,
    HARDLINK,
    REGULAR,
    SPECIAL,
    SYMLINK,
    Member,
    TarFormatError,
    TarReader,
)
from tui.engine.errors import ArchiveError, Cancelled, ChecksumError, PyshelfError
from tui.engine.fsutil import NotOurFile, open_nofollow, remove_path
from tui.engine.platform.flags import NEW_FILE, O_WRONLY, UTIME_FD
from tui.engine.platform.links import link_or_copy
from tui.engine.progress import NULL, Reporter

_MAX_LINK_HOPS = 40  # like the kernel's ELOOP limit
_TRAILER_LIMIT = 1 << 20  # read on this far past the tar's end, for the decompressor's checks
_BATCH = 1 << 19  # network chunks are ~64 KiB: handing over fewer, larger ones costs less
_QUEUED = 16  # batches a download may run ahead of its extraction (a few MiB)
_POLL = 0.1
# Errors decompressors and the tar reader raise for bad bytes (as opposed to a full disk).
_CORRUPT: tuple[type[Exception], ...] = (
    TarFormatError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    cast(type[Exception], IsalError),  # its stub calls it an instance
    ValueError,
    OverflowError,
)


def _escapes(start: list[str], target: str, links: dict[str, str]) -> bool:
    """Whether ``target``, resolved from directory ``start`` through the archive's own symlinks,
    leaves the root. Purely lexical checks miss ``a -> .`` followed by ``b -> a/../..``.

    ``links`` is keyed by ``fold``ed path: on a case-insensitive disk ``A/..`` goes through
    the link ``a``, so it is followed here whatever the disk."""
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
        link = links.get(fold("/".join(stack)))
        if link is not None:
            hops += 1
            if hops > _MAX_LINK_HOPS or link.startswith("/"):
                return True
            stack.pop()
            pending.extendleft(reversed(link.split("/")))
    return False


_OPEN_FLAGS = O_WRONLY | NEW_FILE  # O_BINARY on Windows: bytes land as they are


def _file_mode(mode: int) -> int:
    """tarfile's ``data`` filter rules, keeping executable bits."""
    mode &= 0o755  # no setuid/setgid/sticky, no group/other write
    if not mode & 0o100:
        mode &= ~0o111  # executable only if the owner may execute it
    return mode | 0o600


@dataclass(slots=True)
class Written:
    """What an extraction wrote, for the manifest of an unpacked copy: no second walk."""

    # Each regular file (and hard link to one): its status after writing, and the CRC-32 of
    # its bytes, which catches an edit that keeps size and mtime (sha256 took a fifth of an
    # install; the archive itself is checked by sha256).
    files: dict[str, tuple[os.stat_result, str]] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)  # below the root ("" is the root)
    links: dict[str, str] = field(default_factory=dict)  # symlink -> target


class _Extractor:
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

    def add(self, tar: TarReader, member: Member) -> None:
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

    def write_file(self, tar: TarReader, member: Member, rel: str) -> None:
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
        if _escapes(parts[:-1], target, links):
            raise self.fail(member.name, f"symlink to {target!r} escapes the target directory")
        # A new link can make an earlier one escape (``s -> a/b/../..``, then ``a/b -> .``);
        # only targets with ".." can climb out through it.
        for other, other_target in self.links.items():
            if ".." in other_target and _escapes(other.split("/")[:-1], other_target, links):
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
    record: Written | None = None,
    sha256: str | None = None,
) -> None:
    """Extract ``archive`` into ``dest`` (new or empty), stripping the top-level directory.

    ``record``, when given, is told every entry written (see ``Written``). ``sha256``, when
    given, is checked against the archive's bytes as the same pass reads them: ChecksumError
    when they differ.

    Raises ArchiveError for corrupt or hostile archives, Cancelled when ``reporter`` is, and
    PyshelfError for I/O failures. Partial output is left in ``dest``: the caller removes it.
    """
    try:  # never through a link, never a fifo (NotOurFile): a cache may be shared
        raw_file = os.fdopen(open_nofollow(archive), "rb", buffering=0)
    except NotOurFile:
        raise
    except OSError as exc:
        raise PyshelfError(f"cannot open archive {archive}: {exc.strerror or exc}") from None
    with raw_file:
        total = os.fstat(raw_file.fileno()).st_size
        digest = hashlib.sha256() if sha256 else None
        source = _Source(lambda: raw_file.read(_CHUNK), digest)
        try:
            extract_stream(
                source, archive.name, dest, reporter=reporter, record=record, total=total
            )
        except ArchiveError:
            if digest is None:
                raise
            source.read_to_end()  # damaged bytes in the cache, or a hostile archive?
            if digest.hexdigest() == sha256:
                raise
        if digest is not None and digest.hexdigest() != sha256:
            raise ChecksumError(
                f"{archive.name}: checksum mismatch: expected sha256 {sha256}, "
                f"got {digest.hexdigest()}"
            )
    reporter.progress(total, total)


def extract_stream(
    source: _Source,
    name: str,
    dest: Path,
    *,
    reporter: Reporter = NULL,
    record: Written | None = None,
    total: int | None = None,
) -> None:
    """Extract the compressed tar that ``source`` yields (see ``extract_archive``); reads the
    source to its end, so a digest it keeps covers every byte."""
    fmt = detect_format(source, name)
    _prepare_dest(dest)
    why = f"extraction of {name} cancelled"
    extractor = _Extractor(name, dest, record, lambda: reporter.check(why))
    try:
        with decompressed(source, fmt, name) as stream:
            tar = TarReader(stream)
            reported = -1
            hashing = source.digest is not None
            for member in tar:
                extractor.check()
                extractor.add(tar, member)
                if hashing:
                    source.hash_pending()
                if source.count != reported:
                    reported = source.count
                    reporter.progress(reported if total is None else min(reported, total), total)
            if extractor.top is None:
                raise ArchiveError(f"{name}: the archive is empty")
            if record is not None:
                record.dirs, record.links = extractor.dirs, extractor.links
            tar.drain(_TRAILER_LIMIT)
        source.read_to_end()
    except (ArchiveError, Cancelled):
        raise
    except OSError as exc:
        if exc.errno is None:  # decompressors report bad data as errno-less OSError
            raise ArchiveError(f"{name}: corrupt or truncated ({exc})") from None
        where = exc.filename or dest
        raise PyshelfError(f"cannot extract {name}: {exc.strerror} ({where})") from None
    except _CORRUPT as exc:
        raise ArchiveError(f"{name}: corrupt or truncated ({exc})") from None


def _write_all(fd: int, chunk: memoryview) -> None:
    while chunk:
        chunk = chunk[os.write(fd, chunk) :]


class StreamingExtract:
    """An extraction fed chunk by chunk as a download lands (a ``Tap``).

    A worker thread inflates and writes while the caller goes on receiving. At most a few
    MiB wait between them, so a slow disk slows the download rather than filling memory. If
    the extraction fails (a hostile archive, a full disk) it takes no more bytes and the
    download goes on to finish the cache's copy; ``finish`` raises the failure.
    """

    def __init__(self, name: str, dest: Path, *, record: Written | None = None) -> None:
        self.offset = 0  # bytes fed so far
        self._batch: list[bytes] = []
        self._batched = 0
        self._queue: queue.Queue[bytes] = queue.Queue(maxsize=_QUEUED)
        self._abandoned = threading.Event()
        self._done = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(name, dest, record), name=f"extract {name}", daemon=True
        )
        self._thread.start()

    def _run(self, name: str, dest: Path, record: Written | None) -> None:
        try:
            extract_stream(_Source(self._next_chunk), name, dest, record=record)
        except BaseException as exc:  # handed to the feeding thread by finish()
            self._error = exc
        finally:
            self._done.set()

    def _next_chunk(self) -> bytes:
        while not self._abandoned.is_set():
            with contextlib.suppress(queue.Empty):
                return self._queue.get(timeout=_POLL)
        raise Cancelled("extraction abandoned")

    def feed(self, chunk: bytes) -> None:
        self.offset += len(chunk)
        self._batch.append(chunk)
        self._batched += len(chunk)
        if self._batched >= _BATCH:
            self._hand_over()

    def _hand_over(self) -> None:
        self._put(b"".join(self._batch) if len(self._batch) > 1 else self._batch[0])
        self._batch, self._batched = [], 0

    def _put(self, item: bytes) -> None:
        while not self._done.is_set():  # a failed extraction takes no more bytes
            with contextlib.suppress(queue.Full):
                self._queue.put(item, timeout=_POLL)
                return

    def finish(self) -> None:
        """Every byte has been fed: wait for the last files, and raise what went wrong."""
        if self._batch:
            self._hand_over()
        self._put(b"")  # the end of the stream
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abandon(self) -> None:
        """Stop without finishing (the caller removes what was written)."""
        self._abandoned.set()
        self._thread.join()


class ResettableExtract:
    """A ``StreamingExtract`` into ``dest`` that starts over when a fetch says the bytes so
    far are void (a ``download.Tap``); ``record``, when given, is what the last one wrote."""

    def __init__(self, name: str, dest: Path, *, record: Written | None = None) -> None:
        self.name, self.dest, self.record = name, dest, record
        self.extraction = StreamingExtract(name, dest, record=record)

    @property
    def offset(self) -> int:
        return self.extraction.offset

    def feed(self, chunk: bytes) -> None:
        self.extraction.feed(chunk)

    def reset(self) -> None:
        self.extraction.abandon()
        remove_path(self.dest)
        if self.record is not None:
            self.record = Written()
        self.extraction = StreamingExtract(self.name, self.dest, record=self.record)

    def run(self, fetch: Callable[[ResettableExtract], object]) -> None:
        """``fetch`` feeds every byte and returns once they are verified; then the last
        files are written. If it raises, the extraction stops and the error goes on."""
        try:
            fetch(self)
        except BaseException:
            self.extraction.abandon()
            raise
        self.extraction.finish()

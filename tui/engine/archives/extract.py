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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, cast

from isal.igzip_lib import IsalError

from tui.engine.archives.decompress import CHUNK as _CHUNK
from tui.engine.archives.decompress import Source as _Source
from tui.engine.archives.decompress import decompressed, detect_format
from tui.engine.archives.tarstream import (
    TarFormatError,
    TarReader,
)
from tui.engine.archives.writer import Extractor, prepare_dest
from tui.engine.archives.writer import Written as Written
from tui.engine.errors import ArchiveError, Cancelled, ChecksumError, PyshelfError
from tui.engine.fsutil import NotOurFile, open_nofollow, remove_path
from tui.engine.progress import NULL, Reporter

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
    NotImplementedError,  # zipfile: a compression method it does not know
)
ZIP_MAGIC = b"PK\x03\x04"  # a .zip's first bytes: only then is zipfile loaded


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
        if raw_file.read(len(ZIP_MAGIC)) == ZIP_MAGIC:
            if sha256:
                _verify(raw_file, archive.name, sha256)
            _extract_zip(raw_file, archive.name, dest, reporter, record)
            reporter.progress(total, total)
            return
        raw_file.seek(0)
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
    prepare_dest(dest)
    why = f"extraction of {name} cancelled"
    extractor = Extractor(name, dest, record, lambda: reporter.check(why))
    with _failures(name, dest):
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
            extractor.finish()
            tar.drain(_TRAILER_LIMIT)
        source.read_to_end()


def _extract_zip(
    file: BinaryIO, name: str, dest: Path, reporter: Reporter, record: Written | None
) -> None:
    """Extract a .zip (see ``extract_archive``): read through its central directory, at
    its end, so from the file; the caller has checked its sha256 in a pass of its own."""
    import zipfile

    from tui.engine.archives.zipread import ZipReader

    prepare_dest(dest)
    why = f"extraction of {name} cancelled"
    extractor = Extractor(name, dest, record, lambda: reporter.check(why))
    with _failures(name, dest):
        try:
            reader = ZipReader(file)
            try:
                for member in reader:
                    extractor.check()
                    extractor.add(reader, member)
            finally:
                reader.close()
        except zipfile.BadZipFile as exc:
            raise TarFormatError(f"not a valid zip archive: {exc}") from None
        extractor.finish()


@contextlib.contextmanager
def _failures(name: str, dest: Path) -> Iterator[None]:
    """What goes wrong in an extraction, as one error: ArchiveError for bad bytes,
    PyshelfError for the disk."""
    try:
        yield
    except (ArchiveError, Cancelled):
        raise
    except OSError as exc:
        if exc.errno is None:  # decompressors report bad data as errno-less OSError
            raise ArchiveError(f"{name}: corrupt or truncated ({exc})") from None
        where = exc.filename or dest
        raise PyshelfError(f"cannot extract {name}: {exc.strerror} ({where})") from None
    except _CORRUPT as exc:
        raise ArchiveError(f"{name}: corrupt or truncated ({exc})") from None


def _verify(file: BinaryIO, name: str, sha256: str) -> None:
    file.seek(0)
    digest = hashlib.sha256()
    while chunk := file.read(_CHUNK):
        digest.update(chunk)
    if digest.hexdigest() != sha256:
        raise ChecksumError(
            f"{name}: checksum mismatch: expected sha256 {sha256}, got {digest.hexdigest()}"
        )


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

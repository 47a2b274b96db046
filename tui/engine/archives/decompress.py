"""The compressed side of an extraction: the archive's bytes as they come (counted and
hashed on the way) and the decompressor that reads them (gzip, bzip2, xz or zstd)."""

from __future__ import annotations

import bz2
import importlib
import io
import lzma
from collections import deque
from collections.abc import Callable
from typing import IO, Any, cast

from isal import igzip_threaded

from tui.engine.errors import ArchiveError

CHUNK = 1 << 20
# The threaded reader hands over decompressed blocks of this size: fewer, larger hand-overs.
_GZ_BLOCK = 1 << 19
_MAGIC = {
    b"\x1f\x8b": "gz",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zst",
}


class Source(io.RawIOBase):
    """The compressed bytes, chunk by chunk from ``next_chunk``, counted and (optionally)
    hashed; ``peek`` looks at the start without consuming.

    The decompressor reads in its own thread, which is the slower of the two; so the chunks
    it took wait in ``_unhashed`` for ``hash_pending``, which the thread writing files calls
    between members (hashlib lets go of the GIL, so both cores work).
    """

    def __init__(self, next_chunk: Callable[[], bytes], digest: Any = None) -> None:
        self._next_chunk = next_chunk
        self._pending = memoryview(b"")
        self.digest = digest
        self._unhashed: deque[bytes] = deque()
        self.count = 0
        self._ended = False

    def readable(self) -> bool:
        return True

    def _more(self) -> bool:
        if self._ended:
            return False
        chunk = self._next_chunk()
        if not chunk:
            self._ended = True
            return False
        if self.digest is not None:
            self._unhashed.append(chunk)
        self._pending = memoryview(chunk)
        return True

    def hash_pending(self) -> None:
        while self._unhashed:  # deque appends and pops are atomic: no lock needed
            self.digest.update(self._unhashed.popleft())

    def peek(self, n: int) -> bytes:
        head = bytes(self._pending)
        while len(head) < n and self._more():
            head += bytes(self._pending)
        self._pending = memoryview(head)
        return head[:n]

    def readinto(self, buffer: Any) -> int:
        if not self._pending and not self._more():
            return 0
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        self.count += n
        return n

    def read_to_end(self) -> None:
        """Consume (and hash) what the decompressor left unread."""
        self._pending = memoryview(b"")
        while self._more():
            self._pending = memoryview(b"")
        if self.digest is not None:
            self.hash_pending()


def detect_format(source: Source, name: str) -> str:
    head = source.peek(6)
    for magic, fmt in _MAGIC.items():
        if head.startswith(magic):
            return fmt
    raise ArchiveError(f"{name}: not a gzip, bzip2, xz or zstd compressed tar archive")


def _zstd_reader(raw: IO[bytes], name: str) -> io.BufferedIOBase:
    zstandard: Any  # optional either way: imported by name, typed by use
    try:
        zstandard = importlib.import_module("zstandard")
    except ImportError:
        try:
            zstd: Any = importlib.import_module("compression.zstd")  # Python 3.14+
        except ImportError:
            raise ArchiveError(f"{name}: .tar.zst archives need the 'zstandard' package") from None
        return cast(io.BufferedIOBase, zstd.ZstdFile(raw))
    reader = zstandard.ZstdDecompressor().stream_reader(raw, read_size=CHUNK)
    return io.BufferedReader(reader, CHUNK)


def decompressed(source: Source, fmt: str, name: str) -> io.BufferedIOBase:
    raw = cast(IO[bytes], source)  # a raw binary stream: what the decompressors read
    if fmt == "gz":
        # isal's threaded reader inflates in a worker thread (GIL released) while we write files.
        return cast(
            io.BufferedIOBase, igzip_threaded.open(raw, "rb", threads=1, block_size=_GZ_BLOCK)
        )
    if fmt == "bz2":
        return bz2.BZ2File(raw)
    if fmt == "xz":
        return lzma.LZMAFile(raw)
    return _zstd_reader(raw, name)

"""A small, strict reader of tar streams.

Headers are parsed out of one reusable buffer and file data is handed out as slices of it, so
extracting a member costs a few syscalls and no copies. tarfile builds a TarInfo per member,
parses pax records with regular expressions and copies every block; on a 2,600-member
interpreter archive that per-member work was most of an install.

It reads what tar writers produce for interpreter archives: ustar (with its name prefix), GNU
long names (``L``, ``K``) and pax headers (``x``, and ``g`` for every member after it). What
it does not understand (sparse files, multi-volume parts) it refuses rather than guesses, and
so it does with numbers it cannot trust: a negative or absurd size once moved it back onto the
header it had just read, for ever.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator
from typing import NamedTuple, Protocol

BLOCK = 512
_ZERO_BLOCK = bytes(BLOCK)
# The extended headers (pax, GNU long names) in front of one member, or every global pax
# header: more than this is hostile, not a name. It also bounds how long the reader goes
# without handing out a member, where extraction checks for cancellation.
_MAX_META = 1 << 20
MAX_SIZE = 1 << 36  # 64 GiB: no interpreter file comes near; a bigger size is hostile
_OCTAL = b"01234567"
_PAX_KEYS = {b"path": "path", b"linkpath": "linkpath", b"size": "size", b"mtime": "mtime"}
_POSIX_MAGIC = b"ustar\x00"
_NO_PAX: dict[str, bytes] = {}
_WHOLE = 1 << 18  # members up to this size are handed out in one slice (see ``whole``)

REGULAR, HARDLINK, SYMLINK, DIRECTORY = "0", "1", "2", "5"
_UNREADABLE = {b"S": "sparse files", b"M": "multi-volume parts"}
SPECIAL = {"3": "character device", "4": "block device", "6": "fifo"}
_REGULAR_FLAGS = {b"0": REGULAR, b"\x00": REGULAR, b"7": REGULAR}  # 7: "contiguous" file
_LINKS = (b"1", b"2")
_DATA_LESS = {HARDLINK, SYMLINK, DIRECTORY, *SPECIAL}  # a size in their header is no data


class TarFormatError(ValueError):
    """The stream is not a tar archive this reader accepts: corrupt, truncated or hostile."""


class Readable(Protocol):
    def readinto(self, buffer: memoryview, /) -> int | None: ...


class Member(NamedTuple):  # not a dataclass: an install need not load dataclasses
    name: str
    type: str  # REGULAR, HARDLINK, SYMLINK, DIRECTORY, or another flag (refused by callers)
    mode: int
    mtime: float
    size: int  # bytes of data (regular files only)
    linkname: str


def _number(field: bytes) -> int:
    """A numeric header field: octal text, or GNU base-256 for large values; never negative
    (``int`` alone reads ``-0000001000``, ``+1`` and ``1_0``)."""
    text = field.rstrip(b"\x00 ")
    if text and not text.strip(_OCTAL):  # the usual "0000644\0"
        return int(text, 8)
    if field[0] & 0x80:
        if field[0] == 0xFF:
            raise TarFormatError("negative number in a header")
        if field[0] != 0x80:
            raise TarFormatError("bad base-256 number in a header")
        return int.from_bytes(field[1:], "big")
    text = field.split(b"\x00", 1)[0].strip(b" ")
    if not text.strip(_OCTAL):
        return int(text, 8) if text else 0
    if text.startswith(b"-"):
        raise TarFormatError("negative number in a header")
    raise TarFormatError(f"bad number {text[:20]!r} in a header")


def _checked_size(size: int) -> int:
    if size > MAX_SIZE:
        raise TarFormatError(f"a member of {size} bytes, more than any interpreter file")
    return size


def _byte_sum(block: bytes) -> int:
    """The sum of a header's bytes. Adler-32's low half is 1 + the sum modulo 65521; a half
    block sums to at most 256 * 255 < 65521, so two halves give it exactly, ten times faster
    than ``sum()``."""
    return (zlib.adler32(block[:256]) & 0xFFFF) + (zlib.adler32(block[256:]) & 0xFFFF) - 2


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _pax_records(data: bytes) -> dict[str, bytes]:
    """``"%d %s=%s\\n"`` records; the length counts the whole record. Only the keys this reader
    uses are kept, so a header of a million tiny records costs no memory per member."""
    records: dict[str, bytes] = {}
    pos = 0
    while pos < len(data):
        if not data[pos]:  # NUL padding after the last record
            break
        space = data.find(b" ", pos, pos + 20)
        digits = data[pos:space] if space > pos else b""
        if not digits.isdigit():
            raise TarFormatError("bad pax header record")
        end = pos + int(digits)
        if end <= space or end > len(data):  # a length that points back, or past the header
            raise TarFormatError("bad pax header record")
        record = data[space + 1 : end]
        if not record.endswith(b"\n") or b"=" not in record:
            raise TarFormatError("bad pax header record")
        key, _, value = record[:-1].partition(b"=")
        if key.startswith(b"GNU.sparse"):
            raise TarFormatError("sparse files are not supported")
        if (name := _PAX_KEYS.get(key)) is not None:
            if name == "size" and not (value.isdigit() and len(value) <= 20):
                raise TarFormatError(f"bad size {value[:20]!r} in a pax header")
            records[name] = value
        pos = end
    return records


class TarReader:
    """Iterate over the members of an uncompressed tar stream; ``data`` reads the current
    member's bytes (what is not read is skipped when the iteration moves on)."""

    def __init__(self, stream: Readable, bufsize: int = 1 << 20) -> None:
        self._stream = stream
        self._buf = bytearray(bufsize)
        self._whole = min(_WHOLE, bufsize)
        self._view = memoryview(self._buf)
        self._pos = 0
        self._end = 0
        self._left = 0  # unread data of the current member
        self._pad = 0  # padding after it
        self._globals: dict[str, bytes] = {}
        self._global_bytes = 0

    def _fill(self, n: int) -> bool:
        """At least ``n`` buffered bytes from ``_pos``; False at the end of the stream."""
        avail = self._end - self._pos
        if avail >= n:
            return True
        if self._pos:
            self._buf[:avail] = self._buf[self._pos : self._end]
            self._pos, self._end = 0, avail
        while self._end < n:
            got = self._stream.readinto(self._view[self._end :])
            if not got:
                return False
            self._end += got
        return True

    def _skip(self, n: int) -> None:
        while n > 0:
            if self._pos == self._end and not self._fill(1):
                raise TarFormatError("truncated archive")
            step = min(n, self._end - self._pos)
            self._pos += step
            n -= step

    def _take(self, n: int) -> bytes:
        """``n`` bytes of a (small) metadata member, then its padding."""
        self._left = n
        out = b"".join(self.data())
        self._skip(-n % BLOCK)
        return out

    def data(self) -> Iterator[memoryview]:
        """The current member's data in slices of the buffer, each valid until the next."""
        while self._left > 0:
            if self._pos == self._end:
                self._pos = self._end = 0
                if not self._fill(1):
                    raise TarFormatError("truncated archive")
            step = min(self._left, self._end - self._pos)
            chunk = self._view[self._pos : self._pos + step]
            self._pos += step
            self._left -= step
            yield chunk

    def whole(self) -> memoryview | None:
        """The current member's data in one slice of the buffer when it fits there (most
        files do), else None: read it with ``data``."""
        left = self._left
        if left > self._whole or not self._fill(left):
            return None
        chunk = self._view[self._pos : self._pos + left]
        self._pos += left
        self._left = 0
        return chunk

    def drain(self, limit: int) -> None:
        """Read on past the end-of-archive blocks (up to ``limit`` bytes), so a decompressor
        gets to check its trailer."""
        self._pos = self._end = 0
        while limit > 0 and self._fill(1):
            limit -= self._end
            self._pos = self._end = 0

    def __iter__(self) -> Iterator[Member]:
        while True:
            self._skip(self._left + self._pad)
            self._left = self._pad = 0
            member = self._next()
            if member is None:
                return
            yield member

    def _next(self) -> Member | None:
        local: dict[str, bytes] = {}
        long_name = long_link = None
        meta = 0  # bytes of extended headers in front of this member
        while True:
            if not self._fill(BLOCK):
                if self._end == self._pos:
                    return None  # the stream ends at a member boundary: tolerated, as tar does
                raise TarFormatError("truncated header")
            header = bytes(self._view[self._pos : self._pos + BLOCK])
            self._pos += BLOCK
            if header == _ZERO_BLOCK:
                return None
            stored = _number(header[148:156])
            if stored != _byte_sum(header) - sum(header[148:156]) + 8 * 32:
                raise TarFormatError("bad header checksum")
            flag = header[156:157]
            size = _checked_size(_number(header[124:136]))
            if flag in (b"x", b"g", b"L", b"K"):
                meta += BLOCK + size
                if flag == b"g":
                    self._global_bytes += BLOCK + size
                if meta > _MAX_META or self._global_bytes > _MAX_META:
                    raise TarFormatError(f"extended headers of more than {_MAX_META} bytes")
                payload = self._take(size)
                if flag == b"x":
                    local.update(_pax_records(payload))
                elif flag == b"g":
                    self._globals.update(_pax_records(payload))
                elif flag == b"L":
                    long_name = _text(payload.split(b"\x00", 1)[0])
                else:
                    long_link = _text(payload.split(b"\x00", 1)[0])
                continue
            if flag in _UNREADABLE:
                raise TarFormatError(f"{_UNREADABLE[flag]} are not supported")
            pax = {**self._globals, **local} if self._globals or local else _NO_PAX
            return self._member(header, flag, size, pax, long_name, long_link)

    def _member(
        self,
        header: bytes,
        flag: bytes,
        size: int,
        pax: dict[str, bytes],
        long_name: str | None,
        long_link: str | None,
    ) -> Member:
        if "path" in pax:
            name = _text(pax["path"])
        elif long_name is not None:
            name = long_name
        else:
            raw = header[:100].split(b"\x00", 1)[0]
            if header[257:263] == _POSIX_MAGIC and (prefix := header[345:500].split(b"\x00", 1)[0]):
                raw = prefix + b"/" + raw
            name = _text(raw)
        if "linkpath" in pax:
            link = _text(pax["linkpath"])
        elif long_link is not None:
            link = long_link
        elif flag in _LINKS:
            link = _text(header[157:257].split(b"\x00", 1)[0])
        else:
            link = ""  # only links have one
        if "size" in pax:
            size = _checked_size(int(pax["size"]))  # digits only: checked as it was read
        if "mtime" not in pax:
            mtime = float(_number(header[136:148]))
        else:
            try:
                mtime = float(pax["mtime"])
            except ValueError:
                raise TarFormatError("bad mtime in a pax header") from None
        if not math.isfinite(mtime):
            raise TarFormatError("endless mtime")
        kind = _REGULAR_FLAGS.get(flag) or flag.decode("latin-1")
        if kind in _DATA_LESS:
            size = 0
        if kind == DIRECTORY:
            name = name.rstrip("/")
        self._left, self._pad = size, -size % BLOCK
        return Member(name, kind, _number(header[100:108]), mtime, size, link)

"""The members of a ``.zip`` interpreter archive (python-build-standalone's Windows builds),
handed out as the tar reader hands out its own, so the same checks and writes apply.

A zip is read through its central directory, which sits at the end: so from a file on disk,
never as a download lands. ``zipfile`` checks that each local header names the member the
directory names, and each member's CRC-32 as its last byte is read; sizes are capped as tar
members are. As uv does, only the executable bits of a Unix mode are kept (a zip made on
Windows has no mode: plain files).
"""

from __future__ import annotations

import calendar
import stat
import struct
import zipfile
from collections.abc import Iterator
from typing import BinaryIO

from tui.engine.archives.tarstream import (
    DIRECTORY,
    MAX_SIZE,
    REGULAR,
    SYMLINK,
    Member,
    TarFormatError,
)

_READ = 1 << 20
_MAX_LINK = 4096  # a symlink's target is its data: more than a path is hostile
_UNIX = 3  # ZipInfo.create_system of a zip made on a Unix system
_EXTENDED_TIME = 0x5455  # the "UT" extra field: the Unix mtime, exact


def _mtime(info: zipfile.ZipInfo) -> float:
    """The Unix mtime if the zip keeps one, else its DOS time (no zone: read as UTC)."""
    extra, pos = info.extra, 0
    while pos + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + size]
        if kind == _EXTENDED_TIME and len(body) >= 5 and body[0] & 1:
            return float(struct.unpack_from("<i", body, 1)[0])
        pos += 4 + size
    return float(calendar.timegm((*info.date_time, 0, 0, 0)))


class ZipReader:
    """Iterate over a zip's members; ``whole``/``data`` give the current one's bytes, as
    ``TarReader``'s do (raises TarFormatError, zipfile.BadZipFile or EOFError when the zip
    is corrupt)."""

    def __init__(self, file: BinaryIO) -> None:
        self._zip = zipfile.ZipFile(file)
        self._current: zipfile.ZipInfo | None = None

    def __iter__(self) -> Iterator[Member]:
        for info in self._zip.infolist():
            if info.file_size > MAX_SIZE:
                raise TarFormatError(f"a member of {info.file_size} bytes, more than any file")
            unix = info.external_attr >> 16 if info.create_system == _UNIX else 0
            name, mode = info.filename, stat.S_IMODE(unix)
            if info.is_dir():
                kind, name, mode = DIRECTORY, name.rstrip("/"), mode or 0o755
            elif stat.S_ISLNK(unix):
                kind = SYMLINK
            else:
                kind, mode = REGULAR, mode or 0o644
            self._current = info
            link = self._link(info) if kind == SYMLINK else ""
            size = info.file_size if kind == REGULAR else 0
            yield Member(name, kind, mode, _mtime(info), size, link)

    def _link(self, info: zipfile.ZipInfo) -> str:
        if info.file_size > _MAX_LINK:
            raise TarFormatError(f"a symlink target of {info.file_size} bytes")
        return self._zip.read(info).decode("utf-8", "surrogateescape")

    def whole(self) -> memoryview | None:
        return None  # zipfile inflates as it is read: ``data`` streams it

    def data(self) -> Iterator[memoryview]:
        assert self._current is not None
        with self._zip.open(self._current) as member:  # the CRC is checked at its end
            while chunk := member.read(_READ):
                yield memoryview(chunk)

    def close(self) -> None:
        self._zip.close()

"""The manifest of an unpacked copy: one line per entry of its tree, and a seal line.

Each line holds what the quick check compares (type, mode, size, mtime, or a link's target),
the file's link count and CRC-32, and its path; the second line names the sha256 of the
archive it was unpacked from. It is written from what the extraction recorded, not from a
second walk. The last line is this user's seal (``seal``): a damaged, truncated or planted
manifest fails it and is never trusted.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from tui.engine.archives.cache import HASH_CHUNK
from tui.engine.installs.seal import seal, sealed
from tui.engine.platform import flags
from tui.engine.progress import NULL, Reporter

if TYPE_CHECKING:
    from tui.engine.archives.extract import Written

# 1 held sha256s, 2 a plain checksum anyone could recompute: such copies are unpacked again.
_HEADER = "pyshelf-unpacked 3"
FILE, DIR, LINK = "f", "d", "l"
_DIR_FLAGS = os.O_RDONLY | flags.O_DIRECTORY | flags.O_CLOEXEC


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out, chars = [], iter(text)
    for char in chars:
        if char == "\\":
            char = {"t": "\t", "n": "\n"}.get(nxt := next(chars, "\\"), nxt)
        out.append(char)
    return "".join(out)


class Manifest(NamedTuple):
    archive_sha256: str
    rows: dict[str, str]  # relative path ("." for the root) -> what the check compares
    digests: dict[str, str]  # relative path -> CRC-32 of each regular file (full parse only)
    nlinks: dict[str, int]  # links each file had when unpacked (the archive's own hard links)


def walk(root: str) -> Iterator[tuple[str, os.stat_result, int | None]]:
    """(relative path, lstat, directory fd) below ``root``; the fd is open only during the
    yield, so symlink targets can be read relative to it. Where folders take no descriptor
    (Windows) the fd is None, and the entries are read by path."""
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        folder = f"{root}/{rel_dir}" if rel_dir else root
        fd = os.open(folder, _DIR_FLAGS) if flags.FOLDER_FDS else None
        try:
            with os.scandir(folder if fd is None else fd) as entries:
                names = [e.name for e in entries]
            for name in names:
                st = os.lstat(name if fd is not None else f"{folder}/{name}", dir_fd=fd)
                rel = f"{rel_dir}/{name}" if rel_dir else name
                if stat.S_ISDIR(st.st_mode):
                    stack.append(rel)
                yield rel, st, fd
        finally:
            if fd is not None:
                os.close(fd)


def entry_key(st: os.stat_result, name: str, fd: int | None) -> str:
    """What the check compares for one entry, as its manifest line starts: a string, so the
    check neither parses numbers nor builds tuples (a few thousand entries per reinstall).
    ``name`` is relative to the folder ``fd``, or a path where ``fd`` is None."""
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return f"{FILE}\t{mode:o}\t{st.st_size}\t{st.st_mtime_ns}"
    if stat.S_ISLNK(mode):
        return f"{LINK}\t{mode:o}\t\t{_escape(os.readlink(name, dir_fd=fd))}"
    return f"{DIR if stat.S_ISDIR(mode) else '?'}\t{mode:o}\t\t"


def render(tree: Path, archive_sha256: str, written: Written) -> bytes:
    """The manifest of a fresh tree from what its extraction wrote: a line per entry (what
    the check compares, the file's link count and CRC-32, its path), then a checksum line so
    that a truncated or damaged manifest is never taken for a short tree. Directories and
    links are looked at once more (their modes are the filesystem's); files are not."""
    root = os.fspath(tree)
    lines = [_HEADER, f"a\t{archive_sha256}", f"{DIR}\t{os.lstat(root).st_mode:o}\t\t\t\t\t."]
    links_per_inode = Counter(st.st_ino for st, _ in written.files.values())
    for rel, (st, crc) in written.files.items():
        key = f"{FILE}\t{st.st_mode:o}\t{st.st_size}\t{st.st_mtime_ns}"
        lines.append(f"{key}\t{links_per_inode[st.st_ino]}\t{crc}\t{_escape(rel)}")
    for rel in written.dirs:
        if rel:
            mode = os.lstat(f"{root}/{rel}").st_mode
            lines.append(f"{DIR}\t{mode:o}\t\t\t\t\t{_escape(rel)}")
    for rel, target in written.links.items():
        mode = os.lstat(f"{root}/{rel}").st_mode
        lines.append(f"{LINK}\t{mode:o}\t\t{_escape(target)}\t\t\t{_escape(rel)}")
    body = ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")
    return body + f"end\t{seal(body)}\n".encode()


def _lines(data: bytes, archive_sha256: str) -> tuple[str, list[str]] | None:
    """The archive digest and the entry lines of a manifest sealed by this user for the
    archive ``archive_sha256`` (the whole digest, or the copy's name: its first 16 digits);
    None when it is damaged, not sealed by this user, or another archive's."""
    body, sep, last = data.rstrip(b"\n").rpartition(b"\nend\t")
    if not sep or not sealed(body + b"\n", last):
        return None
    lines = body.decode("utf-8", "surrogateescape").split("\n")
    if (
        len(lines) < 2
        or lines[0] != _HEADER
        or len(lines[1]) != 66
        or not lines[1].startswith(f"a\t{archive_sha256}")
    ):
        return None
    return lines[1][2:], lines[2:]


def _entry(line: str) -> tuple[str, str, str, str]:
    """A line's path, key (kind, mode, size, mtime), link count and digest (files only)."""
    rest, _, path = line.rpartition("\t")
    if "\\" in path:
        path = _unescape(path)
    key, nlink, digest = rest.rsplit("\t", 2)
    return path, key, nlink, digest


def parse(data: bytes, archive_sha256: str, *, full: bool = False) -> Manifest | None:
    """The manifest, or None when it is damaged, not sealed by this user, or not of the
    archive ``archive_sha256`` (see ``_lines``); ``full`` also reads digests and links."""
    found = _lines(data, archive_sha256)
    if found is None:
        return None
    sha, lines = found
    rows: dict[str, str] = {}
    digests: dict[str, str] = {}
    nlinks: dict[str, int] = {}
    try:
        for line in lines:
            path, key, nlink, digest = _entry(line)
            rows[path] = key
            if full and digest:
                digests[path], nlinks[path] = digest, int(nlink)
    except ValueError:
        return None
    return Manifest(sha, rows, digests, nlinks)


def file_links(data: bytes, archive_sha256: str) -> Iterator[tuple[str, int]] | None:
    """Each file's path and the links it was made with, read as they are asked for (a
    caller that stops at the first file an install links reads no further); None when the
    manifest is not sealed by this user for that archive (see ``_lines``)."""
    found = _lines(data, archive_sha256)
    if found is None:
        return None

    def files() -> Iterator[tuple[str, int]]:
        for line in found[1]:
            try:
                path, _, nlink, digest = _entry(line)
                if digest:
                    yield path, int(nlink)
            except ValueError:
                return  # damaged past here: what it said so far stands

    return files()


def linked(tree: Path, links: Iterable[tuple[str, int]]) -> bool:
    """Whether a file of ``tree`` has more links than it was made with (``file_links``):
    an install shares it. Mostly the first file says so, and no more is read."""
    for rel, nlink in links:
        with contextlib.suppress(OSError):
            if os.lstat(f"{tree}/{rel}").st_nlink > nlink:
                return True
    return False


def hash_file(path: str, reporter: Reporter = NULL) -> str:
    """The CRC-32 of a file's bytes, as the manifest holds it."""
    from isal import isal_zlib  # only verify hashes files

    crc = 0
    with open(path, "rb", buffering=0) as handle:
        while chunk := handle.read(HASH_CHUNK):
            reporter.check("verification cancelled")
            crc = isal_zlib.crc32(chunk, crc)
    return f"{crc:08x}"


def what_changed(st: os.stat_result, want: str) -> str:
    kind, mode_text, size, mtime = want.split("\t", 3)
    mode = int(mode_text, 8)
    if stat.S_IFMT(st.st_mode) != stat.S_IFMT(mode):
        return "file type"
    if kind == LINK:
        return "link target"
    if st.st_mode != mode:
        return f"mode {stat.S_IMODE(st.st_mode):o}, was {stat.S_IMODE(mode):o}"
    if kind == FILE and str(st.st_size) != size:
        return f"size {st.st_size}, was {size}"
    return "modification time" if kind == FILE and str(st.st_mtime_ns) != mtime else "unknown"

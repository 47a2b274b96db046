"""The partial file a download grows in, beside the cache: how much it holds, opening it to
append, feeding what it holds into a resumed download's hash (and tap), and adopting one that
another member of a group-shared cache left behind."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from tui.engine.archives.cache import HASH_CHUNK
from tui.engine.fsutil import (
    NotOurFile,
    group_shared,
    new_scratch_file,
    open_nofollow,
    share_with_group,
)
from tui.engine.platform.flags import fchmod
from tui.engine.progress import NULL, Reporter

if TYPE_CHECKING:
    from tui.engine.archives.download import Tap


def hash_existing(
    path: Path,
    digest: hashlib._Hash,
    tap: Tap | None = None,
    reporter: Reporter = NULL,
    *,
    owned: bool = False,
) -> int:
    """Feed a file on disk (a partial download, a cached archive) into the running hash, and
    to ``tap`` what it has not had yet; return its length. Never read through a link, and
    with ``owned`` (a partial download, written next) only a file of this user's
    (NotOurFile)."""
    size = 0
    with os.fdopen(open_nofollow(path, owned=owned), "rb", buffering=0) as handle:
        total = os.fstat(handle.fileno()).st_size
        if tap is not None and tap.offset > total:
            tap.reset()  # the file is shorter than what it had: those bytes were not these
        while chunk := handle.read(HASH_CHUNK):
            reporter.check("verification cancelled")
            reporter.progress(size, total)
            digest.update(chunk)
            if tap is not None and size + len(chunk) > tap.offset:
                tap.feed(chunk[tap.offset - size :] if tap.offset > size else chunk)
            size += len(chunk)
    return size


def partial_size(partial: Path) -> int:
    """How many bytes a partial download holds (0 for a link: its target is never looked at)."""
    try:
        st = os.lstat(partial)
    except OSError:
        return 0
    return st.st_size if stat.S_ISREG(st.st_mode) else 0


def open_partial(partial: Path, *, restart: bool = False) -> BinaryIO:
    """The partial download, to append to (``restart``: emptied first). It keeps a stable
    name so a later run resumes it, so it is opened only when it is a file this user made:
    a link or another's file planted in its place is refused untouched (NotOurFile)."""
    fd = open_nofollow(partial, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666, owned=True)
    if restart:
        os.ftruncate(fd, 0)
    if group_shared(partial.parent):
        share_with_group(fd)  # and so the archive it becomes: the group reads it
    return os.fdopen(fd, "ab")


def _adopt(partial: Path) -> bool:
    """Take over a partial download another member of a group-shared cache left (we hold
    its lock, so nobody writes it): its bytes are copied into a file of this user's, which
    replaces it, and the download resumes. False anywhere else: there it was planted."""
    st = os.lstat(partial)
    if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or not group_shared(partial.parent):
        return False
    fd, scratch = new_scratch_file(partial.parent, f".{partial.name}.", ".adopt")
    try:
        with os.fdopen(fd, "wb") as out, os.fdopen(open_nofollow(partial), "rb") as src:
            while chunk := src.read(HASH_CHUNK):
                out.write(chunk)
            fchmod(out.fileno(), 0o664)
        os.replace(scratch, partial)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    return True


def replay(partial: Path, digest: hashlib._Hash, tap: Tap | None) -> int:
    """Start a request's hash from the partial file's bytes (and the tap where it has not
    had them); returns the offset to resume from. Another member's partial file in a
    group-shared cache is adopted first (see ``_adopt``)."""
    try:
        try:
            return hash_existing(partial, digest, tap, owned=True)
        except NotOurFile:
            if not _adopt(partial):
                raise
            return hash_existing(partial, digest, tap, owned=True)
    except FileNotFoundError:
        if tap is not None and tap.offset:
            tap.reset()
        return 0

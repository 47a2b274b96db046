"""The seal on an unpacked copy's manifest: an HMAC under a key only this user can read.

A cache may be shared (a team's ``UV_PYTHON_CACHE_DIR``, a CI volume), and anyone who can
write it could plant a copy with a wrapped interpreter and a manifest that checksums itself.
A manifest is trusted only when it carries this user's seal: pyshelf wrote it, right after
unpacking an archive whose sha256 it verified in the same pass. The key lives in the user's
own state folder (``$XDG_STATE_HOME/pyshelf``, 0600), never in the cache; a copy sealed by
someone else (another user, or a key that was lost) is unpacked again from its archive.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import stat
import sys
from pathlib import Path

from tui.engine.errors import PyshelfError
from tui.engine.fsutil import new_scratch_file, read_owned

_KEY_NAME = "unpacked.key"
_KEY_BYTES = 32
STATE_ENV = "PYSHELF_STATE_DIR"  # where the key lives, when not the user state folder


def state_dir() -> Path:
    """pyshelf's per-user state folder: ``PYSHELF_STATE_DIR``, else the platform's."""
    if value := os.environ.get(STATE_ENV):
        return Path(value).expanduser()
    if sys.platform.startswith("linux") or os.environ.get("XDG_STATE_HOME"):
        base = os.environ.get("XDG_STATE_HOME") or os.path.join(
            os.path.expanduser("~"), ".local", "state"
        )
        return Path(base) / "pyshelf"
    from platformdirs import user_state_dir  # macOS and Windows: their own places

    return Path(user_state_dir("pyshelf"))


def _read_key(path: Path) -> bytes | None:
    """The key at ``path`` if it is a private regular file of this user's, else None (then
    a new one replaces it: the folder is the user's own)."""
    data = read_owned(path, _KEY_BYTES)
    if data is None or len(data) != _KEY_BYTES:
        return None
    if hasattr(os, "geteuid") and stat.S_IMODE(os.lstat(path).st_mode) & 0o077:
        return None  # others could read it: not a secret any more
    return data


def _make_key(path: Path) -> bytes:
    """A new random key published with one link, so a reader never sees half of it and two
    processes making one at once agree on the first."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = new_scratch_file(path.parent, f".{_KEY_NAME}.", ".tmp")
    try:
        os.write(fd, os.urandom(_KEY_BYTES))
        os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            if (key := _read_key(path)) is not None:
                return key  # another process made it first
            os.replace(tmp, path)  # a damaged or foreign key: ours replaces it
    finally:
        Path(tmp).unlink(missing_ok=True)
    key = _read_key(path)
    if key is None:
        raise PyshelfError(f"{path}: cannot keep pyshelf's key there; check the folder")
    return key


def _key() -> bytes:
    return _key_at(state_dir() / _KEY_NAME)


@functools.cache  # per path: a test, or a user switching homes, gets its own
def _key_at(path: Path) -> bytes:
    try:
        return _read_key(path) or _make_key(path)
    except OSError as exc:
        raise PyshelfError(f"{path}: {exc.strerror or exc}; check the folder") from None


def seal(body: bytes) -> str:
    """This user's seal on ``body``."""
    return hmac.new(_key(), body, hashlib.sha256).hexdigest()


def sealed(body: bytes, tag: bytes) -> bool:
    """Whether ``tag`` is this user's seal on ``body``."""
    return hmac.compare_digest(seal(body).encode(), tag)

"""Who besides this user can write the folders pyshelf keeps things in.

A cache trusts only what this user wrote: an archive is checked against its sha256 each time
it is installed, an unpacked copy only when this user's pyshelf sealed it (see
``installs.seal``). Others who can write the cache cannot plant an interpreter that way, but
they can delete or swap what is there, so doctor and the disk view say who they are.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from tui.engine.settings import Settings


class Writers(NamedTuple):
    path: Path
    who: str  # "every user", "group staff", "user alice"
    shared: bool  # a group the folder is meant to be shared with (setgid), not an accident


def _name(kind: str, number: int) -> str:
    try:
        if kind == "group":
            import grp

            return grp.getgrgid(number).gr_name
        import pwd

        return pwd.getpwuid(number).pw_name
    except (ImportError, KeyError):
        return str(number)


def writers(path: Path) -> Writers | None:
    """Who else can write ``path`` (a folder), or None when only this user (or root) can."""
    geteuid = getattr(os, "geteuid", None)
    if geteuid is None:
        return None  # Windows: folder ACLs are not modes; not judged here
    try:
        st = os.stat(path)
    except OSError:
        return None
    mode, me = st.st_mode, geteuid()
    if mode & stat.S_IWOTH and not mode & stat.S_ISVTX:
        return Writers(path, "every user", False)
    if st.st_uid not in (me, 0):
        return Writers(path, f"user {_name('user', st.st_uid)}", False)
    if mode & stat.S_IWGRP:
        return Writers(path, f"group {_name('group', st.st_gid)}", bool(mode & stat.S_ISGID))
    return None


def shared_places(settings: Settings) -> Iterator[Writers]:
    """The cache, pyshelf's state in it and the install dir, where others can write them."""
    state = settings.state_dir
    places = (settings.cache_dir, state, state / "unpacked", state / "partial")
    for path in (*places, settings.install_dir):
        if (found := writers(path)) is not None:
            yield found

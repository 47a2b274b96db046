"""What a reinstall would throw away: files added to an install, and files edited in it.

An install is a hard-linked clone of its unpacked copy, whose manifest says what every entry
was when the archive was unpacked. So one walk of the install tells what somebody added
(packages installed into the interpreter, say) and which of the copy's files were edited in
place. Files pyshelf itself writes (the fix-ups, ``BUILD``) and bytecode caches the
interpreter writes as it runs are not losses.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import NamedTuple

from tui.engine.installs.manifest import Manifest, entry_key, walk

_OURS = frozenset({"BUILD", "EXTERNALLY-MANAGED"})  # written by the install, not unpacked
_SHOWN = 2  # paths named in the one-line summary


class Losses(NamedTuple):  # not a dataclass: the CLI's reinstall never loads dataclasses
    added: tuple[str, ...] = ()
    edited: tuple[str, ...] = ()
    unknown: str | None = None  # why nothing could be compared

    @property
    def none(self) -> bool:
        return not (self.added or self.edited or self.unknown)

    def describe(self) -> str:
        """One line for a confirmation: what goes, a few paths named."""
        if self.unknown:
            return f"cannot tell what a reinstall would discard: {self.unknown}"
        parts = []
        for what, paths in (("added", self.added), ("edited", self.edited)):
            if paths:
                named = ", ".join(paths[:_SHOWN]) + (", …" if len(paths) > _SHOWN else "")
                parts.append(f"{len(paths)} file{'s' if len(paths) > 1 else ''} {what} ({named})")
        return "a reinstall discards " + " and ".join(parts)


def _skipped(rel: str) -> bool:
    name = rel.rpartition("/")[2]
    return name in _OURS or "__pycache__" in rel.split("/") or name.endswith(".pyc")


def reinstall_losses(install: Path, copy: Path | None, manifest: Manifest | None) -> Losses:
    """Compare ``install`` with the unpacked ``copy`` it was linked from and its manifest."""
    if copy is None or manifest is None:
        return Losses(unknown="no unpacked copy to compare it with")
    rows = manifest.rows
    added: list[str] = []
    edited: list[str] = []
    try:
        for rel, st, fd in walk(os.fspath(install)):
            if _skipped(rel):
                continue
            want = rows.get(rel)
            if want is None:
                # A new folder counts once, not with everything inside it.
                if not any(rel.startswith(a + "/") for a in added):
                    added.append(rel)
                continue
            if not stat.S_ISREG(st.st_mode) or entry_key(st, rel.rpartition("/")[2], fd) == want:
                continue
            try:
                same_file = os.lstat(copy / rel).st_ino == st.st_ino
            except OSError:
                same_file = False
            if same_file:  # a file the install shares with the copy, changed in place
                edited.append(rel)
    except OSError as exc:
        return Losses(unknown=f"{install} cannot be read ({exc.strerror or exc})")
    return Losses(tuple(sorted(added)), tuple(sorted(edited)))

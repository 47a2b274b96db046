"""What an install dir holds: one ``Installation`` per uv-style install directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from tui.engine.fsutil import inside, read_small
from tui.engine.installs.keys import WINDOWS, KeyParts, parse_key


class Installation(NamedTuple):
    key: str
    path: Path
    build: str  # content of BUILD, "" when uv did not know it
    parts: KeyParts

    @property
    def version(self) -> str:
        return self.parts.version

    @property
    def minor_link_name(self) -> str:
        return self.parts.minor_key

    @property
    def executable(self) -> Path:
        """The interpreter uv runs in this install (``interpreter_in``)."""
        return interpreter_in(self.path, self.parts)


_FREETHREADED = ("cpython", "freethreaded")


def interpreter_in(tree: Path, parts: KeyParts) -> Path:
    """The interpreter uv runs in the install at ``tree`` (``KeyParts.interpreter_path``); for
    a free-threaded CPython for Windows that has no ``python.exe`` (python-build-standalone's
    20241016 builds), ``python3.13t.exe``, as uv's ``executable`` takes it."""
    path = tree.joinpath(*parts.interpreter_path.split("/"))
    windows_ft = parts.os == WINDOWS and (parts.implementation, parts.variant) == _FREETHREADED
    if windows_ft and not os.path.lexists(path):
        return tree / f"python{parts.major}.{parts.minor}t.exe"
    return path


class InstallResult(NamedTuple):
    installation: Installation
    replaced: bool  # an existing install of the same key was swapped out
    bin_link: Path | None  # the executable link made or confirmed, if any
    warnings: tuple[str, ...]  # things left alone, e.g. a bin entry uv does not manage


def read_build(path: Path) -> str:
    try:
        return read_small(path / "BUILD", 4096, follow=False).decode("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def scan_installations(install_dir: Path) -> list[Installation]:
    """Every uv-style install directory (not symlinks, not dot entries), sorted by key."""
    found = []
    try:
        entries = list(os.scandir(install_dir))
    except (FileNotFoundError, NotADirectoryError):
        return []
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
            continue
        parts = parse_key(entry.name)
        if parts is not None:
            path = Path(entry.path)
            found.append(Installation(entry.name, path, read_build(path), parts))
    return sorted(found, key=lambda i: i.key)


def find_installation(install_dir: Path, key: str) -> Installation | None:
    """The install of ``key`` in ``install_dir``, or None (a link in its place is none)."""
    parts = parse_key(key)
    if parts is None:
        return None
    path = inside(install_dir, key)
    if path.is_symlink() or not path.is_dir():
        return None
    return Installation(key, path, read_build(path), parts)

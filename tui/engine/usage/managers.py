"""Interpreters other managers put on this machine (see ``registry.MANAGERS``) and the system.

Found by listing directories and reading files only: nothing here runs an interpreter, so a
scan is fast and safe even over broken installs. Each interpreter of a manager is its whole
unit directory (pyenv's ``versions/3.11.7``): that is the only thing pyshelf ever removes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tui.engine import hostos
from tui.engine.fsutil import open_regular, within
from tui.engine.usage.registry import MANAGERS, UNIT_PARENTS

SYSTEM_DIRS: tuple[Path, ...] = (Path("/usr/bin"), Path("/usr/local/bin"))
# On macOS, Homebrew's, python.org's and the system's: see ``macos_pythons``.
MACOS_ROOT = Path("/")
SYSTEM_REASON = "system interpreter: the OS package manager owns it"

_SYSTEM_NAME = re.compile(r"^python3(?:\.\d+)?t?$")
_VERSION_IN_NAME = re.compile(r"(?<![\d.])(\d+\.\d+(?:\.\d+)?(?:(?:a|b|rc)\d+)?)(?![\d.])")
_PY_VERSION = re.compile(rb'#define\s+PY_VERSION\s+"([^"]+)"')
_STDLIB_DIR = re.compile(r"^(?:python|pypy)(\d+\.\d+)[a-z]*$")  # python3.13t, python3.6m


@dataclass(frozen=True, slots=True)
class ForeignPython:
    """One interpreter another manager (or the OS) owns."""

    manager: str  # a registry.MANAGERS name, or "system"
    name: str  # the unit's directory name, or the executable's for the system
    version: str | None
    path: Path  # the unit directory; for the system, the resolved executable
    mtime: float
    deletable: bool
    reason: str | None  # why not, when not deletable


def manager_dirs(
    env: Mapping[str, str] | None = None, home: Path | None = None
) -> list[tuple[str, Path]]:
    """(manager, directory holding its interpreters, one per subdirectory), existing or not."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    return [(m.name, m.interpreters(env, home)) for m in MANAGERS]


def is_unit(path: Path) -> bool:
    """Whether ``path`` looks like a manager's interpreter unit: a real directory, not a
    symlink, directly inside one of the managers' interpreter directories."""
    return (
        path.parent.name in UNIT_PARENTS
        and not path.name.startswith(".")
        and not path.is_symlink()
        and path.is_dir()
    )


def read_version(tree: Path) -> str | None:
    """The Python version of an unpacked interpreter tree, read from its files.

    ``include/python3.X/patchlevel.h`` gives the full version; failing that, the stdlib
    directory ``lib/python3.X`` gives the minor. Looks one level down too (hatch keeps its
    interpreters in ``<name>/python/``).
    """
    for base in (tree, *_subdirs(tree)):
        include = base / "include"
        for sub in _subdirs(include):
            named = _STDLIB_DIR.match(sub.name) or sub.name.startswith("pypy")
            if named and (found := _patchlevel(sub / "patchlevel.h")):
                return found
        if found := _patchlevel(include / "patchlevel.h"):  # PyPy keeps it at the top
            return found
        for sub in _subdirs(base / "lib"):
            if match := _STDLIB_DIR.match(sub.name):
                return match[1]
    return None


def _patchlevel(path: Path) -> str | None:
    try:
        handle = open_regular(path)  # a fifo would block the scan
        if handle is None:
            return None
        with handle:
            match = _PY_VERSION.search(handle.read(64 * 1024))
    except OSError:
        return None
    return match[1].decode("ascii", "replace") if match else None


def _subdirs(path: Path) -> list[Path]:
    try:
        with os.scandir(path) as entries:
            return sorted(Path(e.path) for e in entries if e.is_dir(follow_symlinks=False))
    except OSError:
        return []


def version_from_name(name: str) -> str | None:
    """``3.11.7``, ``cpython@3.12.3``, ``pypy3.10-7.3.17`` -> the (first) Python version."""
    match = _VERSION_IN_NAME.search(name)
    return match[1] if match else None


def _removable(unit: Path) -> str | None:
    """Why ``unit`` cannot be renamed aside and deleted by us, or None."""
    if not os.access(unit.parent, os.W_OK | os.X_OK):
        return f"no write access to {unit.parent}"
    return None


def find_managed(
    env: Mapping[str, str] | None = None, home: Path | None = None
) -> list[ForeignPython]:
    """Every interpreter directory of the managers in ``registry.MANAGERS``.

    Symlinks are skipped: pyenv-virtualenv's ``versions/<env>`` and mise's ``3.12`` aliases
    point into real units, which are listed themselves.
    """
    found: list[ForeignPython] = []
    seen: set[str] = set()
    for manager, root in manager_dirs(env, home):
        try:
            with os.scandir(root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
                continue
            real = os.path.realpath(entry.path)
            if real in seen:  # two managers configured onto one directory
                continue
            seen.add(real)
            path = Path(entry.path)
            version = read_version(path) or version_from_name(entry.name)
            reason = _removable(path)
            mtime = entry.stat(follow_symlinks=False).st_mtime
            found.append(
                ForeignPython(manager, entry.name, version, path, mtime, reason is None, reason)
            )
    return found


def find_system(
    dirs: Sequence[Path] = SYSTEM_DIRS, *, macos_root: Path = MACOS_ROOT
) -> list[ForeignPython]:
    """``python3*`` executables in the system's bin directories, resolved and deduplicated.
    On macOS also Homebrew's and python.org's, below ``macos_root``: listed with the system's,
    never deletable, their reason naming who put them there."""
    on_macos = hostos.system() == hostos.MACOS
    if on_macos:
        from tui.engine.usage import macos_pythons

        dirs = [*dirs, *macos_pythons.bin_dirs(macos_root)]
    found: dict[str, ForeignPython] = {}
    for directory in dirs:
        try:
            with os.scandir(directory) as it:
                names = sorted(e.name for e in it if _SYSTEM_NAME.match(e.name))
        except OSError:
            continue
        for name in names:
            real = os.path.realpath(os.path.join(directory, name))
            if real in found or not os.path.isfile(real):
                continue
            base = os.path.basename(real)
            version = version_from_name(base[len("python") :]) if _SYSTEM_NAME.match(base) else None
            reason = macos_pythons.owner_reason(real, macos_root) if on_macos else None
            found[real] = ForeignPython(
                "system", base, version, Path(real), os.stat(real).st_mtime, False,
                reason or SYSTEM_REASON,
            )  # fmt: skip
    return list(found.values())


def find_foreign(
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    system_dirs: Sequence[Path] = SYSTEM_DIRS,
    exclude: Iterable[Path] = (),
    *,
    macos_root: Path = MACOS_ROOT,
) -> list[ForeignPython]:
    """Managers' interpreters, then system ones that none of them (nor ``exclude``) holds:
    ``/usr/local/bin/python3.12`` may just be a link into pyenv or uv."""
    managed = find_managed(env, home)
    roots = [os.path.realpath(p) for p in (*exclude, *(m.path for m in managed))]
    system = [
        s for s in find_system(system_dirs, macos_root=macos_root)
        if not any(within(os.fspath(s.path), root) for root in roots)
    ]  # fmt: skip
    return managed + system

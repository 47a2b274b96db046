"""Interpreters Homebrew and python.org's installer put on a Mac: listed, never removed.

Homebrew keeps each version of a formula in ``<prefix>/Cellar/python@3.12/3.12.7/`` (prefix
``/opt/homebrew`` on Apple silicon, ``/usr/local`` on Intel) and links ``python3.12`` into
``<prefix>/bin``; only ``brew uninstall`` removes one and keeps brew's own records true.
python.org's installer puts a framework in ``/Library/Frameworks/Python.framework/Versions/3.12``
(``PythonT.framework`` for the free-threaded build), owned by root and linked from
``/usr/local/bin``; python.org documents removing it by hand. pyshelf lists both with the
system's interpreters and says whose they are.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from tui.engine.fsutil import within

HOMEBREW_PREFIXES = ("opt/homebrew", "usr/local")  # below the root: Apple silicon, Intel
FRAMEWORKS = ("Library/Frameworks/Python.framework", "Library/Frameworks/PythonT.framework")
_FORMULA = re.compile(r"^python@3\.\d+$")


def bin_dirs(root: Path) -> list[Path]:
    """Where a Mac keeps ``python3*`` executables, below ``root`` (``/`` on a Mac): the
    system's and Homebrew's bin dirs, each Homebrew python version's own bin (an unlinked one
    too) and each framework version's."""
    dirs = [root / "usr/bin", *(root / prefix / "bin" for prefix in HOMEBREW_PREFIXES)]
    for prefix in HOMEBREW_PREFIXES:
        for formula in _children(root / prefix / "Cellar", _FORMULA.match):
            dirs.extend(version / "bin" for version in _children(formula))
    for framework in FRAMEWORKS:
        dirs.extend(version / "bin" for version in _children(root / framework / "Versions"))
    return dirs


def owner_reason(real: str, root: Path) -> str | None:
    """Why the resolved executable ``real`` is not pyshelf's to remove, when Homebrew or
    python.org's installer put it there; None when neither did."""
    for prefix in HOMEBREW_PREFIXES:
        cellar = os.path.realpath(root / prefix / "Cellar")
        if within(real, cellar):
            formula = Path(os.path.relpath(real, cellar)).parts[0]
            return f"Homebrew's interpreter: `brew uninstall {formula}` removes it, not pyshelf"
    for framework in FRAMEWORKS:
        if within(real, os.path.realpath(root / framework)):
            name = Path(framework).name
            return f"python.org's {name} (its installer's): pyshelf does not remove it"
    return None


def _children(path: Path, keep: Callable[[str], object] | None = None) -> list[Path]:
    """Real subdirectories (not links, not dot entries) whose names ``keep`` matches."""
    try:
        with os.scandir(path) as entries:
            return sorted(
                Path(e.path)
                for e in entries
                if not e.name.startswith(".")
                and e.is_dir(follow_symlinks=False)
                and (keep is None or keep(e.name))
            )
    except OSError:
        return []

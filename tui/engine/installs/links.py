"""The links uv keeps beside its installs: the minor-version link and the bin dir's executables.

Every link is replaced atomically (a new symlink renamed over the old one), and a bin entry is
only ever touched when it is a symlink into this install dir: anything else there is the
user's. ``InstallDir`` holds one ``Links`` and hands it to its repair pass.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import NamedTuple

from tui.engine import hostos
from tui.engine.fsutil import inside, scratch_token, within
from tui.engine.installs.installation import interpreter_in, scan_installations
from tui.engine.installs.keys import KeyParts

OURS = ".pyshelf-"  # marks our scratch entries, so a sweep never touches uv's own

# Bin-dir names uv may manage: python3.12, python3.13t, python3, python, pypy3.10, graalpy.
BIN_NAME = re.compile(r"^(?:python|pypy|graalpy)(?:\d+(?:\.\d+)?)?[td]{0,2}$")


def replace_symlink(link: Path, target: Path) -> None:
    """Point ``link`` at ``target`` atomically: readers see the old link or the new one."""
    with contextlib.suppress(OSError):
        if os.readlink(link) == str(target):
            return
    temp = link.parent / f".{link.name}{OURS}{scratch_token()}"
    os.symlink(target, temp)
    try:
        os.replace(temp, link)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


class BinLinks(NamedTuple):
    """The bin dir's links one request made, and the names it left alone (a NamedTuple, not
    a dataclass: a reinstall loads this module and not dataclasses)."""

    linked: list[Path]
    refused: list[Path]  # taken by something else, or a folder: --force replaces the former


class Links:
    """The minor links in an install dir (``root``) and the links in its bin dir."""

    def __init__(self, root: Path, bin_dir: Path | None) -> None:
        self.root = root
        self.bin_dir = bin_dir

    @property
    def made_here(self) -> bool:
        """Whether this system gets the links: not Windows yet, where uv makes junctions,
        ``python3.X.exe`` trampolines and registry keys (asked as it runs: a test simulates
        the system)."""
        return hostos.system() != hostos.WINDOWS

    def _not_on_windows(self, parts: KeyParts, names: tuple[str, ...], warnings: list[str]) -> None:
        exes = ", ".join(f"{name}.exe" for name in names)
        interpreter = interpreter_in(inside(self.root, parts.key), parts)
        warnings.append(f"no {exes} made in {self.bin_dir} (not yet on Windows): run {interpreter}")

    def update_minor_link(self, parts: KeyParts, warnings: list[str]) -> None:
        """Point the minor-version link at the newest installed patch, or remove it."""
        # Not yet on Windows: uv makes a junction here, and PEP 514 registry keys beside it.
        if not parts.has_minor_link or not self.made_here:
            return
        link = inside(self.root, parts.minor_key)
        if os.path.lexists(link) and not link.is_symlink():
            warnings.append(f"{link} is not a symlink; left alone")
            return
        same_minor = [
            i for i in scan_installations(self.root) if i.minor_link_name == parts.minor_key
        ]
        if not same_minor:
            link.unlink(missing_ok=True)
            return
        newest = max(same_minor, key=lambda i: i.parts.sort_key())
        replace_symlink(link, newest.path)

    def _executable_target(self, parts: KeyParts, warnings: list[str]) -> Path | None:
        """What the bin dir's links point at: the interpreter through the minor link (so a
        new patch moves them), or None with a warning when the install has none."""
        name = parts.executable_name
        via = parts.minor_key if parts.has_minor_link else parts.key
        target = inside(self.root, via, "bin", name)
        if not target.exists():
            warnings.append(f"{parts.key} has no bin/{name}; no link made in {self.bin_dir}")
            return None
        return target

    def link_executable(self, parts: KeyParts, warnings: list[str]) -> Path | None:
        if self.bin_dir is None:
            return None
        if not self.made_here:  # Not yet on Windows: uv writes a python3.X.exe trampoline here.
            self._not_on_windows(parts, (parts.executable_name,), warnings)
            return None
        target = self._executable_target(parts, warnings)
        if target is None:
            return None
        link = inside(self.bin_dir, parts.executable_name)
        if os.path.lexists(link) and not self.manages(link):
            warnings.append(f"{link} exists and is not managed by uv; left alone")
            return None
        self.bin_dir.mkdir(parents=True, exist_ok=True)
        replace_symlink(link, target)
        return link

    def link_names(
        self, parts: KeyParts, names: tuple[str, ...], *, force: bool, warnings: list[str]
    ) -> BinLinks:
        """Point each of ``names`` in the bin dir at the install, by uv's rules for ``python
        install --default`` and ``--force``: a missing name, one of uv's or pyshelf's links
        (into this install dir) and a link that leads nowhere are (re)made; anything else
        there (a file, a link to another Python) only with ``force``."""
        made = BinLinks([], [])
        if self.bin_dir is None:
            return made
        if not self.made_here:  # Not yet on Windows: uv writes python3.X.exe trampolines here.
            self._not_on_windows(parts, names, warnings)
            return made
        target = self._executable_target(parts, warnings)
        if target is None:
            return made
        self.bin_dir.mkdir(parents=True, exist_ok=True)
        for name in names:
            link = inside(self.bin_dir, name)
            foreign = (
                os.path.lexists(link)
                and not self.manages(link)
                and (os.path.exists(link) or not link.is_symlink())  # not a dangling link
            )
            if foreign and not force:
                made.refused.append(link)
                continue
            if os.path.isdir(link) and not link.is_symlink():
                made.refused.append(link)  # never replaced, --force or not
                continue
            replace_symlink(link, target)
            made.linked.append(link)
        return made

    def manages(self, link: Path) -> bool:
        """Whether a bin entry is a symlink into this install dir (uv's or ours)."""
        try:
            target = os.path.join(link.parent, os.readlink(link))
        except OSError:
            return False  # a regular file or unreadable: not ours
        root = os.fspath(self.root)
        return within(os.path.normpath(target), root) or within(
            os.path.realpath(target), os.path.realpath(root)
        )

    def bin_links_into(self, path: Path) -> list[Path]:
        if self.bin_dir is None:
            return []
        real = os.path.realpath(path)
        try:
            entries = list(os.scandir(self.bin_dir))
        except OSError:
            return []
        return [
            Path(e.path)
            for e in entries
            if e.is_symlink() and within(os.path.realpath(e.path), real)
        ]

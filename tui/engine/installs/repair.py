"""The repair pass: bring an install dir back to what a finished command leaves.

Run under the lock at the start of every writing command (and by ``InstallDir.repair``):
scratch in ``.temp`` goes (or, for a reinstall killed between its two renames, the old tree
comes back), links into missing installs are re-pointed or removed, and an install whose
linking was cut short gets the links its command meant to make (a journal in ``.temp`` says
which). ``InstallDir`` runs it under its lock; it is handed the links it re-points.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from tui.engine.errors import describe_os_error
from tui.engine.fsutil import own_dir, read_small, remove_path
from tui.engine.installs.installation import find_installation
from tui.engine.installs.keys import MINOR_KEY, KeyParts, parse_key
from tui.engine.installs.links import BIN_NAME, OURS, Links, replace_symlink
from tui.engine.installs.lock import lock_held

_JOURNAL = "links"  # .temp/<key>.pyshelf-links: an install's linking is under way


class Repair:
    """The repair pass over an install dir (``root``, its scratch in ``temp_dir``) and the
    links ``links`` keeps."""

    def __init__(self, root: Path, temp_dir: Path, links: Links) -> None:
        self.root = root
        self.temp_dir = temp_dir
        self.links = links
        self.left_alone: set[Path] = set()  # scratch a sweep could not remove, already said

    def journal(self, key: str) -> Path:
        """The file that says ``key``'s linking is under way (its content: b"bin" when the
        bin link is to be made too)."""
        return self.temp_dir / f"{key}{OURS}{_JOURNAL}"

    def run(self) -> list[str]:
        """Under the lock (the caller's): make uv's scaffolding, sweep our scratch, fix links.

        A handful of scandir/readlink/stat calls: it runs at the start of every writing command.
        """
        warnings: list[str] = []
        own_dir(self.temp_dir)  # a link planted in its place is refused, never followed
        with contextlib.suppress(FileExistsError), (self.root / ".gitignore").open("x") as f:
            f.write("*")
        journals = self._sweep_temp(warnings)
        by_minor: dict[str, list[KeyParts]] = {}
        links: list[str] = []
        names: set[str] = set()
        for entry in os.scandir(self.root):
            name = entry.name
            names.add(name)
            if name.startswith("."):
                if OURS in name and entry.is_symlink():  # a half-made link replacement
                    self._fix(warnings, os.unlink, entry.path)
            elif entry.is_symlink():
                if MINOR_KEY.match(name):
                    links.append(name)
            elif entry.is_dir(follow_symlinks=False) and (parts := parse_key(name)):
                by_minor.setdefault(parts.minor_key, []).append(parts)
        newest = {
            minor: max(group, key=KeyParts.sort_key)
            for minor, group in by_minor.items()
            if group[0].has_minor_link and self.links.made_here
        }
        for name in links:  # links into missing installs: the newest patch left, or none
            link = self.root / name
            if not os.path.isdir(link):
                if name in newest:
                    self._fix(warnings, replace_symlink, link, self.root / newest[name].key)
                else:
                    self._fix(warnings, os.unlink, link)
        for minor, parts in newest.items():  # installs whose minor link never came
            if minor not in names:
                self._fix(warnings, replace_symlink, self.root / minor, self.root / parts.key)
        for key, link_bin in journals.items():  # linking a crash cut short
            parts = parse_key(key)
            if parts is not None and find_installation(self.root, key) is not None:
                with contextlib.suppress(OSError):
                    self.links.update_minor_link(parts, warnings)
                    if link_bin:
                        self.links.link_executable(parts, warnings)
            self._fix(warnings, os.unlink, self.journal(key))
        self._repair_bin_dir(warnings)
        return warnings

    def _sweep_temp(self, warnings: list[str]) -> dict[str, bool]:
        """Delete our scratch in ``.temp``; returns the link journals found (key: link_bin).

        Only the lock holder writes our entries there, so under the lock none is in use.
        """
        journals: dict[str, bool] = {}
        for entry in os.scandir(self.temp_dir):
            key, ours, tail = entry.name.partition(OURS)
            if not ours:
                continue  # uv's own scratch
            if tail.endswith(("-live", "-live.lock")):
                # Filled without the lock (a streaming download): ours to sweep only once no
                # process holds its flock.
                lock = entry.path if tail.endswith(".lock") else f"{entry.path}.lock"
                if not lock_held(lock):
                    self._drop_leftover(warnings, Path(entry.path))
                continue
            if tail == _JOURNAL:
                try:  # a fifo or a link in its place is no journal of ours: undone as one
                    journals[key] = read_small(Path(entry.path), 16, follow=False) == b"bin"
                except OSError:
                    journals[key] = False
                continue
            final = self.root / key
            if tail.endswith("-old") and parse_key(key) and not os.path.lexists(final):
                # A reinstall died between renaming the old tree aside and the new one in.
                self._fix(warnings, os.rename, entry.path, final)
                continue
            self._drop_leftover(warnings, Path(entry.path))
        return journals

    def _drop_leftover(self, warnings: list[str], path: Path) -> None:
        """Delete our scratch; one that cannot go (read-only, immutable, busy) stays, said
        once per run (one command may repair twice), and the command goes on."""
        try:
            remove_path(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            if path not in self.left_alone:
                self.left_alone.add(path)
                warnings.append(
                    f"left {path} in place: {describe_os_error(exc)}; remove it by hand"
                )

    def _repair_bin_dir(self, warnings: list[str]) -> None:
        """Remove our half-made links and managed links that resolve to nothing.

        A link through a minor link that was just re-pointed resolves again and stays.
        """
        bin_dir = self.links.bin_dir
        if bin_dir is None:
            return
        try:
            entries = list(os.scandir(bin_dir))
        except OSError:
            return
        for entry in entries:
            name = entry.name
            if not entry.is_symlink():
                continue
            half_made = name.startswith(".") and OURS in name
            if half_made or (
                BIN_NAME.match(name)
                and not os.path.exists(entry.path)  # one stat, only for python-like names
                and self.links.manages(Path(entry.path))
            ):
                self._fix(warnings, os.unlink, entry.path)

    @staticmethod
    def _fix(warnings: list[str], step: Callable[..., object], *args: object) -> None:
        """One repair step; a failure becomes a warning, never the command's failure."""
        try:
            step(*args)
        except FileNotFoundError:
            pass
        except OSError as exc:
            warnings.append(f"could not repair {exc.filename or args[0]}: {exc.strerror or exc}")

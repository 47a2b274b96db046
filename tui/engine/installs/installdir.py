"""Interpreters installed in uv's layout, changed only under uv's own lock.

Layout (as uv 0.13 writes it, checked against uv itself):

    root/.lock                                   empty; uv and pyshelf take an exclusive flock
    root/.gitignore                              "*"
    root/.temp/                                  scratch space on the same filesystem
    root/cpython-3.12.7-linux-x86_64-gnu/        the install (archive's top directory stripped)
        BUILD                                    build string, no newline
    root/cpython-3.12-linux-x86_64-gnu           absolute symlink to the newest 3.12.x (CPython)
    bin/python3.12                               absolute symlink through the minor link

Every change appears atomically: a new install is built in ``.temp`` and renamed into place, an
old one is renamed aside before it is deleted, and links are replaced with ``os.replace``.

A process killed between those steps leaves a tree that ``InstallDir.repair`` (run first by every
command that writes here) brings back to what a finished command would have left: scratch in
``.temp`` goes (or, for a reinstall killed between its two renames, the old tree comes back),
links into missing installs are re-pointed or removed, and an install whose linking was cut
short gets the links its command meant to make (a journal in ``.temp`` says which).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from tui.engine.builds import Build
from tui.engine.errors import PyshelfError
from tui.engine.fsutil import (
    atomic_write_bytes,
    exchange_paths,
    inside,
    own_dir,
    remove_path,
    scratch_token,
)
from tui.engine.installs.dirlock import DirLock
from tui.engine.installs.fixups import patch_installation
from tui.engine.installs.installation import (
    Installation,
    InstallResult,
    find_installation,
    read_build,
    scan_installations,
)
from tui.engine.installs.keys import KeyParts, parse_key
from tui.engine.installs.links import OURS, BinLinks, Links
from tui.engine.installs.linktree import clone_tree
from tui.engine.installs.macos_dylib import ensure_dylib_patched
from tui.engine.installs.probe import RunningCheck, start_check
from tui.engine.installs.repair import Repair
from tui.engine.platform import flags as flags_
from tui.engine.platform import locks
from tui.engine.progress import NULL, Phase, Reporter

__all__ = ["InstallDir", "InstallResult", "Installation", "scan_installations"]

LOCK_NAME = ".lock"
TEMP_NAME = ".temp"
_LIVE = "-live"  # scratch filled without uv's lock; its flock says a process still owns it
_LIVE_LOCK = ".lock"


class InstallDir:
    """uv's python install directory (UV_PYTHON_INSTALL_DIR) and its bin dir.

    Made of three parts it holds, each its own type: the lock uv shares (``DirLock``), the
    links beside the installs (``Links``) and the repair pass (``Repair``, handed the links).
    """

    def __init__(
        self, root: Path, bin_dir: Path | None = None, *, lock_timeout: float = 120.0
    ) -> None:
        self.root = Path(os.path.abspath(root))
        self.bin_dir = Path(os.path.abspath(bin_dir)) if bin_dir is not None else None
        self.dir_lock = DirLock(self.root, self.root / LOCK_NAME, lock_timeout)
        self.links = Links(self.root, self.bin_dir)
        self.repairer = Repair(self.root, self.temp_dir, self.links)

    @property
    def lock_path(self) -> Path:
        return self.dir_lock.path

    @property
    def lock_timeout(self) -> float:
        return self.dir_lock.timeout

    @property
    def temp_dir(self) -> Path:
        return self.root / TEMP_NAME

    def lock(
        self, timeout: float | None = None, reporter: Reporter = NULL
    ) -> contextlib.AbstractContextManager[None]:
        """Hold uv's exclusive lock on ``root/.lock`` (see ``DirLock.hold``)."""
        return self.dir_lock.hold(timeout, reporter)

    def repair(self, reporter: Reporter = NULL) -> tuple[str, ...]:
        """Bring the tree back to what finished commands leave (see the module doc)."""
        with self.lock(reporter=reporter):
            return tuple(self.repairer.run())

    # -- reading ------------------------------------------------------------------------------

    def installations(self) -> list[Installation]:
        return scan_installations(self.root)

    def get(self, key: str) -> Installation | None:
        return find_installation(self.root, key)

    # -- installing ---------------------------------------------------------------------------

    def install(
        self,
        archive: Path,
        build: Build,
        *,
        link_bin: bool = True,
        compile_bytecode: bool = False,
        reporter: Reporter = NULL,
        sha256: str | None = None,
    ) -> InstallResult:
        """Extract ``archive`` and install it as ``build.key``; with ``sha256`` the archive is
        hashed by the same pass (ChecksumError, and nothing installed, when it differs).

        ``reporter`` enters EXTRACTING, then LINKING. On any failure or cancellation the
        previous install of the key, if any, is untouched and no temp dir is left behind.
        """

        from tui.engine.archives.extract import extract_archive  # a reinstall never needs it

        def fill(temp: Path) -> None:
            extract_archive(archive, temp, reporter=reporter, sha256=sha256)

        return self._install(
            build, fill, source=archive.name, run_check=True,
            link_bin=link_bin, compile_bytecode=compile_bytecode, reporter=reporter,
        )  # fmt: skip

    def install_from_tree(
        self,
        tree: Path,
        build: Build,
        *,
        link_bin: bool = True,
        compile_bytecode: bool = False,
        reporter: Reporter = NULL,
        run_check: bool = True,
        clone: Callable[[Path, Reporter], None] | None = None,
    ) -> InstallResult:
        """Install an unpacked tree (see UnpackedStore) by hard-linking it: fast reinstalls.

        The install shares inodes with ``tree``: nothing may modify its files in place.
        ``run_check=False`` skips starting the interpreter (the structural check stays), for a
        tree whose archive an earlier install already ran; otherwise the interpreter is
        started from ``tree`` itself (the same files the install links) while the install is
        linked and fixed up. ``clone(dest, reporter)``, when given, makes the linked tree
        instead (``UnpackedStore.link_into`` checks the copy as it links); whatever it raises
        leaves nothing behind.
        """
        if not tree.is_dir():
            raise PyshelfError(f"cannot install {build.key}: {tree} is not a directory")

        def fill(temp: Path) -> None:
            if clone is not None:
                clone(temp, reporter)
            else:
                clone_tree(tree, temp, reporter)

        source = build.filename or os.fspath(tree)
        started = start_check(tree, self._parts(build), source, run=True) if run_check else None
        try:
            return self._install(
                build, fill, source=source, run_check=False, started=started,
                link_bin=link_bin, compile_bytecode=compile_bytecode, reporter=reporter,
                filling=Phase.LINKING,
            )  # fmt: skip
        finally:
            if started is not None:
                started.stop()  # reaps it when a failure came before its answer was read

    def _install(
        self,
        build: Build,
        fill: Callable[[Path], None],
        *,
        source: str,
        run_check: bool,
        link_bin: bool,
        compile_bytecode: bool = False,
        reporter: Reporter,
        started: RunningCheck | None = None,
        filling: Phase = Phase.EXTRACTING,
    ) -> InstallResult:
        parts = self._parts(build)
        with self.lock(reporter=reporter):
            warnings = self.repairer.run()
            temp = self._scratch(build.key)
            try:
                reporter.set_phase(filling)
                fill(temp)
            except BaseException:
                with contextlib.suppress(OSError):  # else the next sweep's, and said then
                    remove_path(temp)
                raise
            return self._commit(
                temp,
                build,
                parts,
                warnings,
                source,
                run_check,
                link_bin,
                compile_bytecode,
                reporter,
                started,
                linking=filling is Phase.LINKING,
            )

    def install_staged(
        self,
        build: Build,
        fill: Callable[[Path], None],
        *,
        source: str,
        link_bin: bool = True,
        compile_bytecode: bool = False,
        reporter: Reporter = NULL,
    ) -> InstallResult:
        """Install what ``fill`` writes into a new directory, calling it without uv's lock:
        for a tree that streams in with a download, which may take hours. The scratch stays
        out of the repair pass's sweep while this process holds its flock."""
        parts = self._parts(build)
        temp, held = self._live_scratch(build.key)
        try:
            try:
                fill(temp)
                with self.lock(reporter=reporter):
                    warnings = self.repairer.run()
                    return self._commit(
                        temp, build, parts, warnings, source, True, link_bin, compile_bytecode,
                        reporter,
                    )  # fmt: skip
            finally:
                with contextlib.suppress(OSError):  # else the next sweep's, and said then
                    remove_path(temp)  # gone already when committed
        finally:
            locks.remove_held(held, f"{temp}{_LIVE_LOCK}")

    def _live_scratch(self, key: str) -> tuple[Path, int]:
        """A scratch path and the fd holding its flock. A sweep may catch the lock file in the
        instant between creating and locking it: then it is no longer linked, and another
        name is tried."""
        own_dir(self.temp_dir)
        flags = os.O_RDWR | flags_.NEW_FILE
        while True:
            temp = self._scratch(key, _LIVE)
            try:
                fd = os.open(f"{temp}{_LIVE_LOCK}", flags, 0o600)
            except FileExistsError:
                continue  # another scratch drew the same name
            locks.lock(fd)
            if os.fstat(fd).st_nlink:
                return temp, fd
            os.close(fd)

    def _parts(self, build: Build) -> KeyParts:
        parts = parse_key(build.key)
        if parts is None:
            raise PyshelfError(f"cannot install {build.key!r}: not an installation key uv knows")
        return parts

    def _commit(
        self,
        temp: Path,
        build: Build,
        parts: KeyParts,
        warnings: list[str],
        source: str,
        run_check: bool,
        link_bin: bool,
        compile_bytecode: bool,
        reporter: Reporter,
        started: RunningCheck | None = None,
        linking: bool = False,
    ) -> InstallResult:
        """Under the lock: check and patch the filled ``temp``, swap it in, make the links.
        ``started`` is the interpreter check already running on the tree ``temp`` links to;
        ``linking``: the reporter already says so (the tree was filled by linking)."""
        final = inside(self.root, build.key)
        journal = self.repairer.journal(build.key)
        try:
            # The interpreter starts in the background while the fix-ups run (two processes,
            # two cores); it must have answered with its version before anything moves.
            checks = [start_check(temp, parts, source, run=run_check)]
            if started is not None:
                checks.append(started)
            try:
                patch_installation(temp, final, parts)
                if build.build:
                    # A new inode, never a write into a file a hard-linked tree shares.
                    atomic_write_bytes(temp / "BUILD", build.build.encode())
            except Exception:
                for check in checks:
                    check.wait()  # a tree that holds no interpreter is refused as that first
                raise
            except BaseException:
                for check in checks:
                    check.stop()
                raise
            for check in checks:
                check.wait()
            if dylib_warning := ensure_dylib_patched(temp, final, parts):  # macOS; see there
                warnings.append(dylib_warning)
            if compile_bytecode:
                self._compile(temp, parts, final, warnings, reporter)
            reporter.check(f"install of {build.key} cancelled")
            # From here a crash leaves linking to do: the next repair finishes it.
            atomic_write_bytes(journal, b"bin" if link_bin else b"")
            replaced = self._swap_in(temp, final)
        except BaseException:
            with contextlib.suppress(OSError):  # else the next sweep's, and said then
                remove_path(temp)
            journal.unlink(missing_ok=True)
            raise
        if not linking:
            reporter.set_phase(Phase.LINKING)
        try:
            self.links.update_minor_link(parts, warnings)
            bin_link = self.links.link_executable(parts, warnings) if link_bin else None
        finally:
            journal.unlink(missing_ok=True)
        installation = Installation(build.key, final, read_build(final), parts)
        return InstallResult(installation, replaced, bin_link, tuple(warnings))

    def relink(
        self,
        key: str,
        *,
        link_bin: bool = True,
        compile_bytecode: bool = False,
        reporter: Reporter = NULL,
    ) -> tuple[str, ...] | None:
        """Repair, then give an existing install its minor link and (with ``link_bin``) its
        bin link, as uv does for a request already satisfied; ``compile_bytecode`` compiles
        its stdlib in place, as uv does then too. None when ``key`` is not installed. Returns
        the warnings."""
        with self.lock(reporter=reporter):
            warnings = self.repairer.run()
            installation = self.get(key)
            if installation is None:
                return None
            if compile_bytecode:
                path = installation.path
                self._compile(path, installation.parts, path, warnings, reporter)
            path, parts = installation.path, installation.parts  # macOS: uv fixes one there too
            if dylib_warning := ensure_dylib_patched(path, path, parts):
                warnings.append(dylib_warning)
            self.links.update_minor_link(parts, warnings)
            if link_bin:
                self.links.link_executable(installation.parts, warnings)
            return tuple(warnings)

    def link_bin(
        self, key: str, *, default: bool, force: bool
    ) -> tuple[BinLinks, tuple[str, ...]] | None:
        """Make an install's bin-dir links as ``uv python install`` does with ``--default``
        (python3.12, python3 and python) or ``--force`` (python3.12 even over what neither
        tool made). Returns what was linked and left alone, and the warnings; None when
        ``key`` is not installed."""
        with self.lock():
            installation = self.get(key)
            if installation is None:
                return None
            parts = installation.parts
            names = parts.default_names if default else (parts.executable_name,)
            warnings: list[str] = []
            made = self.links.link_names(parts, names, force=force, warnings=warnings)
            return made, tuple(warnings)

    def _compile(
        self, tree: Path, parts: KeyParts, final: Path, warnings: list[str], reporter: Reporter
    ) -> None:
        """The stdlib to bytecode; a build for another machine is installed without it."""
        from tui.engine.installs.bytecode import can_compile, compile_stdlib  # installs only

        if not can_compile(parts):
            warnings.append(f"{parts.key}: not compiled to bytecode (built for another machine)")
            return
        reporter.set_phase(Phase.COMPILING)
        compile_stdlib(tree, parts, final=final, reporter=reporter)

    def _scratch(self, key: str, suffix: str = "") -> Path:
        return self.temp_dir / f"{key}{OURS}{scratch_token()}{suffix}"

    def _swap_in(self, new: Path, final: Path) -> bool:
        """Rename ``new`` to ``final``; an existing ``final`` is renamed aside first and only
        deleted once the new one is in place. Returns whether something was replaced."""
        if not os.path.lexists(final):
            os.rename(new, final)
            return False
        if exchange_paths(new, final):
            # One atomic step: at no instant is there no interpreter at ``final``.
            with contextlib.suppress(OSError):
                remove_path(new)  # now the old tree
            return True
        old = self._scratch(final.name, "-old")
        os.rename(final, old)
        try:
            os.rename(new, final)
        except BaseException:
            os.rename(old, final)
            raise
        with contextlib.suppress(OSError):  # left for the next sweep
            remove_path(old)
        return True

    # -- uninstalling -------------------------------------------------------------------------

    def uninstall(self, key: str, *, reporter: Reporter = NULL) -> int:
        """Remove an install; returns the bytes that came free (files an UnpackedStore still
        shares through hard links do not count).

        The directory disappears atomically (renamed into ``.temp`` before deletion), the
        minor link moves to the next newest patch or goes, and bin links that pointed into the
        install and no longer resolve are removed. Bin entries pointing elsewhere stay.
        """
        with self.lock(reporter=reporter):
            self.repairer.run()
            installation = self.get(key)
            if installation is None:
                raise PyshelfError(f"{key} is not installed in {self.root}")
            links = self.links.bin_links_into(installation.path)
            aside = self._scratch(key, "-del")
            os.rename(installation.path, aside)
            from tui.engine.du import freed_size

            freed = freed_size(aside)
            self.links.update_minor_link(installation.parts, [])
            for link in links:
                if not os.path.exists(link):  # dangling now; one through a repointed
                    link.unlink(missing_ok=True)  # minor link still works and stays
            with contextlib.suppress(OSError):  # left for the next sweep
                remove_path(aside)
            return freed

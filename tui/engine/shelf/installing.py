"""Installing a row: from its kept unpacked copy by hard links, else unpacking its archive
(cached, or as it downloads), as ``Shelf.install`` asks."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from tui.engine.archives.cache import holds_archive
from tui.engine.builds import Build
from tui.engine.errors import ChecksumError, NotAnInterpreter, PyshelfError
from tui.engine.installs.installation import InstallResult
from tui.engine.installs.unpacked import CopyDiffers
from tui.engine.progress import Phase, Reporter
from tui.engine.shelf.entry import Entry

if TYPE_CHECKING:
    from tui.engine.archives.download import Tap
    from tui.engine.shelf.shelf import Shelf

T = TypeVar("T")


class Installer:
    """The install steps of one shelf: handed the shelf, whose cache, copies, install dir and
    fetch it uses."""

    def __init__(self, shelf: Shelf) -> None:
        self.shelf = shelf
        self.said_why_slower = False  # once per run, not once per install

    def install(self, entry: Entry, reporter: Reporter) -> InstallResult:
        """Install (or reinstall over) ``entry``, fetching it first if the cache lacks it.

        A verified archive is unpacked once into the cache; installs are hard-linked from that
        copy, which makes every later reinstall a matter of links, not decompression. The copy
        is checked against its manifest by the pass that links it; one that differs (an
        install's file edited in place edits it too) is dropped and unpacked again from the
        archive, verified again, so a reinstall always yields the archive's bytes. Unpacking
        is one pass over the archive's bytes: as they download, or as the cached archive is
        read and hashed. The interpreter is started once, on the install that unpacked the
        archive.
        """
        build = entry.build
        sha = build.sha256  # the catalog's, or the one pyshelf recorded as it verified it
        replaced = self._other_build_installed(entry)
        try:
            if sha is None:  # an archive only the cache knows: its name is all we have
                result = self._install_cached_only(entry, reporter)
            elif not self.shelf.can_link():
                result = self._install_from_archive(entry, sha, reporter)
                if (why := self.shelf.copies_refused()) is not None and not self.said_why_slower:
                    self.said_why_slower = True  # once per run, not once per install
                    note = f"{why}: installed straight from the archive (slower; nothing cached)"
                    result = result._replace(warnings=(*result.warnings, note))
            else:
                result = self._install_from_copy(entry, sha, reporter)
        except NotAnInterpreter as exc:
            raise self._evict_refused(entry, exc) from None
        if sha is not None and (archive := self._archive_path(entry)) is not None:
            self.shelf.records.remember(build, archive.name)
        if replaced is not None and replaced.sha256:
            # A rebuild took the old build's place: its copy now serves no install, and goes
            # as an uninstall's would. Its archive stays, for an offline way back.
            self.shelf.unpacked.trim(self.shelf.settings.keep_unpacked, [replaced.sha256])
        return result

    def _other_build_installed(self, entry: Entry) -> Build | None:
        """The verified build installed under ``entry``'s key when it is another build than
        ``entry``'s (which replaces it); None otherwise, or when nothing says what it is."""
        inst = self.shelf.installs.get(entry.key)
        if inst is None or not inst.build or inst.build == entry.build.build:
            return None
        return self.shelf.provenance.build_of(inst)

    def _install_from_copy(self, entry: Entry, sha: str, reporter: Reporter) -> InstallResult:
        """Install by hard links from the unpacked copy, unpacking the archive first when
        there is none. A kept copy is checked against its manifest by the pass that links
        it; one that differs is dropped and unpacked again. Only a fresh copy's interpreter
        is started: a kept one ran when it was unpacked."""
        build, link_bin = entry.build, self.shelf.settings.link_bin
        compiled, unpacked = self.shelf.settings.compile_bytecode, self.shelf.unpacked
        tree = unpacked.get(sha)
        problem: str | None = None
        if tree is not None:
            try:
                result = self.shelf.installs.install_from_tree(
                    tree, build, link_bin=link_bin, compile_bytecode=compiled,
                    reporter=reporter, run_check=False, clone=partial(unpacked.link_into, sha),
                )  # fmt: skip
            except CopyDiffers as exc:
                problem = str(exc)
                self.shelf.unpacked.remove(sha)
            except NotAnInterpreter as exc:
                self.shelf.unpacked.remove(
                    sha
                )  # a copy no install can use: the next try unpacks again
                exc.archive_at_fault = False  # it ran when it was unpacked: the copy changed
                raise
            else:
                self.shelf.unpacked.touch(sha)
                return result
        elif self.shelf.unpacked.path_for(sha).exists():  # no tree inside: older layout, or damaged
            self.shelf.unpacked.remove(sha)
        tree = self._unpack(entry, sha, problem, reporter)
        try:
            result = self.shelf.installs.install_from_tree(
                tree, build, link_bin=link_bin, compile_bytecode=compiled, reporter=reporter
            )
        except NotAnInterpreter:
            self.shelf.unpacked.remove(sha)
            raise
        self.shelf.unpacked.touch(sha)
        return result

    def _install_cached_only(self, entry: Entry, reporter: Reporter) -> InstallResult:
        archive = entry.cached.path if entry.cached else self.shelf.fetch(entry, reporter=reporter)
        return self.shelf.installs.install(
            archive, entry.build, link_bin=self.shelf.settings.link_bin,
            compile_bytecode=self.shelf.settings.compile_bytecode, reporter=reporter,
        )  # fmt: skip

    def _evict_refused(self, entry: Entry, exc: NotAnInterpreter) -> NotAnInterpreter:
        """An archive whose own files were refused is not that build: it leaves the cache
        (with its partial download and unpacked copy) rather than stay there looking like a
        good cached build, and the error says so. One that could not be run stays."""
        if not exc.archive_at_fault:
            return exc
        try:
            self.shelf.evict(entry)
        except OSError:
            return exc
        return NotAnInterpreter(f"{exc}; its archive was evicted from the cache")

    def _install_from_archive(self, entry: Entry, sha: str, reporter: Reporter) -> InstallResult:
        """Install straight from the archive, as uv does: for a cache on another filesystem,
        where a kept unpacked copy could only be copied, never linked."""
        build, link_bin = entry.build, self.shelf.settings.link_bin
        compiled = self.shelf.settings.compile_bytecode

        def unpack(archive: Path) -> InstallResult:
            return self.shelf.installs.install(
                archive, build, link_bin=link_bin, reporter=reporter, sha256=sha,
                compile_bytecode=compiled,
            )  # fmt: skip

        if (result := self._from_cache(entry, reporter, unpack)) is not None:
            return result
        if (result := self._fetched_zip(entry, reporter, unpack)) is not None:
            return result
        name = build.filename or entry.key
        fetch = self._fetch_into(entry, reporter)

        def fill(temp: Path) -> None:  # unpacked as it downloads, into the install dir
            from tui.engine.archives.extract import ResettableExtract

            ResettableExtract(name, temp).run(fetch)

        return self.shelf.installs.install_staged(
            build, fill, source=name, link_bin=link_bin, reporter=reporter,
            compile_bytecode=compiled,
        )  # fmt: skip

    def _unpack(self, entry: Entry, sha: str, problem: str | None, reporter: Reporter) -> Path:
        """A new unpacked copy of ``entry``: from the cached archive, hashed as it is read, or
        else as the download lands."""
        unpack = partial(self.shelf.unpacked.add, sha256=sha, reporter=reporter)
        if (tree := self._from_cache(entry, reporter, unpack)) is not None:
            return tree
        if self.shelf.settings.offline and problem is not None:
            raise PyshelfError(
                f"the unpacked copy of {entry.key} differed from its archive ({problem}) and "
                f"was dropped, and the archive is not in the cache; run `pyshelf fetch "
                f"{entry.key}` online, then reinstall"
            )
        if (tree := self._fetched_zip(entry, reporter, unpack)) is not None:
            return tree
        name = entry.build.filename or entry.key
        return self.shelf.unpacked.add_stream(sha, name, self._fetch_into(entry, reporter))

    def _from_cache(
        self, entry: Entry, reporter: Reporter, unpack: Callable[[Path], T]
    ) -> T | None:
        """``unpack(archive)`` for a cached archive, which hashes it in the same pass; None
        when there is none, or it was damaged (then it is deleted, to be fetched again)."""
        archive = self._archive_path(entry)
        if archive is None or not holds_archive(archive):  # a link or a fifo: never read
            return None
        reporter.set_phase(Phase.EXTRACTING)
        try:
            return unpack(archive)
        except ChecksumError:
            try:
                archive.unlink(missing_ok=True)
            except OSError:  # a read-only cache: the damaged archive stays, and says so
                raise PyshelfError(
                    f"{archive} does not match its sha256 and cannot be removed from the "
                    f"read-only cache; ask the cache's owner to run `pyshelf verify`"
                ) from None
            return None  # the row is refreshed after the job

    def _fetched_zip(
        self, entry: Entry, reporter: Reporter, unpack: Callable[[Path], T]
    ) -> T | None:
        """``unpack(archive)`` for a .zip, fetched into the cache first: a zip is read from its
        end (its central directory), so it cannot be unpacked as it downloads. The archive is
        hashed again as it is unpacked. None for any other archive."""
        if not (entry.build.filename or "").endswith(".zip"):
            return None
        reporter.set_phase(Phase.DOWNLOADING)
        self.shelf.fetch(entry, reporter=reporter)
        if (result := self._from_cache(entry, reporter, unpack)) is None:
            raise ChecksumError(f"{entry.key}: its archive changed in the cache once verified")
        return result

    def _archive_path(self, entry: Entry) -> Path | None:
        """Where ``entry``'s archive is cached: its URL names it; one no catalog lists any
        more is where the cache listing found it."""
        if entry.build.url and entry.build.sha256:
            return self.shelf.cache.path_for(entry.build)
        return entry.cached.path if entry.cached is not None else None

    def _fetch_into(self, entry: Entry, reporter: Reporter) -> Callable[[Tap], None]:
        """What an unpack that runs alongside the download calls: fetch ``entry`` into a tap."""
        reporter.set_phase(Phase.DOWNLOADING)

        def fetch(tap: Tap) -> None:
            self.shelf.fetch(entry, reporter=reporter, tap=tap)
            reporter.set_phase(Phase.EXTRACTING)  # the last bytes may still be unpacking

        return fetch

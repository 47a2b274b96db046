"""The shelf: one view over the catalog, the archive cache and the installed interpreters."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from tui.engine import names, platforms
from tui.engine.archives.cache import ArchiveCache, CachedArchive, holds_archive
from tui.engine.archives.catalog import Catalog, is_url, load_catalog
from tui.engine.archives.sizes import RemoteSizes
from tui.engine.archives.sources import Sources
from tui.engine.builds import Build
from tui.engine.errors import (
    ChecksumError,
    NotAnInterpreter,
    PyshelfError,
    RequestError,
    shown,
)
from tui.engine.host import Host, current_host
from tui.engine.installs.installdir import (
    Installation,
    InstallDir,
    InstallResult,
    scan_installations,
)
from tui.engine.installs.records import BuildRecords
from tui.engine.installs.unpacked import CopyDiffers, UnpackedStore
from tui.engine.progress import NULL, Phase, Reporter
from tui.engine.resolve import best, no_match_message, parse_request, resolve
from tui.engine.settings import BUILD_PINS, Settings

# The download, extraction and HTTP modules load only when a job needs them: a reinstall
# from an unpacked copy, or a listing, never reads an archive (tests/test_startup.py).
if TYPE_CHECKING:
    from concurrent.futures import Future

    import httpx

    from tui.engine.archives.download import Downloader, Tap
    from tui.engine.installs.losses import Losses

T = TypeVar("T")


class Entry:
    """A build as the user sees it: available, cached, installed, or several at once.

    A plain class rather than a dataclass: the dataclasses module and each class it makes
    cost start-up time that a reinstall feels (see ``tui.engine.builds``).
    """

    _FIELDS = (
        "build", "available", "cached", "installation", "download_size", "partial_bytes",
        "install_size", "unpacked_size",
    )  # fmt: skip
    __slots__ = _FIELDS  # in the order __init__ takes them, for == and repr

    def __init__(
        self,
        build: Build,
        available: bool,  # a catalog lists it, so it can be downloaded
        cached: CachedArchive | None = None,
        installation: Installation | None = None,
        download_size: int | None = None,
        partial_bytes: int = 0,
        install_size: int | None = None,  # filled in by a scan; None means not known yet
        # What its unpacked copy adds beyond the files an install shares (see
        # tui.engine.usage.ledger): 0 without a copy, None while a copy is there but not
        # measured yet.
        unpacked_size: int | None = 0,
    ) -> None:
        self.build = build
        self.available = available
        self.cached = cached
        self.installation = installation
        self.download_size = download_size
        self.partial_bytes = partial_bytes
        self.install_size = install_size
        self.unpacked_size = unpacked_size

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in Entry._FIELDS)

    def __eq__(self, other: object) -> bool:
        return type(other) is Entry and self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # it changes as jobs run

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in Entry._FIELDS)
        return f"Entry({fields})"

    @property
    def key(self) -> str:
        return self.build.key

    @property
    def state(self) -> str:
        if self.installation and self.cached:
            return "installed+cached"
        if self.installation:
            return "installed"
        if self.cached:
            return "cached"
        if self.partial_bytes:
            return "partial"
        # Listed, but with no published sha256 there is nothing to verify a download against.
        return "available" if self.available else "unverifiable"

    @property
    def in_cache(self) -> bool:
        """Whether the cache holds anything of it: archive, partial download, unpacked copy."""
        return self.cached is not None or self.partial_bytes > 0 or self.unpacked_size != 0

    @property
    def cache_size(self) -> int | None:
        """What it costs in the cache, the Cached column: the archive, a partial download and
        what its unpacked copy adds. None while the copy is unmeasured or nothing is cached."""
        if self.unpacked_size is None or not self.in_cache:
            return None
        return (self.cached.size if self.cached else 0) + self.partial_bytes + self.unpacked_size


def _orphan_from_archive(archive: CachedArchive) -> Build | None:
    """A cached archive no catalog lists (uv may have cached it from another index)."""
    parsed = names.parse_archive_name(archive.name)
    if parsed is None:
        return None
    major, minor, patch, pre = names.split_version(parsed.version)
    return Build(
        parsed.implementation, major, minor, patch, pre, parsed.variant,
        parsed.os, parsed.arch, parsed.libc, parsed.build, url=None, sha256=None,
    )  # fmt: skip


def _orphan_from_installation(inst: Installation) -> Build:
    p = inst.parts
    return Build(
        p.implementation, p.major, p.minor, p.patch, p.prerelease, p.variant,
        p.os, p.arch, p.libc, inst.build, url=None, sha256=None,
    )  # fmt: skip


_EFFECTIVE = os.access in os.supports_effective_ids  # a setuid caller is judged as itself


def _writable(path: Path) -> bool:
    """Whether this user can make files in ``path`` (or, while it does not exist yet, in the
    nearest folder above it that does)."""
    for place in (path, *path.parents):
        if os.path.lexists(place):
            return os.access(place, os.W_OK | os.X_OK, effective_ids=_EFFECTIVE)
    return False


class Shelf:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        client: httpx.Client | None = None,
        host: Host | None = None,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings or Settings()
        # Told each catalog warning once, as the catalog loads, and each leftover in the
        # cache that cannot be removed.
        self.on_warning = on_warning
        self.host = host or current_host()
        self._client = client
        self.cache = ArchiveCache(self.settings.cache_dir, self.settings.state_dir)
        self.sizes = RemoteSizes(self.settings.state_dir / "download-sizes.json")
        self.sizes.url_of = lambda build: next(iter(self.sources.urls(build)), None)
        self._downloader: Downloader | None = None
        self.installs = InstallDir(
            self.settings.install_dir,
            self.settings.bin_dir,
            lock_timeout=self.settings.lock_timeout,
        )
        self.unpacked = UnpackedStore(self.settings.state_dir / "unpacked", on_warning)
        self.records = BuildRecords(self.settings.state_dir / "builds")
        self._catalog: Catalog | None = None
        self._can_link: bool | None = None
        self._said_why_slower = False
        self._link_lock = threading.Lock()
        self._catalog_lock = threading.Lock()
        self._client_lock = threading.Lock()
        self._downloader_lock = threading.Lock()
        self._preloaded: Future[list[Entry]] | None = None

    @property
    def client(self) -> httpx.Client:
        """One HTTP client for everything, made on first use (offline runs never make it)."""
        with self._client_lock:
            if self._client is None:
                from tui.engine.archives.http import make_client

                s = self.settings
                self._client = make_client(
                    s.read_timeout, s.connect_timeout, token_urls=self.token_urls()
                )
            return self._client

    @property
    def downloader(self) -> Downloader:
        """Fetches archives into the cache; made on first use."""
        with self._downloader_lock:
            if self._downloader is None:
                from tui.engine.archives.download import Downloader, DownloadPolicy

                s = self.settings
                policy = DownloadPolicy(retries=s.retries, max_bytes=s.max_download)
                self._downloader = Downloader(
                    self.cache, lambda: self.client, offline=s.offline, policy=policy,
                    sources=self.sources.urls,
                )  # fmt: skip
            return self._downloader

    @property
    def sources(self) -> Sources:
        """Where archives are downloaded from, in uv's order (see ``archives.sources``)."""
        return Sources(self.settings.python_mirror, self.settings.astral_mirror)

    def token_urls(self) -> tuple[str, ...]:
        """The URLs whose origins get PYSHELF_MIRROR_TOKEN: the mirrors' (Astral's stand-in
        among them) and a remote catalog's (``file://`` ones have none)."""
        s = self.settings
        urls = (s.python_mirror, s.pypy_mirror, s.astral_mirror, s.catalog)
        return tuple(url for url in urls if url)

    # -- catalog -------------------------------------------------------------------------

    @property
    def catalog(self) -> Catalog:
        with self._catalog_lock:
            if self._catalog is None:
                s = self.settings
                self._catalog = load_catalog(
                    s.catalog,
                    store=s.state_dir / "catalogs",
                    offline=s.offline,
                    python_mirror=s.python_mirror,
                    pypy_mirror=s.pypy_mirror,
                    client=self.client if s.catalog and is_url(s.catalog) else None,
                )
                if self.on_warning:
                    for warning in self._catalog.warnings:
                        self.on_warning(warning)
            return self._catalog

    def reload_catalog(self) -> None:
        """Forget the catalog; the next use loads (and revalidates) it again."""
        with self._catalog_lock:
            self._catalog = None
            self._preloaded = None

    def go_without_catalog(self, reason: str) -> None:
        """Carry on with an empty catalog: the cache and the installs still list and install."""
        with self._catalog_lock:
            self._catalog = Catalog([], f"none ({reason})", [])
            self._preloaded = None

    def builds(self, all_platforms: bool = False) -> list[Build]:
        builds = self.catalog.builds
        return builds if all_platforms else [b for b in builds if b.runs_on(self.host)]

    # -- the merged view -----------------------------------------------------------------

    def preload_entries(self) -> None:
        """Start listing this machine's entries on a thread; the next ``entries()`` takes
        them. The app calls this before Textual loads, so its first frame can hold the rows."""
        from concurrent.futures import Future  # the app's; a CLI command never preloads

        future: Future[list[Entry]] = Future()

        def run() -> None:
            try:
                future.set_result(self._list_entries(all_platforms=False))
            except BaseException as exc:  # handed to whoever takes the entries
                future.set_exception(exc)

        with self._catalog_lock:
            self._preloaded = future
        threading.Thread(target=run, name="pyshelf-preload", daemon=True).start()

    def preloaded(self, wait: float = 0.0) -> bool:
        """Whether a preload has finished (waiting up to ``wait`` seconds for it), and without
        an error: ``entries()`` then returns at once."""
        with self._catalog_lock:
            future = self._preloaded
        if future is None:
            return False
        from concurrent import futures

        futures.wait([future], timeout=wait)
        return future.done() and future.exception() is None

    def entries(self, *, all_platforms: bool = False) -> list[Entry]:
        """Every build of the catalog, plus whatever is cached or installed without one."""
        if not all_platforms:
            with self._catalog_lock:
                future, self._preloaded = self._preloaded, None
            if future is not None:
                return future.result()
        return self._list_entries(all_platforms=all_platforms)

    def _list_entries(self, *, all_platforms: bool) -> list[Entry]:
        by_cache_name: dict[str, Entry] = {}
        by_key: dict[str, Entry] = {}
        by_build: dict[tuple[str, str], Entry] = {}  # (key, build tag): every build listed
        copies = {c.name for c in self.unpacked.copies()}
        partials = self.cache.partial_sizes()

        def add(entry: Entry) -> Entry:
            sha = entry.build.sha256
            if sha and sha[:16] in copies:
                entry.unpacked_size = None  # the ledger measures it
            by_build.setdefault((entry.key, entry.build.build), entry)
            return entry

        for build in sorted(self.builds(all_platforms), key=Build.sort_key):
            entry = Entry(build, available=bool(build.url and build.sha256))
            entry.download_size = self.sizes.get(build)
            name = self.cache.path_for(build).name if build.sha256 else ""
            entry.partial_bytes = partials.get(name, 0) if name else 0
            if build.sha256 and build.url:
                by_cache_name[name] = entry
            by_key[build.key] = add(entry)  # the newest build of a key wins
        for archive in self.cache.scan():
            entry = by_cache_name.get(archive.path.name)
            if entry is None:
                orphan = self.verified_build(archive) or _orphan_from_archive(archive)
                if orphan is None or not (all_platforms or orphan.runs_on(self.host)):
                    continue
                entry = Entry(orphan, available=False, download_size=archive.size)
                by_cache_name[archive.path.name] = entry
                by_key.setdefault(orphan.key, entry)
                if orphan.sha256:  # an install may be of it; never of an archive none checks
                    add(entry)
            entry.cached = archive
        more: list[Entry] = []  # installs of a build nothing above lists
        for inst in scan_installations(self.settings.install_dir):
            entry = by_key.get(inst.key)
            if entry is not None and inst.build and entry.build.build not in ("", inst.build):
                # Another build of the key is installed (the catalog names a rebuild): the
                # install is its own build's, whose record or archive says what it is.
                entry = by_build.get((inst.key, inst.build))
                if entry is None:
                    build = self._recorded(inst) or _orphan_from_installation(inst)
                    entry = add(Entry(build, available=False))
                    more.append(entry)
            if entry is None or (entry.installation is not None):
                entry = Entry(_orphan_from_installation(inst), available=False)
                by_key[inst.key] = entry
            # An install belongs to the key's entry even when a newer build of it exists.
            entry.installation = inst
        seen: set[int] = set()
        out = []
        for entry in [*by_key.values(), *by_cache_name.values(), *more]:
            if id(entry) not in seen:
                seen.add(id(entry))
                out.append(entry)
        return sorted(out, key=lambda e: e.build.sort_key(), reverse=True)

    def verified_build(self, archive: CachedArchive) -> Build | None:
        """The build of a cached archive no catalog lists, with the sha256 to check it by: as
        pyshelf recorded it when it verified the archive, else as this user's sealed unpacked
        copy of it names it (a copy made before records were kept). None when neither says."""
        name = archive.path.name
        if (build := self.records.recall(name)) is not None:
            return build
        orphan = _orphan_from_archive(archive)
        sha = self.unpacked.sha256_with_prefix(name[:9]) if orphan is not None else None
        if orphan is None or sha is None:
            return None
        build = orphan._replace(sha256=sha)
        self.records.remember(build, name)  # the copy may go before the archive does
        return build

    def _recorded(self, inst: Installation) -> Build | None:
        """The recorded build of an install whose archive is no longer cached."""
        return next(
            (
                b
                for b in self.records.recall_all().values()
                if b.key == inst.key and b.build == inst.build
            ),
            None,
        )

    def find(
        self, request: str, entries: Iterable[Entry], *, want: Callable[[Entry], bool]
    ) -> Entry:
        """Resolve ``request`` among entries that satisfy ``want`` (cached, installed, ...)."""
        pool = [e for e in entries if want(e)]
        parsed = parse_request(request)
        matching = [e for e in pool if parsed.matches(e.build)]
        if not matching:
            raise RequestError(no_match_message(request, [e.build for e in pool]))
        return best(matching, lambda e: e.build, self.host.arch)

    def resolve_available(self, request: str, entries: Iterable[Entry]) -> Entry:
        """The newest downloadable (or already cached) build matching ``request``, of the
        build ``UV_PYTHON_CPYTHON_BUILD`` (and its siblings) pin when one does."""
        entries = list(entries)
        pins = self.settings.build_pins

        def fetchable(e: Entry) -> bool:
            return e.available or e.cached is not None

        def pinned(e: Entry) -> bool:
            pin = pins.get(platforms.key_implementation(e.build.implementation, e.build.os))
            return pin in (None, e.build.build)

        try:
            return self.find(request, entries, want=lambda e: fetchable(e) and pinned(e))
        except RequestError:
            if pins and any(parse_request(request).matches(e.build) for e in entries):
                named = ", ".join(f"{BUILD_PINS[impl]}={pin}" for impl, pin in pins.items())
                raise RequestError(
                    f"no build matching {shown(request)} is the build {named} asks for"
                ) from None
            unverifiable = resolve(request, self.builds())  # raises, naming the nearest ones
            raise RequestError(
                f"{unverifiable.key} has no published sha256, so a download of it cannot be "
                "verified; pyshelf only fetches verifiable archives"
            ) from None

    # -- sizes ---------------------------------------------------------------------------

    def probe_download_sizes(self, entries: Iterable[Entry]) -> None:
        """HEAD the archives whose size is unknown, in the order given; skipped offline.

        Failures are remembered for a while (see ``tui.engine.archives.sizes``), and the
        HTTP client is made only if a request is needed.
        """
        if self.settings.offline:
            return
        targets = [e for e in entries if e.download_size is None and e.available]
        self.sizes.probe_many([e.build for e in targets], lambda: self.client)
        for entry in targets:
            entry.download_size = self.sizes.get(entry.build)

    def why_size_unknown(self, entry: Entry) -> str | None:
        """Why ``entry``'s download size is unknown, in a few words; None when it is known
        or no one asked yet."""
        if entry.download_size is not None:
            return None
        if not entry.available:
            return "no catalog lists this build"
        if self.settings.offline:
            return "offline: sizes come from the mirror"
        return self.sizes.why_unknown(entry.build)

    # -- actions (the job queue runs these) ------------------------------------------------

    def fetch(
        self,
        entry: Entry,
        *,
        reporter: Reporter = NULL,
        tap: Tap | None = None,
    ) -> Path:
        if entry.cached is not None and not entry.build.sha256:
            return entry.cached.path  # an archive only the cache knows: nothing to verify it by
        if not entry.build.url:
            return self._check_cached(entry, reporter, tap)
        if not self.settings.offline and not _writable(self.settings.cache_dir):
            cached = self.cache.path_for(entry.build)
            if not cached.exists():
                raise PyshelfError(
                    f"the cache {self.settings.cache_dir} is read-only for you, so {entry.key} "
                    f"cannot be fetched into it; use --cache-dir (UV_PYTHON_CACHE_DIR) with a "
                    f"folder you can write, or ask the cache's owner to fetch it"
                )
        path = self.downloader.fetch(  # offline, it says so when the archive is missing
            entry.build,
            reporter=reporter,
            expected_size=self.sizes.get(entry.build),
            tap=tap,
        )
        entry.cached = self.cache.find(entry.build)
        entry.partial_bytes = 0
        self.records.remember(entry.build, path.name)
        return path

    def _check_cached(self, entry: Entry, reporter: Reporter, tap: Tap | None) -> Path:
        """The cached archive of a build no catalog lists any more, checked against the sha256
        pyshelf recorded when it verified it: there is nowhere to download it from."""
        archive = entry.cached.path if entry.cached is not None else None
        if archive is None or tap is not None or not archive.exists():
            raise PyshelfError(
                f"{entry.key} build {entry.build.build or '(unknown)'}: no catalog lists it any "
                "more and the cache holds no archive of it that pyshelf can check, so it "
                f"cannot be installed again; `pyshelf upgrade {entry.key}` installs the "
                "build the catalog has"
            )
        from tui.engine.archives.cache import sha256_file

        reporter.set_phase(Phase.VERIFYING)
        if (got := sha256_file(archive, reporter)) != entry.build.sha256:
            raise ChecksumError(
                f"{archive}: sha256 {got}, but it was {entry.build.sha256} when pyshelf verified it"
            )
        return archive

    def unpacked_tree(self, entry: Entry) -> Path | None:
        """The unpacked copy of a verified archive, if one is kept (unchecked: ``install``
        checks it against its manifest before reusing it)."""
        sha = entry.build.sha256  # the catalog's, or the one recorded as it was verified
        return self.unpacked.get(sha) if sha else None

    def install_starts_with(self, entry: Entry) -> Phase:
        """What installing ``entry`` does first: link a kept unpacked copy (checked as it
        links; one that differs is unpacked again), else unpack the cached archive, else
        download it."""
        if self.unpacked_tree(entry) is not None and self.can_link():
            return Phase.LINKING
        if entry.cached is not None and entry.cached.path.exists():
            return Phase.EXTRACTING
        return Phase.DOWNLOADING

    def install(self, entry: Entry, *, reporter: Reporter = NULL) -> InstallResult:
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
            elif not self.can_link():
                result = self._install_from_archive(entry, sha, reporter)
                if (why := self.copies_refused()) is not None and not self._said_why_slower:
                    self._said_why_slower = True  # once per run, not once per install
                    note = f"{why}: installed straight from the archive (slower; nothing cached)"
                    result = result._replace(warnings=(*result.warnings, note))
            else:
                result = self._install_from_copy(entry, sha, reporter)
        except NotAnInterpreter as exc:
            raise self._evict_refused(entry, exc) from None
        entry.installation = result.installation
        entry.install_size = None
        entry.unpacked_size = None if sha else 0
        if sha is not None and (archive := self._archive_path(entry)) is not None:
            self.records.remember(build, archive.name)
        if replaced is not None and replaced.sha256:
            # A rebuild took the old build's place: its copy now serves no install, and goes
            # as an uninstall's would. Its archive stays, for an offline way back.
            self.unpacked.trim(self.settings.keep_unpacked, [replaced.sha256])
        return result

    def _other_build_installed(self, entry: Entry) -> Build | None:
        """The verified build installed under ``entry``'s key when it is another build than
        ``entry``'s (which replaces it); None otherwise, or when nothing says what it is."""
        inst = self.installs.get(entry.key)
        if inst is None or not inst.build or inst.build == entry.build.build:
            return None
        return self.build_of(inst)

    def build_of(self, inst: Installation) -> Build | None:
        """The verified build an install was made from, found by its key and ``BUILD``: in the
        catalog, in pyshelf's records, or in a cached archive a sealed copy vouches for."""
        same = (inst.key, inst.build)
        for build in [*self.catalog.builds, *self.records.recall_all().values()]:
            if (build.key, build.build) == same and build.sha256:
                return build
        for archive in self.cache.scan():
            orphan = _orphan_from_archive(archive)
            if orphan is None or (orphan.key, orphan.build) != same:
                continue
            if (build := self.verified_build(archive)) is not None:
                return build
        return None

    def relink(self, entry: Entry, *, reporter: Reporter = NULL) -> tuple[str, ...] | None:
        """For an install already there: repair the install dir and make sure the install has
        its links (the bin link unless the settings say no). Returns the warnings, or None
        when the install has gone meanwhile."""
        warnings = self.installs.relink(
            entry.key, link_bin=self.settings.link_bin,
            compile_bytecode=self.settings.compile_bytecode, reporter=reporter,
        )  # fmt: skip
        if warnings is None:
            entry.installation = None
        return warnings

    def can_link(self) -> bool:
        """Whether installs can be hard-linked from unpacked copies in the cache: not when the
        cache is on another filesystem (a Docker cache mount, say), nor when this user cannot
        keep copies there (see ``copies_refused``). Asked once."""
        with self._link_lock:  # jobs ask from several threads at once
            if self._can_link is None:
                self._can_link = self.copies_refused() is None and self.unpacked.can_link_into(
                    self.installs.temp_dir
                )
            return self._can_link

    def copies_refused(self) -> str | None:
        """Why this user cannot keep unpacked copies in the cache, or None when they can: a
        read-only cache (a CI volume mounted so, another user's cache), or a store of copies
        that belongs to another user of a shared cache. Installs then unpack the archive into
        the install dir, as uv does, and write nothing to the cache."""
        root = self.unpacked.root
        if not _writable(root):
            return f"the cache {self.settings.cache_dir} is read-only for you"
        me = getattr(os, "geteuid", None)
        try:
            if me is not None and os.stat(root).st_uid != me():
                return f"the unpacked copies in {root} belong to another user"
        except FileNotFoundError:
            pass  # made on first use
        return None

    def _install_from_copy(self, entry: Entry, sha: str, reporter: Reporter) -> InstallResult:
        """Install by hard links from the unpacked copy, unpacking the archive first when
        there is none. A kept copy is checked against its manifest by the pass that links
        it; one that differs is dropped and unpacked again. Only a fresh copy's interpreter
        is started: a kept one ran when it was unpacked."""
        build, link_bin = entry.build, self.settings.link_bin
        compiled = self.settings.compile_bytecode
        tree = self.unpacked.get(sha)
        problem: str | None = None
        if tree is not None:
            try:
                result = self.installs.install_from_tree(
                    tree, build, link_bin=link_bin, compile_bytecode=compiled,
                    reporter=reporter, run_check=False, clone=partial(self.unpacked.link_into, sha),
                )  # fmt: skip
            except CopyDiffers as exc:
                problem = str(exc)
                self.unpacked.remove(sha)
            except NotAnInterpreter as exc:
                self.unpacked.remove(sha)  # a copy no install can use: the next try unpacks again
                exc.archive_at_fault = False  # it ran when it was unpacked: the copy changed
                raise
            else:
                self.unpacked.touch(sha)
                return result
        elif self.unpacked.path_for(sha).exists():  # no tree inside: older layout, or damaged
            self.unpacked.remove(sha)
        tree = self._unpack(entry, sha, problem, reporter)
        try:
            result = self.installs.install_from_tree(
                tree, build, link_bin=link_bin, compile_bytecode=compiled, reporter=reporter
            )
        except NotAnInterpreter:
            self.unpacked.remove(sha)
            raise
        self.unpacked.touch(sha)
        return result

    def _install_cached_only(self, entry: Entry, reporter: Reporter) -> InstallResult:
        archive = entry.cached.path if entry.cached else self.fetch(entry, reporter=reporter)
        return self.installs.install(
            archive, entry.build, link_bin=self.settings.link_bin,
            compile_bytecode=self.settings.compile_bytecode, reporter=reporter,
        )  # fmt: skip

    def _evict_refused(self, entry: Entry, exc: NotAnInterpreter) -> NotAnInterpreter:
        """An archive whose own files were refused is not that build: it leaves the cache
        (with its partial download and unpacked copy) rather than stay there looking like a
        good cached build, and the error says so. One that could not be run stays."""
        if not exc.archive_at_fault:
            return exc
        try:
            self.evict(entry)
        except OSError:
            return exc
        return NotAnInterpreter(f"{exc}; its archive was evicted from the cache")

    def _install_from_archive(self, entry: Entry, sha: str, reporter: Reporter) -> InstallResult:
        """Install straight from the archive, as uv does: for a cache on another filesystem,
        where a kept unpacked copy could only be copied, never linked."""
        build, link_bin = entry.build, self.settings.link_bin
        compiled = self.settings.compile_bytecode

        def unpack(archive: Path) -> InstallResult:
            return self.installs.install(
                archive, build, link_bin=link_bin, reporter=reporter, sha256=sha,
                compile_bytecode=compiled,
            )  # fmt: skip

        if (result := self._from_cache(entry, reporter, unpack)) is not None:
            return result
        name = build.filename or entry.key
        fetch = self._fetch_into(entry, reporter)

        def fill(temp: Path) -> None:  # unpacked as it downloads, into the install dir
            from tui.engine.archives.extract import ResettableExtract

            ResettableExtract(name, temp).run(fetch)

        return self.installs.install_staged(
            build, fill, source=name, link_bin=link_bin, reporter=reporter,
            compile_bytecode=compiled,
        )  # fmt: skip

    def _unpack(self, entry: Entry, sha: str, problem: str | None, reporter: Reporter) -> Path:
        """A new unpacked copy of ``entry``: from the cached archive, hashed as it is read, or
        else as the download lands."""
        unpack = partial(self.unpacked.add, sha256=sha, reporter=reporter)
        if (tree := self._from_cache(entry, reporter, unpack)) is not None:
            return tree
        if self.settings.offline and problem is not None:
            raise PyshelfError(
                f"the unpacked copy of {entry.key} differed from its archive ({problem}) and "
                f"was dropped, and the archive is not in the cache; run `pyshelf fetch "
                f"{entry.key}` online, then reinstall"
            )
        name = entry.build.filename or entry.key
        return self.unpacked.add_stream(sha, name, self._fetch_into(entry, reporter))

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
            entry.cached = None
            return None

    def _archive_path(self, entry: Entry) -> Path | None:
        """Where ``entry``'s archive is cached: its URL names it; one no catalog lists any
        more is where the cache listing found it."""
        if entry.build.url and entry.build.sha256:
            return self.cache.path_for(entry.build)
        return entry.cached.path if entry.cached is not None else None

    def _fetch_into(self, entry: Entry, reporter: Reporter) -> Callable[[Tap], None]:
        """What an unpack that runs alongside the download calls: fetch ``entry`` into a tap."""
        reporter.set_phase(Phase.DOWNLOADING)

        def fetch(tap: Tap) -> None:
            self.fetch(entry, reporter=reporter, tap=tap)
            reporter.set_phase(Phase.EXTRACTING)  # the last bytes may still be unpacking

        return fetch

    def reinstall_losses(self, entry: Entry) -> Losses:
        """What reinstalling ``entry`` would discard from its install (nothing: no question)."""
        from tui.engine.installs.losses import Losses, reinstall_losses  # asked on r only

        if entry.installation is None:
            return Losses()
        sha = entry.build.sha256
        copy = self.unpacked.get(sha) if sha else None
        manifest = self.unpacked.manifest(sha, full=False) if sha and copy else None
        return reinstall_losses(entry.installation.path, copy, manifest)

    def uninstall(self, entry: Entry, *, reporter: Reporter = NULL) -> int:
        """Remove the install, and its unpacked copy unless hot copies are kept (see
        ``Settings.keep_unpacked``); returns the bytes that really came free on disk."""
        if entry.installation is None:
            raise RequestError(f"{entry.key} is not installed")
        freed = self.installs.uninstall(entry.key, reporter=reporter)
        entry.installation = None
        entry.install_size = None
        going = self.unpacked_going(entry)
        freed += self.unpacked.trim(self.settings.keep_unpacked, going)
        entry.unpacked_size = None if self.unpacked_going(entry) else 0  # kept hot: measure it
        return freed

    def unpacked_going(self, entry: Entry) -> list[str]:
        """The unpacked copy an uninstall of ``entry`` leaves without an install."""
        sha = entry.build.sha256
        return [sha] if sha and self.unpacked.get(sha) else []

    def evict(self, entry: Entry) -> int:
        freed = 0
        sha = entry.build.sha256
        if entry.build.url and sha:
            freed = self.cache.evict(entry.build)  # the archive and a partial download
        elif entry.cached is not None:
            freed = entry.cached.size
            entry.cached.path.unlink(missing_ok=True)
        if sha:
            freed += self.unpacked.remove(sha)
        entry.cached = None
        entry.partial_bytes = 0
        entry.unpacked_size = 0
        return freed

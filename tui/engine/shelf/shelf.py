"""The shelf: one view over the catalog, the archive cache and the installed interpreters."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from tui.engine import platforms
from tui.engine.archives.cache import ArchiveCache
from tui.engine.archives.catalog import Catalog, is_url, load_catalog
from tui.engine.archives.sizes import RemoteSizes
from tui.engine.archives.sources import Sources
from tui.engine.builds import Build
from tui.engine.errors import ChecksumError, PyshelfError, RequestError, shown
from tui.engine.host import Host, current_host
from tui.engine.installs.installation import InstallResult
from tui.engine.installs.installdir import InstallDir
from tui.engine.installs.records import BuildRecords
from tui.engine.installs.unpacked import UnpackedStore
from tui.engine.progress import NULL, Phase, Reporter
from tui.engine.requests.resolve import best, no_match_message, parse_request, resolve
from tui.engine.settings import BUILD_PINS, Settings
from tui.engine.shelf.entry import Entry
from tui.engine.shelf.installing import Installer
from tui.engine.shelf.provenance import Provenance
from tui.engine.shelf.rows import list_entries, refreshed

# The download, extraction and HTTP modules load only when a job needs them: a reinstall
# from an unpacked copy, or a listing, never reads an archive (tests/test_startup.py).
if TYPE_CHECKING:
    from concurrent.futures import Future

    import httpx

    from tui.engine.archives.download import Downloader, Tap
    from tui.engine.archives.wire import Wire
    from tui.engine.installs.losses import Losses


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
        self._given_client = client is not None
        self._wire: Wire | None = None
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
        self.provenance = Provenance(
            self.records, self.unpacked, self.cache, lambda: self.catalog.builds
        )
        self._catalog: Catalog | None = None
        self._can_link: bool | None = None
        self._installer = Installer(self)
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
    def wire(self) -> Wire:
        """Archive downloads straight over ``http.client`` (no proxy), made on first use."""
        with self._client_lock:
            if self._wire is None:
                from tui.engine.archives.wire import Wire

                s = self.settings
                self._wire = Wire(s.read_timeout, s.connect_timeout, token_urls=self.token_urls())
            return self._wire

    @property
    def downloader(self) -> Downloader:
        """Fetches archives into the cache; made on first use."""
        with self._downloader_lock:
            if self._downloader is None:
                from tui.engine.archives.download import Downloader, DownloadPolicy
                from tui.engine.archives.http import direct_or_proxied, httpx_stream

                s = self.settings
                policy = DownloadPolicy(retries=s.retries, max_bytes=s.max_download)
                # A client given to the shelf carries every request, downloads too.
                stream = (
                    httpx_stream(lambda: self.client)
                    if self._given_client
                    else direct_or_proxied(lambda: self.client, lambda: self.wire)
                )
                self._downloader = Downloader(
                    self.cache, stream, offline=s.offline, policy=policy, sources=self.sources.urls
                )
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
        return list_entries(self, all_platforms=all_platforms)

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

    def probe_download_sizes(self, entries: Iterable[Entry]) -> list[Entry]:
        """HEAD the archives whose size is unknown, in the order given; skipped offline.
        Returns the entries, each one whose size came in replaced by a new row with it.

        Failures are remembered for a while (see ``tui.engine.archives.sizes``), and the
        HTTP client is made only if a request is needed.
        """
        entries = list(entries)
        if self.settings.offline:
            return entries
        targets = [e for e in entries if e.download_size is None and e.available]
        self.sizes.probe_many([e.build for e in targets], lambda: self.client)
        return [
            e._replace(download_size=self.sizes.get(e.build)) if e.download_size is None else e
            for e in entries
        ]

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
        """Install (or reinstall over) ``entry``, fetching it first if the cache lacks it
        (see ``Installer.install``). ``entry`` is left as it was: ``refreshed`` makes its
        new row."""
        return self._installer.install(entry, reporter)

    def relink(self, entry: Entry, *, reporter: Reporter = NULL) -> tuple[str, ...] | None:
        """For an install already there: repair the install dir and make sure the install has
        its links (the bin link unless the settings say no). Returns the warnings, or None
        when the install has gone meanwhile."""
        warnings = self.installs.relink(
            entry.key, link_bin=self.settings.link_bin,
            compile_bytecode=self.settings.compile_bytecode, reporter=reporter,
        )  # fmt: skip
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
        going = self.unpacked_going(entry)
        return freed + self.unpacked.trim(self.settings.keep_unpacked, going)

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
        return freed

    def refreshed(self, entry: Entry) -> Entry:
        """``entry``'s new row once a job changed it (see ``rows.refreshed``); ``entry``
        itself is never changed."""
        return refreshed(self, entry)

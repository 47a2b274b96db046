"""Verified, resumable downloads into the archive cache.

Bytes stream to a partial file beside the cache and are hashed as they arrive; the archive is
renamed into place only when its sha256 matches. A partial file survives any interruption
(network drop, Ctrl-C, kill -9) and the next attempt resumes it with an HTTP Range request.

A ``Tap`` (an extraction running alongside) gets the same bytes in order from the first, also
those of a resumed partial file or of an archive already cached, so an install reads nothing
twice; when bytes it had turn out void (the server restarted the file, a cached copy failed
its check), the fetch resets it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from tui.engine.archives.cache import HASH_CHUNK, ArchiveCache, holds_archive, sha256_file
from tui.engine.archives.http import Failure, Refusal, Stream
from tui.engine.archives.partial import hash_existing, open_partial, partial_size, replay
from tui.engine.archives.pump import TooLarge, pump
from tui.engine.archives.resume import range_start, read_validator, total_size, write_validator
from tui.engine.builds import Build
from tui.engine.errors import Cancelled, ChecksumError, DownloadError, OfflineError
from tui.engine.fsutil import open_lock, open_regular
from tui.engine.platform import locks
from tui.engine.platform.paths import file_url_path
from tui.engine.progress import NULL, Phase, Reporter
from tui.engine.redact import redact_url
from tui.format import human_size

_LOCK_POLL = 0.25
_TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}


class _Transient(Exception):
    """A failure worth retrying: the partial file is kept and resumed."""

    def __init__(self, message: str, *, connect: bool = False) -> None:
        super().__init__(message)
        self.connect = connect  # the server could not be reached at all


# A server that cannot be reached at all twice in a row means no network: say so quickly.
CONNECT_RETRIES = 2


class _Refused(Exception):
    """The server answered, but not with the archive (HTTP 404, 403, ...): not retried, but
    the next source is asked, as uv asks GitHub when Astral's mirror fails."""


DEFAULT_MAX_DOWNLOAD = 2 << 30  # the largest python-build-standalone archive is ~120 MB


class DownloadPolicy:
    """How hard a download tries (a plain class: an install need not load dataclasses)."""

    __slots__ = ("backoff", "max_bytes", "retries")

    def __init__(
        self, retries: int = 6, backoff: float = 0.5, max_bytes: int = DEFAULT_MAX_DOWNLOAD
    ) -> None:
        self.retries = retries  # consecutive failures without progress before giving up
        self.backoff = backoff  # first retry delay, doubled each time, capped at 30 s
        self.max_bytes = max_bytes  # when no size is known: an endless body stops here


class Tap(Protocol):
    """Where a fetch also sends the archive's bytes, in order from the first."""

    @property
    def offset(self) -> int:
        """How many bytes it has had."""
        ...

    def feed(self, chunk: bytes) -> None: ...

    def reset(self) -> None:
        """The bytes it had are void: the next one fed is the archive's first again."""
        ...


class Downloader:
    def __init__(
        self,
        cache: ArchiveCache,
        stream: Stream,  # how a URL is asked (``tui.engine.archives.http``)
        *,
        offline: bool = False,
        policy: DownloadPolicy | None = None,
        sources: Callable[[Build], Sequence[str]] | None = None,
    ) -> None:
        self.cache = cache
        self._stream = stream
        # The URLs to ask for a build, in order: the next is asked as soon as one fails.
        self.sources = sources or (lambda build: (build.url,) if build.url else ())
        self.verified: set[str] = set()  # digests this process checked, downloaded or cached
        self.offline = offline
        self.policy = policy or DownloadPolicy()

    def fetch(
        self,
        build: Build,
        *,
        reporter: Reporter = NULL,
        expected_size: int | None = None,
        tap: Tap | None = None,
    ) -> Path:
        """Return the verified archive for ``build``, downloading or resuming it if needed.

        ``reporter`` hears the bytes downloaded, and VERIFYING as hashing a whole file starts.
        No more than ``expected_size`` bytes (when known, else the policy's cap) are written.
        ``tap``, when given, gets every byte of the archive that is returned, in order.
        """
        if not build.url or not build.sha256:
            raise DownloadError(
                f"{build.key} has no published sha256; pyshelf only caches verified archives"
            )
        dest = self.cache.path_for(build)
        if self._verified(dest, build, reporter, tap):
            return dest
        if self.offline:
            raise OfflineError(f"{build.key} is not in the cache and pyshelf is offline")
        partial = self.cache.partial_for(build)
        self.cache.make_partial_dir()

        def waiting() -> None:  # another pyshelf is downloading the same archive
            reporter.check("cancelled while waiting for another download")
            # Its bytes land in the same partial file: show them, not a frozen line.
            reporter.progress(partial_size(partial), expected_size)

        with _download_lock(Path(f"{partial}.lock"), waiting):
            if self._verified(dest, build, reporter, tap):
                return dest
            limit = min(expected_size or self.policy.max_bytes, self.policy.max_bytes)
            self._download(build, partial, reporter, limit, tap)
            reporter.set_phase(Phase.VERIFYING)
            os.replace(partial, dest)
            self.verified.add(build.sha256)
            partial.with_suffix(".json").unlink(missing_ok=True)
            return dest

    def _verified(
        self,
        dest: Path,
        build: Build,
        reporter: Reporter,
        tap: Tap | None = None,
    ) -> bool:
        """A cached archive is checked, never trusted blindly; a bad one is removed. A link or
        a special file in its place is refused (NotOurFile), never followed."""
        if not holds_archive(dest):
            return False
        reporter.set_phase(Phase.VERIFYING)
        if tap is None:
            digest = sha256_file(dest, reporter)
        else:
            running = hashlib.sha256()
            with contextlib.suppress(FileNotFoundError):  # gone meanwhile: download it
                hash_existing(dest, running, tap, reporter)
            digest = running.hexdigest()
        if digest == build.sha256:
            self.verified.add(build.sha256)
            return True
        dest.unlink(missing_ok=True)
        if tap is not None:
            tap.reset()
        return False

    def _download(
        self,
        build: Build,
        partial: Path,
        reporter: Reporter,
        limit: int,
        tap: Tap | None,
    ) -> None:
        """Ask each source in turn, as uv does: a failure moves on to the next at once; when
        the last fails too, a transient failure waits and starts again from the first."""
        assert build.url and build.sha256
        urls = list(self.sources(build)) or [build.url]
        failures = 0
        # Bytes kept from an earlier run may be damaged (a crash can leave zeros at the end of
        # a file): if such a download does not verify, it gets one clean start of its own.
        suspect = partial_size(partial) > 0
        while True:
            before = partial_size(partial)
            try:
                url, digest = self._first_answer(urls, partial, reporter, limit, tap)
            except _Transient as exc:
                after = partial_size(partial)
                failures = 0 if after > before else failures + 1
                hosts = ", ".join(dict.fromkeys(urlsplit(redact_url(u)).netloc for u in urls))
                if exc.connect and failures >= CONNECT_RETRIES:
                    raise DownloadError(
                        f"cannot reach {hosts} ({exc}); check the network, "
                        "or use --offline to work from the cache"
                    ) from None
                if failures > self.policy.retries:
                    raise DownloadError(
                        f"download of {redact_url(urls[-1])} failed: {exc}"
                    ) from None
                delay = min(30.0, self.policy.backoff * 2 ** max(0, failures - 1))
                if reporter.wait(delay):
                    raise Cancelled("download cancelled") from None
                continue
            if digest != build.sha256:
                partial.unlink(missing_ok=True)
                partial.with_suffix(".json").unlink(missing_ok=True)
                if suspect:
                    suspect = False
                    continue
                raise ChecksumError(
                    f"checksum mismatch for {redact_url(url)}: expected sha256 {build.sha256}, "
                    f"got {digest}; the partial download was deleted"
                )
            return

    def _first_answer(
        self, urls: list[str], partial: Path, reporter: Reporter, limit: int, tap: Tap | None
    ) -> tuple[str, str]:
        """One round over the sources: the first that sends the whole archive, and its
        digest. Raises the last one's failure (a refusal as a :class:`DownloadError`)."""
        for index, url in enumerate(urls):
            last = index == len(urls) - 1
            try:
                return url, self._attempt(url, partial, reporter, limit, tap)
            except TooLarge:
                # Never kept for a resume: the bytes so far are the start of something wrong.
                partial.unlink(missing_ok=True)
                partial.with_suffix(".json").unlink(missing_ok=True)
                raise DownloadError(
                    f"{redact_url(url)} sent more than {human_size(limit)}, more than the "
                    "archive can be; the partial download was deleted (check the mirror)"
                ) from None
            except _Refused as exc:
                if last:
                    raise DownloadError(str(exc)) from None
            except _Transient:
                if last:
                    raise
        raise AssertionError("no source to ask")  # urls is never empty

    def _attempt(
        self,
        url: str,
        partial: Path,
        reporter: Reporter,
        limit: int,
        tap: Tap | None,
    ) -> str:
        """One request: resume from the partial file, stream, hash. Returns the hex digest."""
        if urlsplit(url).scheme == "file":
            source = file_url_path(url)
            return self._copy_local(source, partial, reporter, limit, tap)
        digest = hashlib.sha256()
        offset = replay(partial, digest, tap)
        if offset > limit:
            raise TooLarge
        meta_path = partial.with_suffix(".json")
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            validator = read_validator(meta_path)
            if validator:
                # If the file changed on the server, If-Range makes it send the whole new file.
                headers["If-Range"] = validator
        try:
            with self._stream(url, headers) as response:
                status = response.status_code
                if status == 416 and offset:
                    partial.unlink(missing_ok=True)  # our partial is longer than the file
                    raise _Transient("server rejected the resume range; restarting")
                if status in _TRANSIENT_STATUS:
                    raise _Transient(f"HTTP {status}")
                if status not in (200, 206):
                    raise _Refused(f"download of {redact_url(url)} failed: HTTP {status}")
                total = total_size(response, offset)
                if total is not None and total > limit:
                    raise TooLarge
                mode = "ab"
                if status == 206:
                    start = range_start(response)
                    if start != offset:
                        raise _Transient(f"server resumed at byte {start}, not {offset}")
                else:
                    # The server ignored Range (or the file changed): start over cleanly.
                    mode, offset, digest = "wb", 0, hashlib.sha256()
                    if tap is not None and tap.offset:
                        tap.reset()
                write_validator(meta_path, response)
                with open_partial(partial, restart=mode == "wb") as handle:
                    # No chunk size: a re-chunking buffer would lose its bytes on a drop.
                    chunks = response.iter_raw()
                    done = pump(chunks, handle, digest, offset, total, reporter, limit, tap)
                if total is not None and done < total:
                    raise _Transient(f"connection closed after {done} of {total} bytes")
        except Failure as exc:
            raise _Transient(str(exc), connect=exc.connect) from None
        except Refusal as exc:
            raise _Refused(f"download of {redact_url(url)} failed: {exc}") from None
        return digest.hexdigest()

    def _copy_local(
        self,
        source: Path,
        partial: Path,
        reporter: Reporter,
        limit: int,
        tap: Tap | None,
    ) -> str:
        """A file:// mirror: copy with hashing, resuming like HTTP does."""
        try:
            src = open_regular(source)
        except OSError as exc:
            raise DownloadError(f"cannot read {source}: {exc.strerror or exc}") from None
        if src is None:  # /dev/zero, a fifo: no archive, maybe endless
            raise DownloadError(f"{source} is not a regular file; check the mirror")
        with src:
            total = os.fstat(src.fileno()).st_size
            if total > limit:
                raise TooLarge
            digest = hashlib.sha256()
            offset = replay(partial, digest, tap)
            if offset > total:
                partial.unlink()
                offset, digest = 0, hashlib.sha256()
                if tap is not None:
                    tap.reset()
            with open_partial(partial) as dst:
                src.seek(offset)
                chunks = iter(lambda: src.read(HASH_CHUNK), b"")
                pump(chunks, dst, digest, offset, total, reporter, limit, tap)
        return digest.hexdigest()


@contextlib.contextmanager
def _download_lock(path: Path, waiting: Callable[[], None]) -> Iterator[None]:
    """Hold the exclusive lock on ``path`` (flock, or LockFileEx on Windows): one process
    downloads an archive while others wait, calling ``waiting`` every quarter second (it may
    raise, to give up). The system drops the lock with its holder, even one killed with -9.
    (filelock does the same flock, and its import cost about 19 ms of every first install.)"""
    fd = open_lock(path)  # 0666 as uv's, so a shared cache's users all take it
    try:
        while not locks.try_lock(fd):
            waiting()
            time.sleep(_LOCK_POLL)
        yield
    finally:
        os.close(fd)  # closing drops the lock

"""Download sizes learned with HTTP HEAD, remembered on disk: published archives never change.

Sizes are keyed by the archive's sha256, never by its URL: a URL may carry credentials, and
the same archive has the same size on every mirror.

Failures are remembered too, for an hour (``probe-failures.json``): an archive a server does
not size (a 404 on a mirror that lacks it) by a hash of its URL, and a host that does not
answer (a name that does not resolve, a refused connection, a timeout) by its name. A listing
run again within the hour asks neither again, and in one run a host that failed once is not
asked for its other archives. Probes are short and a few at a time; each host gets one probe
first, and the rest of its archives only once it has answered.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from tui.engine.builds import Build
from tui.engine.fsutil import atomic_write_bytes, own_dir, read_owned
from tui.engine.platform.paths import file_url_path

if TYPE_CHECKING:
    from concurrent.futures import Future

    import httpx

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
PROBE_CONNECT = 1.5  # seconds to connect: a size is a nicety, never worth holding up a listing
PROBE_READ = 1.5  # seconds for the answer
PROBES_AT_ONCE = 4
FAILURE_TTL = 3600.0  # seconds a failure is remembered
NOT_ANSWERING = "host not answering"  # the one reason worth asking again later
_MAX_FAILURES = 20_000  # a file larger than this many entries is not one pyshelf wrote
_MAX_FILE = 16 << 20  # either file; pyshelf renames them into place, never a link


def _keep(path: Path, data: bytes) -> None:
    """Save a state file in ``.pyshelf/``; a read-only cache, or a link planted in place of
    that folder (never written through), only forgets."""
    with contextlib.suppress(OSError):
        own_dir(path.parent)
        atomic_write_bytes(path, data, private=True)


def host_of(url: str) -> str:
    """``host`` or ``host:port``: what a failure to answer is remembered by (no user info)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


def _url_key(url: str) -> str:
    # A hash, not the URL: a URL may carry credentials, and this file is not a secret store.
    return hashlib.sha256(url.encode()).hexdigest()


class ProbeFailures:
    """Archives that have no size to give and hosts that do not answer, each until it expires."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self._lock = threading.Lock()
        self._dirty = False
        try:
            saved = json.loads(read_owned(path, _MAX_FILE) or b"{}")
        except (OSError, ValueError, RecursionError):
            saved = {}
        if not isinstance(saved, dict):
            saved = {}
        now = clock()
        self._urls = self._valid(saved.get("urls"), now)
        self._hosts = self._valid(saved.get("hosts"), now)

    @staticmethod
    def _valid(table: object, now: float) -> dict[str, float]:
        if not isinstance(table, dict) or len(table) > _MAX_FAILURES:
            return {}
        # Only pairs this module writes, still in force and not set in the far future.
        return {
            k: float(v)
            for k, v in table.items()
            if isinstance(k, str) and len(k) <= 300 and type(v) in (int, float)
            and now < v <= now + FAILURE_TTL
        }  # fmt: skip

    def url_failed(self, url: str) -> bool:
        with self._lock:
            return self._live(self._urls, _url_key(url))

    def host_failed(self, url: str) -> bool:
        with self._lock:
            return self._live(self._hosts, host_of(url))

    def _live(self, table: dict[str, float], key: str) -> bool:
        until = table.get(key)
        if until is None:
            return False
        if until > self.clock():
            return True
        del table[key]
        self._dirty = True
        return False

    def fail_url(self, url: str) -> None:
        with self._lock:
            self._urls[_url_key(url)] = self.clock() + FAILURE_TTL
            self._dirty = True

    def forget_hosts(self) -> None:
        """Ask every host again (the app does, now and then, to see the network return)."""
        with self._lock:
            if self._hosts:
                self._hosts.clear()
                self._dirty = True

    def fail_host(self, url: str) -> None:
        with self._lock:
            self._hosts[host_of(url)] = self.clock() + FAILURE_TTL
            self._dirty = True

    def save(self) -> None:
        """Write the file if anything changed (atomically; a read-only cache only forgets)."""
        with self._lock:
            if not self._dirty:
                return
            data = json.dumps({"urls": self._urls, "hosts": self._hosts}, sort_keys=True)
            self._dirty = False
        _keep(self.path, data.encode())


class RemoteSizes:
    def __init__(self, path: Path, failures: ProbeFailures | None = None) -> None:
        self.path = path
        self.failures = failures or ProbeFailures(path.with_name("probe-failures.json"))
        # Where a build is asked for its size: the first place it would be downloaded from.
        self.url_of: Callable[[Build], str | None] = lambda build: build.url
        self._lock = threading.Lock()
        self._why: dict[str, str] = {}  # sha256 -> why the last probe learned no size
        try:
            saved = json.loads(read_owned(path, _MAX_FILE) or b"{}")
        except (OSError, ValueError, RecursionError):
            saved = {}  # none, or not this user's: a size another planted could cap a download
        # Only well-formed pairs: an older file keyed by URL (or a damaged one) is dropped.
        self._sizes: dict[str, int] = {
            k: v
            for k, v in (saved.items() if isinstance(saved, dict) else ())
            if isinstance(k, str) and _SHA256.match(k) and type(v) is int and v >= 0
        }

    def get(self, build: Build) -> int | None:
        if not build.sha256:
            return None
        with self._lock:
            return self._sizes.get(build.sha256)

    def why_unknown(self, build: Build) -> str | None:
        """Why no size is known for ``build`` ("the mirror answered HTTP 404", "host not
        answering: …"), from this run's probe or a failure remembered from an earlier one;
        None when it was never asked or its size is known."""
        with self._lock:
            why = self._why.get(build.sha256 or "")
        url = self.url_of(build)
        if why is None and url and self.get(build) is None:
            if self.failures.host_failed(url):
                why = f"{NOT_ANSWERING} (remembered for up to an hour)"
            elif self.failures.url_failed(url):
                why = "the mirror gave no size for it (remembered for up to an hour)"
        return why

    def unreachable(self, build: Build) -> bool:
        """Whether no host answered for ``build`` (worth asking again later)."""
        return (self.why_unknown(build) or "").startswith(NOT_ANSWERING)

    def _failed(self, build: Build, why: str) -> None:
        with self._lock:
            self._why[build.sha256 or ""] = why

    def remember(self, build: Build, size: int) -> None:
        if not build.sha256:
            return
        with self._lock:
            if self._sizes.get(build.sha256) == size:
                return
            self._sizes[build.sha256] = size
            self._save()

    def _save(self) -> None:
        # A read-only cache still works; sizes are simply learned again.
        data = json.dumps(self._sizes, sort_keys=True).encode()
        _keep(self.path, data)

    def worth_asking(self, build: Build) -> bool:
        """Whether a probe could learn something: no size known, no failure remembered."""
        url = self.url_of(build)
        if not url or not build.sha256 or self.get(build) is not None:
            return False
        if urlsplit(url).scheme == "file":
            return True
        return not (self.failures.url_failed(url) or self.failures.host_failed(url))

    def probe(self, build: Build, client: Callable[[], httpx.Client]) -> int | None:
        """Learn one size; ``None`` when the server does not say (never a guess).

        ``client`` is called only when a request is made: a listing whose sizes are all known
        or remembered as failed never loads the HTTP client.
        """
        if (known := self.get(build)) is not None:
            return known
        if not self.worth_asking(build):
            return None
        url = self.url_of(build)
        assert url is not None
        parts = urlsplit(url)
        size: int | None
        if parts.scheme == "file":
            try:
                size = file_url_path(url).stat().st_size
            except OSError as exc:
                self._failed(build, f"cannot read it ({exc.strerror or type(exc).__name__})")
                return None
        else:
            size = self._head(build, url, client)
            if size is None:
                return None
        with self._lock:
            self._why.pop(build.sha256 or "", None)
        self.remember(build, size)
        return size

    def _head(self, build: Build, url: str, client: Callable[[], httpx.Client]) -> int | None:
        import httpx

        try:
            response = client().head(
                url,
                headers={"Accept-Encoding": "identity"},
                timeout=httpx.Timeout(PROBE_READ, connect=PROBE_CONNECT),
            )
        except httpx.TransportError as exc:  # no name, no connection, no answer in time
            self.failures.fail_host(url)
            self._failed(build, f"{NOT_ANSWERING} ({type(exc).__name__})")
            return None
        except httpx.HTTPError as exc:  # too many redirects, a malformed answer
            self.failures.fail_url(url)
            self._failed(build, f"the mirror's answer was unusable ({type(exc).__name__})")
            return None
        length = response.headers.get("content-length", "")
        if response.status_code != 200:
            self.failures.fail_url(url)  # a 404 on a mirror
            self._failed(build, f"the mirror answered HTTP {response.status_code}")
            return None
        if not length.isdigit() or len(length) > 15:  # a hostile length is no size either
            self.failures.fail_url(url)
            self._failed(build, "the mirror gave no usable length")
            return None
        return int(length)

    def probe_many(
        self,
        builds: Iterable[Build],
        client: Callable[[], httpx.Client],
        workers: int = PROBES_AT_ONCE,
    ) -> None:
        """Probe ``builds`` in their order, a few at a time; each host's first probe goes
        alone, and its other archives follow only if it answered."""
        todo: dict[str, list[Build]] = {}  # by host, in the order given
        for build in builds:
            if self.worth_asking(build) and (url := self.url_of(build)):
                todo.setdefault(host_of(url), []).append(build)
        if not todo:
            return
        from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

        try:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                running: dict[Future[int | None], str] = {
                    pool.submit(self.probe, queue.pop(0), client): host
                    for host, queue in todo.items()
                }
                while running:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        host = running.pop(future)
                        future.result()
                        queue = todo[host]
                        if queue and not self.failures.host_failed(self.url_of(queue[0]) or ""):
                            for build in queue:
                                running[pool.submit(self.probe, build, client)] = host
                        queue.clear()
        finally:
            self.failures.save()

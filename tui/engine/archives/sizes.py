"""Download sizes learned with HTTP HEAD, remembered on disk: published archives never change.

Sizes are keyed by the archive's sha256, never by its URL: a URL may carry credentials, and
the same archive has the same size on every mirror.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from tui.engine.builds import Build
from tui.engine.fsutil import atomic_write_bytes

if TYPE_CHECKING:
    import httpx

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
NOT_ANSWERING = "host not answering"  # the one reason worth asking again later


class RemoteSizes:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._why: dict[str, str] = {}  # sha256 -> why the last probe learned no size
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError, RecursionError):
            saved = {}
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
        """Why the last probe of ``build`` learned no size ("mirror answered HTTP 404",
        "host not answering: …"); None when it was never probed or its size is known."""
        with self._lock:
            return self._why.get(build.sha256 or "")

    def unreachable(self, build: Build) -> bool:
        """Whether the last probe of ``build`` found no host answering (worth a retry)."""
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
        with contextlib.suppress(OSError):
            atomic_write_bytes(self.path, data, private=True)

    def probe(self, build: Build, client: httpx.Client) -> int | None:
        """Learn one size; ``None`` when the server does not say (never a guess)."""
        if not build.url:
            return None
        if (known := self.get(build)) is not None:
            return known
        import httpx

        parts = urlsplit(build.url)
        try:
            if parts.scheme == "file":
                size = Path(unquote(parts.path)).stat().st_size
            else:
                # Short: a size is a nicety, never worth holding up a listing.
                response = client.head(
                    build.url, headers={"Accept-Encoding": "identity"}, timeout=5.0
                )
                length = response.headers.get("content-length", "")
                if response.status_code != 200:
                    self._failed(build, f"the mirror answered HTTP {response.status_code}")
                    return None
                # A hostile length (thousands of digits) is no size either.
                if not length.isdigit() or len(length) > 15:
                    self._failed(build, "the mirror gave no usable length")
                    return None
                size = int(length)
        except httpx.HTTPError as exc:
            self._failed(build, f"{NOT_ANSWERING} ({type(exc).__name__})")
            return None
        except OSError as exc:
            self._failed(build, f"cannot read it ({exc.strerror or type(exc).__name__})")
            return None
        with self._lock:
            self._why.pop(build.sha256 or "", None)
        self.remember(build, size)
        return size

    def probe_many(self, builds: list[Build], client: httpx.Client, workers: int = 8) -> None:
        missing = [b for b in builds if b.url and b.sha256 and self.get(b) is None]
        if not missing:
            return
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda b: self.probe(b, client), missing))

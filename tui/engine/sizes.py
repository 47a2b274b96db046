"""Download sizes learned with HTTP HEAD, remembered on disk: published archives never change."""

from __future__ import annotations

import contextlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from tui.engine.builds import Build
from tui.engine.fsutil import atomic_write_bytes

if TYPE_CHECKING:
    import httpx


class RemoteSizes:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            self._sizes: dict[str, int] = json.loads(path.read_text())
        except (OSError, ValueError):
            self._sizes = {}

    def get(self, build: Build) -> int | None:
        if not build.url:
            return None
        with self._lock:
            return self._sizes.get(build.url)

    def remember(self, build: Build, size: int) -> None:
        if not build.url:
            return
        with self._lock:
            if self._sizes.get(build.url) == size:
                return
            self._sizes[build.url] = size
            self._save()

    def _save(self) -> None:
        # A read-only cache still works; sizes are simply learned again.
        with contextlib.suppress(OSError):
            atomic_write_bytes(self.path, json.dumps(self._sizes, sort_keys=True).encode())

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
                if response.status_code != 200 or not length.isdigit():
                    return None
                size = int(length)
        except (httpx.HTTPError, OSError):
            return None
        self.remember(build, size)
        return size

    def probe_many(self, builds: list[Build], client: httpx.Client, workers: int = 8) -> None:
        missing = [b for b in builds if b.url and self.get(b) is None]
        if not missing:
            return
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda b: self.probe(b, client), missing))

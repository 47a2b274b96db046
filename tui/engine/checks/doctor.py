"""Check the connection: is each source pyshelf would use answering, and how fast?

Every URL shown is redacted; nothing is downloaded beyond a HEAD (or a catalog GET).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from tui.engine.archives.http import TOKEN_ENV, show_origin, token_origins
from tui.engine.archives.sources import ASTRAL_MIRROR
from tui.engine.builds import Build
from tui.engine.errors import PyshelfError, describe_error
from tui.engine.platform.paths import file_url_path
from tui.engine.redact import redact_url
from tui.engine.shelf import Shelf

PROBE_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Check:
    what: str  # "catalog", "mirror", "pypy mirror", "proxy", ...
    target: str  # redacted
    ok: bool
    detail: str  # "HTTP 200 in 42 ms", "unreachable: ...", "used for https"
    ms: float | None = None


def _head(shelf: Shelf, url: str) -> tuple[bool, str, float]:
    if urlsplit(url).scheme == "file":
        path = file_url_path(url)
        return path.exists(), "found" if path.exists() else "missing", 0.0
    import httpx

    start = time.perf_counter()
    try:
        response = shelf.client.head(url, timeout=PROBE_TIMEOUT)
    except httpx.HTTPError as exc:
        ms = (time.perf_counter() - start) * 1000
        return False, f"no answer: {describe_error(exc) or type(exc).__name__}", ms
    ms = (time.perf_counter() - start) * 1000
    return response.status_code < 400, f"HTTP {response.status_code} in {ms:.0f} ms", ms


def run_checks(shelf: Shelf) -> Iterator[Check]:
    """The checks, one at a time, so a caller can show each as it comes."""
    s = shelf.settings
    if s.offline:
        yield Check("network", "offline", True, "offline: nothing is checked over the network")
    start = time.perf_counter()
    try:
        catalog = shelf.catalog
    except PyshelfError as exc:
        yield Check("catalog", redact_url(s.catalog or "built-in"), False, describe_error(exc))
        return
    ms = (time.perf_counter() - start) * 1000
    count, warnings = len(catalog.builds), len(catalog.warnings)
    detail = f"{count} build{'' if count == 1 else 's'} in {ms:.0f} ms"
    if warnings:
        detail += f"; {warnings} warning{'' if warnings == 1 else 's'}: {catalog.warnings[0]}"
    yield Check("catalog", catalog.source, True, detail, ms)
    here = [b for b in shelf.builds() if b.url and b.sha256]
    sources = shelf.sources
    yield Check("cpython source", sources.describe(), True, "where CPython archives come from")
    for impl, mirror in (("cpython", s.python_mirror or s.astral_mirror), ("pypy", s.pypy_mirror)):
        builds = [b for b in here if b.implementation == impl]
        sample = max(builds, key=Build.sort_key, default=None)
        if sample is None:
            continue
        for n, url in enumerate(sources.urls(sample)):  # each, in the order they are asked
            mirrored = bool(mirror and url.startswith(mirror.rstrip("/"))) or (
                impl == "cpython" and url.startswith(ASTRAL_MIRROR))  # fmt: skip
            what = f"{impl} mirror" if mirrored else f"{impl} archives"
            what += " (fallback)" if n else ""
            parts = urlsplit(url)
            source = redact_url(f"{parts.scheme}://{parts.netloc}/") if parts.netloc else "file://"
            if s.offline:
                yield Check(what, source, True, "not checked: offline")
                continue
            ok, detail, ms = _head(shelf, url)
            yield Check(what, source, ok, f"{sample.filename}: {detail}", ms)
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        value = os.environ.get(name) or os.environ.get(name.lower())
        if value:
            yield Check("proxy", name, True, redact_url(value))
    certs = os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR")
    yield Check("certificates", certs or "system store", True, "used for https")
    from tui.engine.checks.writers import shared_places

    for place in shared_places(s):
        detail = f"writable by {place.who}: they can delete or swap files there; " + (
            "archives are checked by sha256 and unpacked copies by this user's seal before use"
        )
        yield Check("shared folder", str(place.path), place.shared, detail)
    if os.environ.get(TOKEN_ENV):
        origins = ", ".join(sorted(map(show_origin, token_origins(shelf.token_urls()))))
        yield Check("token", TOKEN_ENV, True, f"sent to {origins or 'no mirror: not sent'}")

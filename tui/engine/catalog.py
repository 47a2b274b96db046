"""The catalog of available builds: pbs-installer's shipped index, or a uv-format JSON."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tui.engine import names
from tui.engine.builds import Build
from tui.engine.errors import CatalogError
from tui.engine.fsutil import atomic_write_bytes
from tui.engine.host import Host

if TYPE_CHECKING:
    import httpx

CATALOG_TIMEOUT = (10.0, 5.0)  # read, connect: a catalog must not hold up the start


@dataclass(slots=True)
class Catalog:
    builds: list[Build]
    source: str  # what the user would recognise: "built-in index", a path or a URL
    warnings: list[str] = field(default_factory=list)

    def for_host(self, host: Host) -> list[Build]:
        return [b for b in self.builds if b.runs_on(host)]

    def by_key(self) -> dict[str, Build]:
        """Newest build per installation key (a catalog may list several builds of one)."""
        out: dict[str, Build] = {}
        for build in sorted(self.builds, key=Build.sort_key):
            out[build.key] = build
        return out


def _mirrored(url: str, mirrors: tuple[str | None, str | None]) -> str:
    return names.rewrite_mirror(url, *mirrors)


def builtin_catalog(mirrors: tuple[str | None, str | None] = (None, None)) -> Catalog:
    """The python-build-standalone index that pbs-installer ships: works offline."""
    from importlib import resources  # a custom catalog never needs it

    text = resources.files("pbs_installer").joinpath("versions.json").read_text("utf-8")
    builds: list[Build] = []
    for entry in json.loads(text):
        version = entry["python_version"]
        impl = version["implementation"]
        for file in entry["files"]:
            if not file["install_only"]:
                continue  # the full builds carry debug info and tests: not what uv installs
            filename = file["filename"]
            parsed = names.parse_archive_name(filename) if impl == "cpython" else None
            if impl == "cpython" and parsed is None:
                continue
            major, minor, patch, pre = (
                names.split_version(parsed.version)
                if parsed
                else (version["major"], version["minor"], version["micro"], "")
            )
            os_name = file["platform"]
            builds.append(
                Build(
                    implementation=impl,
                    major=major,
                    minor=minor,
                    patch=patch,
                    prerelease=pre,
                    variant=parsed.variant if parsed else None,
                    os=os_name,
                    arch=file["arch"],
                    libc=(parsed.libc if parsed else "gnu") if os_name == "linux" else "none",
                    build=parsed.build if parsed else names.pypy_build(filename),
                    url=_mirrored(file["url"], mirrors),
                    sha256=file["sha256"],
                )
            )
    return Catalog(builds, "built-in index (pbs-installer)")


def parse_uv_catalog(data: Any, source: str, mirrors: tuple[str | None, str | None]) -> Catalog:
    """Parse uv's download-metadata.json format (``--python-downloads-json-url``)."""
    if not isinstance(data, dict):
        raise CatalogError(
            f"{source}: expected a JSON object of downloads, got {type(data).__name__}"
        )
    builds = []
    for key, entry in data.items():
        try:
            arch = entry["arch"]
            family = arch["family"] if isinstance(arch, dict) else arch
            micro = arch.get("variant") if isinstance(arch, dict) else None
            builds.append(
                Build(
                    implementation=entry["name"],
                    major=int(entry["major"]),
                    minor=int(entry["minor"]),
                    patch=int(entry["patch"]),
                    prerelease=entry.get("prerelease") or "",
                    variant=entry.get("variant") or None,
                    os=entry["os"],
                    arch=f"{family}_{micro}" if micro else family,
                    libc=entry.get("libc") or "none",
                    build=str(entry.get("build") or ""),
                    url=_mirrored(entry["url"], mirrors),
                    sha256=entry.get("sha256"),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CatalogError(f"{source}: entry {key!r} is malformed ({exc!r})") from None
    return Catalog(builds, source)


def _is_url(source: str) -> bool:
    return urlsplit(source).scheme in ("http", "https")


def _read_local(source: str) -> bytes:
    path = Path(source.removeprefix("file://")).expanduser()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CatalogError(f"cannot read catalog {path}: {exc.strerror or exc}") from None


def _fetch_remote(
    url: str, store: Path, offline: bool, client: httpx.Client | None
) -> tuple[bytes, list[str]]:
    """Fetch a remote catalog, revalidating a copy kept on disk with its ETag."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    body_path, meta_path = store / f"{digest}.json", store / f"{digest}.meta.json"
    cached = body_path.read_bytes() if body_path.exists() else None
    meta: dict[str, str] = {}
    if meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text())
        except ValueError:
            meta = {}
    if offline:
        if cached is None:
            raise CatalogError(f"offline and no saved copy of catalog {url}; run once online")
        return cached, []
    headers = {}
    if cached is not None and meta.get("etag"):
        headers["If-None-Match"] = meta["etag"]
    if cached is not None and meta.get("last_modified"):
        headers["If-Modified-Since"] = meta["last_modified"]
    own = client is None
    import httpx  # only a remote catalog needs it; the CLI starts faster without

    read, connect = CATALOG_TIMEOUT
    client = client or httpx.Client(
        timeout=httpx.Timeout(read, connect=connect), follow_redirects=True
    )
    try:
        response = client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        if cached is None:
            raise CatalogError(f"cannot fetch catalog {url}: {exc}") from None
        when = meta.get("fetched_at", "an earlier run")
        return cached, [f"catalog refresh failed ({exc}); using the copy from {when}"]
    finally:
        if own:
            client.close()
    if response.status_code == 304 and cached is not None:
        return cached, []
    if response.status_code != 200:
        if cached is None:
            raise CatalogError(f"cannot fetch catalog {url}: HTTP {response.status_code}")
        return cached, [f"catalog refresh failed (HTTP {response.status_code}); using saved copy"]
    store.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(body_path, response.content)
    new_meta = {
        "url": url,
        "etag": response.headers.get("etag", ""),
        "last_modified": response.headers.get("last-modified", ""),
        "fetched_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    atomic_write_bytes(meta_path, json.dumps(new_meta).encode())
    return response.content, []


def load_catalog(
    source: str | None,
    *,
    store: Path,
    offline: bool = False,
    python_mirror: str | None = None,
    pypy_mirror: str | None = None,
    client: httpx.Client | None = None,
) -> Catalog:
    """Load the catalog named by ``--catalog`` / UV_PYTHON_DOWNLOADS_JSON_URL, else the built-in."""
    mirrors = (python_mirror, pypy_mirror)
    if not source:
        return builtin_catalog(mirrors)
    warnings: list[str] = []
    if _is_url(source):
        raw, warnings = _fetch_remote(source, store, offline, client)
    else:
        raw = _read_local(source)
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise CatalogError(f"catalog {source} is not valid JSON: {exc}") from None
    catalog = parse_uv_catalog(data, source, mirrors)
    catalog.warnings.extend(warnings)
    return catalog


def default_catalog_source() -> str | None:
    return os.environ.get("UV_PYTHON_DOWNLOADS_JSON_URL") or None

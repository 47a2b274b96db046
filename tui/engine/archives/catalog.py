"""The catalog of available builds: pbs-installer's shipped index, or a uv-format JSON."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from tui import __version__
from tui.engine.archives import schema
from tui.engine.builds import Build
from tui.engine.errors import CatalogError
from tui.engine.fsutil import atomic_write_bytes, own_dir, read_owned, read_small
from tui.engine.platform.paths import file_url_path
from tui.engine.redact import redact_text, redact_url

if TYPE_CHECKING:
    from datetime import datetime

    import httpx

CATALOG_TIMEOUT = (10.0, 5.0)  # read, connect: a catalog must not hold up the start
STALE_DAYS = 14  # an offline copy older than this is said to be stale
FETCHED_AT = "%Y-%m-%d %H:%M UTC"
MAX_CATALOG_BYTES = 64 << 20  # uv's full catalog is about 3 MiB; anything far larger is hostile
_MAX_META_BYTES = 64 << 10  # a saved catalog's ETag, date and redacted URL


class Catalog(NamedTuple):
    builds: list[Build]
    source: str  # what the user would recognise: "built-in index", a path or a URL
    warnings: list[str]  # skipped entries, a stale saved copy: told once, as it loads


BUILTIN_SOURCE = "built-in index (pbs-installer)"
BUILTIN_CHECKED = "builtin.json"  # in the catalog store: the built-in index, checked
_BUILD_FIELDS = list(Build._fields)


def _builtin_index_path() -> Path | None:
    """pbs-installer's ``versions.json`` beside its package, found without importing it: the
    package loads its installer (tempfile, tarfile) and importlib.resources loads zipfile,
    which together took longer than parsing the index. None in a zipped install."""
    spec = importlib.util.find_spec("pbs_installer")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder, "versions.json")
        if path.is_file():
            return path
    return None


def builtin_catalog(
    mirrors: schema.Mirrors = (None, None), *, store: Path | None = None
) -> Catalog:
    """The python-build-standalone index that pbs-installer ships: works offline.

    With ``store``, the checked catalog is kept there and read back while the index file
    (its path, size and time) and pyshelf are the same: restating the whole index as uv's
    entries was most of the time the app took to list its rows before its first frame. The
    kept rows hold the published URLs (the mirrors are applied as they are read) and pass the
    catalog check again when read, since the store may be shared.
    """
    path = _builtin_index_path()
    keep: tuple[Path, list[object]] | None = None  # (where it is kept, the stamp it is kept under)
    if path is not None and store is not None:
        with contextlib.suppress(OSError):
            stat = path.stat()
            stamp = [__version__, schema.RULES, str(path), stat.st_size, stat.st_mtime_ns]
            keep = (store / BUILTIN_CHECKED, stamp)
    if keep is not None and (kept := _read_checked(*keep)):
        return kept._replace(builds=schema.with_mirrors(kept.builds, mirrors))
    if path is not None:
        text = path.read_text("utf-8")
    else:
        from importlib import resources  # a zipped install: only its loader reads the file

        text = resources.files("pbs_installer").joinpath("versions.json").read_text("utf-8")
    entries = schema.builtin_entries(json.loads(text))
    builds, warnings = schema.builds_from_uv_json(
        entries, BUILTIN_SOURCE, schemes=schema.SCHEMES_REMOTE
    )
    catalog = Catalog(builds, BUILTIN_SOURCE, warnings)
    if keep is not None:
        _keep_checked(*keep, catalog)
    return catalog._replace(builds=schema.with_mirrors(builds, mirrors))


def _read_checked(path: Path, stamp: list[object]) -> Catalog | None:
    """The catalog kept at ``path`` if it was made under ``stamp`` and every row passes the
    catalog check; None for any other file (the index is then checked again)."""
    try:
        kept = json.loads(_read_kept(path) or b"null")
        if kept["stamp"] != stamp or kept["fields"] != _BUILD_FIELDS:
            return None
        builds = [schema.build_from_row(row, schema.SCHEMES_REMOTE) for row in kept["builds"]]
        return Catalog(builds, BUILTIN_SOURCE, [str(w) for w in kept["warnings"]])
    except (ValueError, LookupError, TypeError, RecursionError, schema.BadEntry):
        return None  # none kept yet, or not one this run can use: check the index again


def _keep_checked(path: Path, stamp: list[object], catalog: Catalog) -> None:
    rows = [[getattr(b, name) for name in _BUILD_FIELDS] for b in catalog.builds]
    data = {"stamp": stamp, "fields": _BUILD_FIELDS, "warnings": catalog.warnings, "builds": rows}
    with contextlib.suppress(OSError):  # a read-only state dir: the next start checks again
        own_dir(path.parent, levels=2)  # .pyshelf/catalogs: a planted link is refused
        atomic_write_bytes(path, json.dumps(data, separators=(",", ":")).encode(), private=True)


def parse_uv_catalog(
    data: Any,
    source: str,
    mirrors: schema.Mirrors = (None, None),
    *,
    remote: bool = False,
) -> Catalog:
    """Parse uv's download-metadata.json format (``--python-downloads-json-url``).

    A catalog fetched over the network may only point at http(s) archives: ``file://`` would
    let a server copy any local file (or an endless one) into the cache.
    """
    schemes = schema.SCHEMES_REMOTE if remote else schema.SCHEMES_LOCAL
    builds, warnings = schema.builds_from_uv_json(data, source, schemes=schemes, mirrors=mirrors)
    return Catalog(builds, source, warnings)


def is_url(source: str) -> bool:
    return urlsplit(source).scheme in ("http", "https")


def _too_big(source: str) -> CatalogError:
    cap = MAX_CATALOG_BYTES >> 20
    return CatalogError(f"catalog {source} is larger than {cap} MiB; is it really a catalog?")


def _read_local(source: str) -> bytes:
    if sys.platform == "win32" and source.startswith("file:"):
        path = file_url_path(source)  # file:///C:/x names C:\x there, not \C:\x
    else:
        path = Path(source.removeprefix("file://")).expanduser()
    try:
        return read_small(path, MAX_CATALOG_BYTES)  # a fifo, a device or a huge file: refused
    except OSError as exc:
        raise CatalogError(f"cannot read catalog {path}: {exc.strerror or exc}") from None


def _read_kept(path: Path, limit: int = MAX_CATALOG_BYTES) -> bytes | None:
    """A file pyshelf keeps in its catalog store, or None when there is none it can use.

    The store sits in the cache, which may be shared: pyshelf only ever renames its own
    files into place, so a link, a fifo, a device or another user's file there is not one
    of them (a forged kept index with well-formed rows would pass every schema check).
    """
    return read_owned(path, limit)


def _read_meta(path: Path) -> dict[str, str]:
    try:
        meta = json.loads(_read_kept(path, _MAX_META_BYTES) or b"{}")
    except (ValueError, RecursionError):
        return {}
    if not isinstance(meta, dict):
        return {}
    return {k: v for k, v in meta.items() if isinstance(k, str) and isinstance(v, str)}


def stale_note(meta: dict[str, str], now: datetime | None = None) -> str | None:
    """A warning when the saved copy used offline is older than ``STALE_DAYS``."""
    from datetime import UTC, datetime  # only a remote catalog's saved copy has a date

    try:
        fetched = datetime.strptime(meta.get("fetched_at", ""), FETCHED_AT).replace(tzinfo=UTC)
    except ValueError:
        return None
    days = ((now or datetime.now(UTC)) - fetched).days
    if days < STALE_DAYS:
        return None
    return (
        f"offline: the catalog copy is {days} days old (from {meta['fetched_at']}); "
        "builds published since are missing"
    )


def _get_capped(
    client: httpx.Client, url: str, headers: dict[str, str]
) -> tuple[int, httpx.Headers, bytes]:
    """GET with the body read into memory only up to the catalog cap."""
    body = bytearray()
    with client.stream("GET", url, headers=headers) as response:
        if response.status_code == 200:
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_CATALOG_BYTES:
                    raise _too_big(redact_url(url))
    return response.status_code, response.headers, bytes(body)


def _fetch_remote(
    url: str, store: Path, offline: bool, client: httpx.Client | None
) -> tuple[bytes, list[str]]:
    """Fetch a remote catalog, revalidating a copy kept on disk with its ETag."""
    shown = redact_url(url)
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    body_path, meta_path = store / f"{digest}.json", store / f"{digest}.meta.json"
    cached = _read_kept(body_path)
    meta = _read_meta(meta_path)
    if offline:
        if cached is None:
            raise CatalogError(f"offline and no saved copy of catalog {shown}; run once online")
        note = stale_note(meta)
        return cached, [note] if note else []
    headers = {}
    if cached is not None and meta.get("etag"):
        headers["If-None-Match"] = meta["etag"]
    if cached is not None and meta.get("last_modified"):
        headers["If-Modified-Since"] = meta["last_modified"]
    own = client is None
    # Loaded only for a remote catalog; the http module first, as it trims httpx's import.
    from tui.engine.archives.http import make_client

    client = client or make_client(*CATALOG_TIMEOUT)
    import httpx

    try:
        status, response_headers, body = _get_capped(client, url, headers)
    except httpx.HTTPError as exc:
        why = redact_text(str(exc)) or type(exc).__name__
        if cached is None:
            raise CatalogError(f"cannot fetch catalog {shown}: {why}") from None
        when = meta.get("fetched_at", "an earlier run")
        return cached, [f"catalog refresh failed ({why}); using the copy from {when}"]
    finally:
        if own:
            client.close()
    if status == 304 and cached is not None:
        return cached, []
    if status != 200:
        if cached is None:
            raise CatalogError(f"cannot fetch catalog {shown}: HTTP {status}")
        return cached, [f"catalog refresh failed (HTTP {status}); using saved copy"]
    from datetime import UTC, datetime

    # Saved privately: a catalog and its URL may hold tokens (signed URLs, user info).
    own_dir(store, levels=2)  # .pyshelf/catalogs: a planted link is refused, never written
    atomic_write_bytes(body_path, body, private=True)
    new_meta = {
        "url": shown,
        "etag": response_headers.get("etag", ""),
        "last_modified": response_headers.get("last-modified", ""),
        "fetched_at": datetime.now(UTC).strftime(FETCHED_AT),
    }
    atomic_write_bytes(meta_path, json.dumps(new_meta).encode(), private=True)
    return body, []


def load_catalog(
    source: str | None,
    *,
    store: Path,
    offline: bool = False,
    python_mirror: str | None = None,
    pypy_mirror: str | None = None,
    client: httpx.Client | None = None,
) -> Catalog:
    """Load the catalog named by ``--catalog`` / UV_PYTHON_DOWNLOADS_JSON_URL, else the built-in.

    Whatever the source, the entries pass one check (:mod:`schema`); a bad entry is
    skipped with a warning, and only :class:`CatalogError` ever leaves here.
    """
    mirrors = (python_mirror, pypy_mirror)
    if not source:
        return builtin_catalog(mirrors, store=store)
    warnings: list[str] = []
    remote = is_url(source)
    shown = redact_url(source)
    if remote:
        raw, warnings = _fetch_remote(source, store, offline, client)
    else:
        raw = _read_local(source)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        # RecursionError: nesting thousands deep; ValueError also covers 5,000-digit numbers.
        why = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise CatalogError(f"catalog {shown} is not valid JSON: {why}") from None
    catalog = parse_uv_catalog(data, shown, mirrors, remote=remote)
    catalog.warnings.extend(warnings)
    return catalog

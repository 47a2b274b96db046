"""Offline bundles: a folder laid out like python-build-standalone's releases.

``DIR/{release}/{archive}`` for CPython, ``DIR/{archive}`` for PyPy, a catalog in uv's
download-metadata.json format whose URLs are the upstream ones, and ``SHA256SUMS``. Any
static server or a plain folder serves it, to pyshelf and to uv alike:

    pyshelf --mirror URL --pypy-mirror URL --catalog URL/download-metadata.json install 3.12
    uv python install --mirror URL --pypy-mirror URL --python-downloads-json-url ... 3.12

Every archive is hashed as it is copied, in either direction, and only renamed into place
when its sha256 is the published one: nothing unverified lands in a bundle or in the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from tui.engine import names
from tui.engine.archives.cache import HASH_CHUNK, holds_archive, sha256_file
from tui.engine.archives.catalog import MAX_CATALOG_BYTES, parse_uv_catalog
from tui.engine.archives.schema import BadEntry, check_filename, check_sha256
from tui.engine.builds import Build
from tui.engine.errors import CatalogError, PyshelfError, describe_error
from tui.engine.fsutil import (
    atomic_write_bytes,
    inside,
    new_scratch_file,
    open_regular,
    own_dir,
    read_small,
)
from tui.engine.platform.flags import fchmod
from tui.engine.shelf import Shelf

CATALOG_NAME = "download-metadata.json"
SUMS_NAME = "SHA256SUMS"


class BundleError(PyshelfError):
    """A bundle that cannot be read or written."""


def upstream_url(build: Build) -> str:
    """Where the archive is published: what uv's ``--mirror`` flags rewrite."""
    if build.implementation == "cpython":
        return f"{names.PBS_PREFIXES[0]}/{build.build}/{quote(build.filename, safe='')}"
    if build.implementation == "pypy":
        return f"{names.PYPY_PREFIX}/{build.filename}"
    raise BundleError(f"{build.key}: uv has no mirror setting for {build.implementation}")


def relative_path(build: Build) -> str:
    """The archive's place in a bundle, as a mirror of its upstream URL."""
    if build.implementation == "cpython":
        return f"{build.build}/{build.filename}"
    return build.filename


def _entry(build: Build) -> dict[str, object]:
    """The build as uv's download-metadata.json lists it (``x86_64_v3``: family and variant)."""
    family, _, level = build.arch.partition("_v")
    return {
        "name": build.implementation,
        "arch": {"family": family, "variant": f"v{level}" if level else None},
        "os": "darwin" if build.os == "macos" else build.os,
        "libc": build.libc,
        "major": build.major,
        "minor": build.minor,
        "patch": build.patch,
        "prerelease": build.prerelease,
        "url": upstream_url(build),
        "sha256": build.sha256,
        "variant": build.variant,
        "build": build.build,
    }


def copy_verified(source: Path, dest: Path, sha256: str) -> None:
    """Copy ``source`` to ``dest``, in a folder that exists, through a new scratch file beside
    it, hashing as it goes. The scratch name is random and created, never opened (O_EXCL,
    O_NOFOLLOW): a link planted in a shared folder is not written through."""
    handle = open_regular(source)
    if handle is None:
        raise BundleError(f"{source} is not a regular file")
    fd, temp = new_scratch_file(dest.parent, f".{dest.name}.", ".pyshelf-copy")
    digest = hashlib.sha256()
    try:
        with handle, os.fdopen(fd, "wb") as out:
            fchmod(out.fileno(), 0o644)  # readable as a download is: caches are shared
            while chunk := handle.read(HASH_CHUNK):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise BundleError(
                f"{source.name}: sha256 {digest.hexdigest()} is not the published {sha256}"
            )
        os.replace(temp, dest)
    finally:
        temp.unlink(missing_ok=True)


@dataclass(slots=True)
class Report:
    """What an export or import did, one line a build."""

    added: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


MAX_SUMS_BYTES = 16 << 20  # a line is under 300 bytes: room for some 50,000 archives


def _read_bundle_file(path: Path, limit: int) -> bytes | None:
    """A bundle's catalog or ``SHA256SUMS``, or None when there is none; a fifo, a device or
    a file far too large is refused (a bundle folder may be anyone's)."""
    try:
        return read_small(path, limit)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise BundleError(f"cannot read {path}: {exc.strerror or exc}") from None


def _read_json(path: Path) -> dict[str, object]:
    raw = _read_bundle_file(path, MAX_CATALOG_BYTES)
    if raw is None:
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # also bytes that are not UTF-8
        why = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise BundleError(f"cannot read {path}: {why}") from None
    if not isinstance(data, dict):
        raise BundleError(f"{path} is not a uv download catalog")
    return data


def _read_sums(path: Path) -> dict[str, str]:
    """``SHA256SUMS``: relative path -> sha256 (lines ``<sha256>  <path>``)."""
    sums: dict[str, str] = {}
    raw = _read_bundle_file(path, MAX_SUMS_BYTES)
    if raw is None:
        return sums
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BundleError(f"{path} is not text: not a sha256sum listing") from None
    for line in text.splitlines():
        digest, _, rel = line.strip().partition("  ")
        if not rel:
            continue
        try:
            sha = check_sha256(digest)
        except BadEntry:
            raise BundleError(f"{path}: {digest[:20]!r} is not a sha256") from None
        if sha:
            sums[rel.lstrip("*")] = sha
    return sums


def _holds(path: Path, sha256: str) -> bool:
    """Whether ``path`` holds the archive already; a link or a special file there is refused
    (NotOurFile), never read."""
    return holds_archive(path) and sha256_file(path) == sha256


def _bundle_path(root: Path, rel: str) -> Path:
    parts = rel.split("/")
    try:
        check_filename(parts[-1])
    except BadEntry as exc:
        raise BundleError(f"{rel}: {exc}") from None
    return inside(root, *parts)


def export(shelf: Shelf, builds: list[tuple[Build, Path]], root: Path) -> Report:
    """Add verified cached archives (``(build, archive path)`` pairs) to the bundle at ``root``.

    Exporting again adds to the bundle: archives already there are checked, not copied, and
    the catalog and ``SHA256SUMS`` are merged, so nothing is listed twice.
    """
    root.mkdir(parents=True, exist_ok=True)
    catalog = _read_json(root / CATALOG_NAME)
    sums = _read_sums(root / SUMS_NAME)
    report = Report()
    for build, archive in builds:
        assert build.sha256
        try:
            rel = relative_path(build)
            dest = _bundle_path(root, rel)
            entry = _entry(build)
            if dest.parent != root:
                own_dir(dest.parent)  # a release folder: a link planted there is refused
            present = _holds(dest, build.sha256)
            if not present:
                copy_verified(archive, dest, build.sha256)
        except (PyshelfError, OSError) as exc:
            report.failed.append(f"{build.key}: {describe_error(exc)}")
            continue
        (report.present if present else report.added).append(build.key)
        catalog[build.key] = entry
        sums[rel] = build.sha256
    lines = "".join(f"{sha}  {rel}\n" for rel, sha in sorted(sums.items()))
    atomic_write_bytes(root / CATALOG_NAME, json.dumps(catalog, indent=2, sort_keys=True).encode())
    atomic_write_bytes(root / SUMS_NAME, lines.encode())
    return report


def _lone_archive(shelf: Shelf, path: Path) -> tuple[Build, Path] | None:
    """A hand-downloaded archive, known by its file name to pyshelf's catalog."""
    for build in shelf.catalog.builds:
        if build.sha256 and build.url and build.filename == path.name:
            return build, path
    return None


def _bundle_builds(root: Path) -> tuple[list[tuple[Build, Path]], list[str]]:
    """Every archive a bundle lists, by its catalog, else by its ``SHA256SUMS``."""
    found: list[tuple[Build, Path]] = []
    failed: list[str] = []
    data = _read_json(root / CATALOG_NAME)
    sums = _read_sums(root / SUMS_NAME)
    if not data and not sums:
        raise BundleError(f"{root} holds neither {CATALOG_NAME} nor {SUMS_NAME}")
    if data:
        try:
            catalog = parse_uv_catalog(data, str(root / CATALOG_NAME))
        except CatalogError as exc:
            raise BundleError(str(exc)) from None
        failed.extend(catalog.warnings)
        for build in catalog.builds:
            if not build.sha256:
                failed.append(f"{build.key}: no sha256 to verify it by")
                continue
            rel = relative_path(build)
            if sums.get(rel, build.sha256) != build.sha256:
                failed.append(f"{build.key}: {CATALOG_NAME} and {SUMS_NAME} disagree")
                continue
            found.append((build, _bundle_path(root, rel)))
        return found, failed
    for rel, sha in sums.items():
        archive = _bundle_path(root, rel)
        parsed = names.parse_archive_name(archive.name)
        if parsed is None:
            failed.append(f"{rel}: not an archive name pyshelf can read")
            continue
        major, minor, patch, pre = names.split_version(parsed.version)
        build = Build(
            parsed.implementation, major, minor, patch, pre, parsed.variant, parsed.os,
            parsed.arch, parsed.libc, parsed.build, url=archive.as_uri(), sha256=sha,
        )  # fmt: skip
        found.append((build, archive))
    return found, failed


def import_paths(shelf: Shelf, paths: list[Path]) -> Report:
    """Bring bundles and hand-downloaded archives into the cache, verified."""
    report = Report()
    for path in paths:
        if path.is_dir():
            builds, failed = _bundle_builds(path)
            report.failed.extend(failed)
        else:
            lone = _lone_archive(shelf, path)
            if lone is None:
                report.failed.append(f"{path}: no catalog lists {path.name}; cannot verify it")
                continue
            builds = [lone]
        for build, archive in builds:
            assert build.sha256
            dest = shelf.cache.path_for(build)
            try:
                if _holds(dest, build.sha256):
                    report.present.append(build.key)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)  # the cache: the user's folder
                copy_verified(archive, dest, build.sha256)
            except (PyshelfError, OSError) as exc:
                report.failed.append(f"{build.key}: {describe_error(exc)}")
                continue
            shelf.downloader.verified.add(build.sha256)
            report.added.append(build.key)
    return report

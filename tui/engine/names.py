"""Reading python-build-standalone archive names, as published and as uv caches them."""

from __future__ import annotations

import re
from typing import NamedTuple

from tui.engine import platforms

PBS_PREFIXES = (
    "https://github.com/astral-sh/python-build-standalone/releases/download",
    "https://github.com/indygreg/python-build-standalone/releases/download",
)
PYPY_PREFIX = "https://downloads.python.org/pypy"

# uv's cache writes "+" (or %2B) as "-", so the pattern accepts both spellings. Patterns are
# compiled on first use (re caches them): most commands never parse an archive name.
_CPYTHON = (
    r"^(?P<impl>cpython)-(?P<version>\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?)"
    r"(?:[+-](?P<build>\d{8}))?"
    r"-(?P<arch>[a-z0-9_]+)-(?:unknown|apple|pc)-(?P<os>linux|darwin|windows)"
    # The ABI part only: on macOS the next word is already the flavour ("-freethreaded-...").
    r"(?:-(?P<env>gnu|gnueabi|gnueabihf|musl|musleabi|musleabihf|msvc))?"
    r"-(?P<flavor>.+?)(?:-(?P<oldbuild>\d{8})T\d{4})?\.(?:tar\.(?:gz|zst|bz2|xz)|zip)$"
)
_PYPY = r"^pypy(?P<minor>\d+\.\d+)-v(?P<build>[\d.]+)-"


class ArchiveName(NamedTuple):
    implementation: str
    version: str
    build: str
    os: str
    arch: str
    libc: str
    variant: str | None


def parse_archive_name(name: str) -> ArchiveName | None:
    """Parse a CPython archive name; ``None`` when it is not one we understand."""
    name = name.replace("%2B", "+")
    match = re.match(_CPYTHON, name)
    arch = platforms.parse_arch(match["arch"]) if match else None
    if not match or arch is None:
        return None
    flavor = match["flavor"].replace("+", "-").split("-")
    variants = [v for v in ("freethreaded", "debug") if v in flavor]
    os_name = platforms.OS_WORDS[match["os"]]
    libc = (match["env"] or "gnu") if os_name == "linux" else "none"
    return ArchiveName(
        implementation=match["impl"],
        version=match["version"],
        build=match["build"] or match["oldbuild"] or "",
        os=os_name,
        arch=arch,
        libc=libc,
        variant="+".join(variants) or None,
    )


def pypy_build(name: str) -> str:
    """The PyPy release in ``pypy3.10-v7.3.17-linux64.tar.bz2`` (``7.3.17``)."""
    match = re.match(_PYPY, name)
    return match["build"] if match else ""


def split_version(version: str) -> tuple[int, int, int, str]:
    match = re.match(r"^(\d+)\.(\d+)\.(\d+)((?:a|b|rc)\d+)?$", version)
    if not match:
        raise ValueError(f"not a Python version: {version!r}")
    return int(match[1]), int(match[2]), int(match[3]), match[4] or ""


def cache_file_name(sha256: str, filename: str) -> str:
    """uv's name for an archive in ``UV_PYTHON_CACHE_DIR``: ``{sha256[:9]}-{filename}``."""
    return f"{sha256[:9]}-{filename.replace('%2B', '-').replace('+', '-')}"


def rewrite_mirror(url: str, python_mirror: str | None, pypy_mirror: str | None) -> str:
    """Point a published URL at a mirror, as uv's UV_PYTHON_INSTALL_MIRROR does."""
    if python_mirror:
        for prefix in PBS_PREFIXES:
            if url.startswith(prefix):
                return python_mirror.rstrip("/") + url[len(prefix) :]
    if pypy_mirror and url.startswith(PYPY_PREFIX):
        return pypy_mirror.rstrip("/") + url[len(PYPY_PREFIX) :]
    return url

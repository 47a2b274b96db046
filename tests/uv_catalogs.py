"""Synthetic catalogs in uv's download-metadata.json format, and uv's own reading of them.

The entries never get downloaded: their URLs only need the shape uv's and pyshelf's rules
accept (python-build-standalone's GitHub release URLs, PyPy's, GraalPy's).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tests.uvtool import run_uv

PBS = "https://github.com/astral-sh/python-build-standalone/releases/download"
BUILD = "20991231"
# python-build-standalone's triple words for uv's catalog words (its archive names).
_TRIPLE_ARCH = {"powerpc64le": "ppc64le"}
_VENDOR = {"linux": "unknown-linux", "darwin": "apple-darwin", "windows": "pc-windows"}


def entry(
    name: str, version: str, os: str, family: str, libc: str, *,
    level: str | None = None, variant: str | None = None, sha: bool = True, build: str = BUILD,
) -> tuple[str, dict[str, Any]]:  # fmt: skip
    """One catalog entry (its key as uv's catalog writes it, and its fields)."""
    numbers, pre = version, None
    for tag in ("rc", "a", "b"):
        if tag in version:
            numbers, _, rest = version.partition(tag)
            pre = tag + rest
            break
    major, minor, patch = (int(n) for n in numbers.split("."))
    arch = f"{family}_{level}" if level else family
    suffix = f"+{variant}" if variant else ""
    key = f"{name}-{version}{suffix}-{os}-{arch}-{libc}"
    if name == "cpython" and os in _VENDOR:
        env = "msvc" if os == "windows" else ("" if os == "darwin" else libc)
        triple = f"{_TRIPLE_ARCH.get(family, family)}{'_' + level if level else ''}-{_VENDOR[os]}"
        triple += f"-{env}" if env else ""
        flavor = f"{variant.replace('+', '-')}-" if variant else ""
        url = f"{PBS}/{build}/cpython-{version}%2B{build}-{triple}-{flavor}install_only.tar.gz"
    elif name == "pypy":
        name_part = f"pypy{major}.{minor}-v7.3.20-{os}-{arch}-{libc}"
        url = f"https://downloads.python.org/pypy/{name_part}.tar.bz2"
    else:  # GraalPy, and Pyodide's cross-build environments
        url = f"https://github.com/oracle/graalpython/releases/download/{key}.tar.gz"
    fields = {
        "name": name, "arch": {"family": family, "variant": level}, "os": os, "libc": libc,
        "major": major, "minor": minor, "patch": patch, "prerelease": pre, "url": url,
        "sha256": hashlib.sha256(url.encode()).hexdigest() if sha else None,
        "variant": variant, "build": build,
    }  # fmt: skip
    return key, fields


def write_catalog(path: Path, entries: list[tuple[str, dict[str, Any]]]) -> Path:
    path.write_text(json.dumps(dict(entries), indent=1))
    return path


def uv_env(root: Path) -> dict[str, str]:
    """uv kept off the network and away from anything installed or cached outside ``root``."""
    return {
        "UV_OFFLINE": "1",
        "UV_CACHE_DIR": str(root / "uv-cache"),
        "UV_PYTHON_INSTALL_DIR": str(root / "uv-python"),
        "UV_PYTHON_CACHE_DIR": str(root / "uv-archives"),
    }


def uv_listed(catalog: Path, root: Path, *args: str, env: dict[str, str] | None = None) -> set[str]:
    """The keys ``uv python list --only-downloads`` prints for this catalog."""
    out = run_uv(
        "python", "list", *args, "--only-downloads", "--output-format", "json",
        "--python-downloads-json-url", str(catalog), env={**uv_env(root), **(env or {})},
    ).stdout  # fmt: skip
    return {row["key"] for row in json.loads(out)}

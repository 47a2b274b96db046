"""Builds for Windows made from the interpreter that runs the Windows tests, in
python-build-standalone's ``install_only`` layout (``python/python.exe``, ``python/Lib``,
``python/DLLs``) or PyPy's (``pypy3.13-v7.3.99-win64/pypy3.13.exe``), served with uv's catalog
rows from a loopback server. A small equivalent of tests/pbs_fixtures.py for a Windows
interpreter: its archives hold a shell script as the interpreter, which Windows cannot run.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

MTIME = 1_700_000_000
BUILD = "20991231"
PYPY_BUILD = "7.3.99"
VERSION = "{}.{}.{}".format(*sys.version_info[:3])
MINOR = "{}.{}".format(*sys.version_info[:2])
_TRIPLE_ARCH = {"x86_64": "x86_64", "aarch64": "aarch64", "x86": "i686"}
# Folders of a full stdlib that a build for these tests does without.
_LEFT_OUT = {"site-packages", "test", "idlelib", "tkinter", "turtledemo", "ensurepip",
             "__pycache__"}  # fmt: skip


@dataclass(frozen=True)
class WindowsBuild:
    key: str
    filename: str
    data: bytes
    top: str  # the archive's top folder
    row: dict[str, Any]  # uv's catalog row, without its URL

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def url_path(self) -> str:
        """Where the server serves it: ``/<build>/<file name>``, "+" written %2B as upstream."""
        return f"/{self.row['build']}/{quote(self.filename, safe='')}"


def interpreter_files() -> dict[str, bytes]:
    """The running interpreter's files, by their place in an install for Windows: its
    executables and DLLs at the root, extension modules in ``DLLs``, the stdlib in ``Lib``
    (the embeddable interpreter keeps it in ``python3XY.zip``: it is unzipped there)."""
    base = Path(sys.base_prefix)
    tag = "{}{}".format(*sys.version_info[:2])
    files: dict[str, bytes] = {}
    for path in sorted(base.iterdir()):
        if path.is_file() and path.suffix in (".exe", ".dll") and not path.name.startswith("lib"):
            files[path.name] = path.read_bytes()
    for folder in (base, base / "DLLs"):
        for path in sorted(folder.glob("*")):
            if path.suffix == ".pyd" or (path.suffix == ".dll" and path.name.startswith("lib")):
                files[f"DLLs/{path.name}"] = path.read_bytes()
    stdlib_zip = base / f"python{tag}.zip"
    if stdlib_zip.is_file():
        with zipfile.ZipFile(stdlib_zip) as stdlib:
            for info in stdlib.infolist():
                if not info.is_dir():
                    files[f"Lib/{info.filename}"] = stdlib.read(info)
    else:  # an installed CPython: its Lib, without what no test runs
        lib = base / "Lib"
        for path in sorted(lib.rglob("*")):
            rel = path.relative_to(lib)
            if path.is_file() and not _LEFT_OUT & set(rel.parts):
                files[f"Lib/{rel.as_posix()}"] = path.read_bytes()
    return files


def _archive(fmt: str, top: str, files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    if fmt == "zip":
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            for name, data in files.items():
                info = zipfile.ZipInfo(f"{top}/{name}", (2023, 11, 14, 22, 13, 20))
                info.compress_type, info.create_system = zipfile.ZIP_DEFLATED, 0  # made on Windows
                archive.writestr(info, data)
    else:
        with tarfile.open(fileobj=out, mode="w:gz", compresslevel=1) as archive:
            for name, data in files.items():
                member = tarfile.TarInfo(f"{top}/{name}")
                member.size, member.mtime = len(data), MTIME
                member.mode = 0o755 if name.endswith((".exe", ".dll", ".pyd")) else 0o644
                archive.addfile(member, io.BytesIO(data))
    return out.getvalue()


def _row(name: str, host: Any, build: str) -> dict[str, Any]:
    major, minor, patch = sys.version_info[:3]
    return {
        "name": name, "arch": {"family": host.arch, "variant": None}, "os": "windows",
        "libc": "none", "major": major, "minor": minor, "patch": patch, "prerelease": "",
        "variant": None, "build": build,
    }  # fmt: skip


@functools.cache
def cpython_build(fmt: str) -> WindowsBuild:
    """This interpreter as python-build-standalone would publish it, as ``.tar.gz`` or
    ``.zip`` (made once per format and process)."""
    from tui.engine.host import current_host

    host = current_host()
    triple = f"{_TRIPLE_ARCH[host.arch]}-pc-windows-msvc"
    filename = f"cpython-{VERSION}+{BUILD}-{triple}-install_only_stripped.{fmt}"
    data = _archive(fmt, "python", interpreter_files())
    key = f"cpython-{VERSION}-windows-{host.arch}-none"
    return WindowsBuild(key, filename, data, "python", _row("cpython", host, BUILD))


@functools.cache
def pypy_build() -> WindowsBuild:
    """This interpreter as a PyPy for Windows: a ``.zip`` (as PyPy publishes them) whose
    interpreter is ``pypy3.X.exe`` (the same executable under PyPy's name)."""
    from tui.engine.host import current_host

    host = current_host()
    top = f"pypy{MINOR}-v{PYPY_BUILD}-win64"
    files = interpreter_files()
    files[f"pypy{MINOR}.exe"] = files.pop("python.exe")
    key = f"pypy-{VERSION}-windows-{host.arch}-none"
    data = _archive("zip", top, files)
    return WindowsBuild(key, f"{top}.zip", data, top, _row("pypy", host, PYPY_BUILD))


def serve(root: Path, base_url: str, builds: list[WindowsBuild], catalog: Path) -> None:
    """Put ``builds`` under the server's ``root`` and write their catalog at ``catalog``."""
    rows = {}
    for build in builds:
        target = root / build.row["build"] / build.filename
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(build.data)
        rows[build.key] = {**build.row, "url": base_url + build.url_path, "sha256": build.sha256}
    catalog.write_text(json.dumps(rows, indent=1), encoding="utf-8")

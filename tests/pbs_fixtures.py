"""Tiny python-build-standalone style archives and a uv download-metadata.json catalog.

Archives are byte-for-byte deterministic so tests can pin sha256 values and compare caches.
Place an archive under ``<server root>/<build>/`` to match the URLs that ``catalog_json`` emits.
PYTEST_DONT_REWRITE: no asserts here, and conftest imports it before registering it.
"""

from __future__ import annotations

import ast
import atexit
import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import random
import re
import shutil
import sys
import sysconfig
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import pytest

MTIME = 1_700_000_000  # fixed so identical arguments give identical bytes
ARCH, OS, LIBC = "x86_64", "linux", "gnu"
# Directories a real pbs install_only build lacks or that only bloat the archive.
_STDLIB_EXCLUDE = {
    "site-packages",
    "test",
    "idlelib",
    "tkinter",
    "turtledemo",
    "ensurepip",
    "lib2to3",
    "__pycache__",
}


@dataclass(frozen=True)
class ArchiveSpec:
    path: Path
    filename: str
    sha256: str
    size: int
    implementation: str
    version: str
    major: int
    minor: int
    patch: int
    prerelease: str
    variant: str | None
    build: str
    os: str
    arch: str
    libc: str
    key: str  # uv installation key, e.g. cpython-3.13.1+freethreaded-linux-x86_64-gnu
    top: str  # top-level directory inside the archive ("python" for cpython)
    executable: str  # member path of the interpreter binary, e.g. python/bin/python3.12


Member = tuple[tarfile.TarInfo, bytes | None]
_AnyMember = tuple[tarfile.TarInfo, bytes | Path | None]  # Path: stream from disk


def _info(
    name: str, kind: bytes = tarfile.REGTYPE, mode: int = 0o644, size: int = 0, link: str = ""
) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.size, ti.linkname, ti.mtime = kind, mode, size, link, MTIME
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    return ti


def _file(name: str, data: bytes, mode: int = 0o644) -> Member:
    return _info(name, mode=mode, size=len(data)), data


def _with_dirs(members: list[_AnyMember]) -> list[_AnyMember]:
    # Real tarballs carry explicit directory entries; extractors must cope with them.
    dirs = {str(p) for ti, _ in members for p in Path(ti.name).parents if str(p) != "."}
    out: list[_AnyMember] = [(_info(d, tarfile.DIRTYPE, 0o755), None) for d in dirs]
    out += members
    return sorted(out, key=lambda m: m[0].name)


def _write_tar(path: Path, members: Iterable[_AnyMember], fmt: str, level: int = 9) -> None:
    # Compress ourselves: tarfile's gzip mode stamps the current time into the header.
    opener: dict[str, Callable[[BinaryIO], BinaryIO]] = {
        "gz": lambda f: gzip.GzipFile(
            filename="", mode="wb", fileobj=f, mtime=0, compresslevel=level
        ),
        "bz2": lambda f: bz2.BZ2File(f, "wb"),
        "xz": lambda f: lzma.LZMAFile(f, "wb"),  # noqa: SIM115 (closed by the with below)
    }
    with (
        path.open("wb") as raw,
        opener[fmt](raw) as comp,
        tarfile.TarFile(fileobj=comp, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for ti, data in members:
            if isinstance(data, Path):
                with data.open("rb") as f:
                    tar.addfile(ti, f)
            else:
                ti.size = len(data) if data is not None else ti.size
                tar.addfile(ti, io.BytesIO(data) if data is not None else None)


def _spec(
    path: Path,
    *,
    implementation: str,
    version: str,
    build: str,
    variant: str | None,
    top: str,
    executable: str,
) -> ArchiveSpec:
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)((?:a|b|rc)\d+)?", version)
    if not m:
        raise ValueError(f"bad version {version!r}")
    major, minor, patch = (int(g) for g in m.groups()[:3])
    prerelease = m.group(4) or ""
    key = f"{implementation}-{version}{'+' + variant if variant else ''}-{OS}-{ARCH}-{LIBC}"
    with path.open("rb") as f:
        sha256 = hashlib.file_digest(f, "sha256").hexdigest()
    return ArchiveSpec(
        path=path,
        filename=path.name,
        sha256=sha256,
        size=path.stat().st_size,
        implementation=implementation,
        version=version,
        major=major,
        minor=minor,
        patch=patch,
        prerelease=prerelease,
        variant=variant,
        build=build,
        os=OS,
        arch=ARCH,
        libc=LIBC,
        key=key,
        top=top,
        executable=executable,
    )


_MEMO_MAX_KIB = 1024  # larger archives are rare and would sit in memory for the whole run
_made: dict[tuple[object, ...], tuple[bytes, ArchiveSpec]] = {}


def make_archive(
    dest_dir: Path,
    *,
    implementation: str = "cpython",
    version: str = "3.12.7",
    build: str = "20991231",
    variant: str | None = None,
    triple: str = "x86_64-unknown-linux-gnu",
    payload_kib: int = 64,
    extra_members: list[Member] | None = None,
    fmt: str | None = None,
    pypy_version: str = "7.3.17",
    interpreter: str | None = None,
    interpreter_mode: int = 0o755,
) -> ArchiveSpec:
    """Write a fake interpreter archive into dest_dir.

    ``fmt`` defaults to "gz" for cpython and "bz2" for pypy (as upstream ships them).
    ``extra_members`` are appended after the sorted regular members, in the given order, so
    tests can craft hostile entries (``../`` paths, escaping symlinks) exactly where they want.
    ``interpreter`` replaces the shim script (``""`` leaves the interpreter out, so the archive
    holds no ``bin/python3.X``), ``interpreter_mode`` its permissions.
    """
    if variant not in (None, "freethreaded", "debug"):
        raise ValueError(f"bad variant {variant!r}")
    # The same arguments make the same bytes: a small archive is built once per process and
    # written out again (every test's world serves the same few).
    memo_key = (
        implementation, version, build, variant, triple, payload_kib, fmt, pypy_version,
        interpreter, interpreter_mode,
    )  # fmt: skip
    cacheable = extra_members is None and payload_kib <= _MEMO_MAX_KIB
    if cacheable and memo_key in _made:
        data, made = _made[memo_key]
        dest_dir.mkdir(parents=True, exist_ok=True)
        (dest_dir / made.filename).write_bytes(data)
        return replace(made, path=dest_dir / made.filename)
    mm = ".".join(version.split(".")[:2])
    if implementation == "cpython":
        fmt = fmt or "gz"
        suffix = {
            None: "install_only_stripped",
            "debug": "debug-install_only",
            "freethreaded": "freethreaded-install_only_stripped",
        }[variant]
        filename = f"cpython-{version}+{build}-{triple}-{suffix}.tar.{fmt}"
        top, exe, libdir = "python", f"python{mm}", f"python{mm}"
        if variant == "freethreaded":  # free-threaded builds name everything with a "t"
            exe, libdir = f"python{mm}t", f"python{mm}t"
        links = sorted({f"python{mm}", "python3", "python"} - {exe})
    elif implementation == "pypy":
        fmt = fmt or "bz2"
        top = f"pypy{mm}-v{pypy_version}-linux64"
        filename = f"{top}.tar.{fmt}"
        exe, libdir = f"pypy{mm}", f"pypy{mm}"
        links = ["pypy3", "python", "python3"]
    else:
        raise ValueError(f"bad implementation {implementation!r}")

    # Stands in for the interpreter: answers pyshelf's probe (any ``-c``) the way a real one
    # of this version would, and otherwise says which fake it is.
    numbers = re.match(r"\d+\.\d+\.\d+", version)[0]  # type: ignore[index]
    abiflags = {"freethreaded": "t", "debug": "d"}.get(variant or "", "")
    abiflags = abiflags if implementation == "cpython" else ""
    if interpreter is None:
        interpreter = (
            "#!/bin/sh\n"
            f'for arg; do [ "$arg" = -c ] && {{ echo "{numbers} {abiflags}"; exit 0; }}; done\n'
            f"echo fake-{implementation}-{version}\n"
        )
    script = interpreter.encode()
    # Seeded from the arguments: incompressible (realistic sizes) yet reproducible.
    seed = f"{implementation}-{version}-{build}-{variant}-{triple}"
    rng = random.Random(seed)
    step = 64 << 20  # randbytes overflows past 256 MiB in one call
    size = payload_kib * 1024
    payload = b"".join(rng.randbytes(min(step, size - i)) for i in range(0, size, step))
    lib = f"{top}/lib/{libdir}"
    members: list[Member] = [
        *([_file(f"{top}/bin/{exe}", script, interpreter_mode)] if script else []),
        *((_info(f"{top}/bin/{name}", tarfile.SYMTYPE, 0o777, link=exe), None) for name in links),
        _file(f"{lib}/os.py", b"# fake os module\n"),
        # uv refuses an install without one (it rewrites the build-time prefix in it).
        _file(
            f"{lib}/_sysconfigdata__linux_x86_64-linux-gnu.py",
            b"# system configuration generated and used by the sysconfig module\n"
            b"build_time_vars = {'prefix': '/install', 'LIBDIR': '/install/lib'}\n",
        ),
        _file(f"{lib}/encodings/__init__.py", b""),
        _file(
            f"{lib}/site-packages/README.txt",
            b"This directory exists so that 3rd party packages can be placed here.\n",
        ),
        _file(f"{top}/include/{libdir}/Python.h", b"/* fake header */\n"),
        _file(f"{lib}/payload.bin", payload),
    ]
    dest_dir.mkdir(parents=True, exist_ok=True)
    path = dest_dir / filename
    _write_tar(path, _with_dirs(members) + list(extra_members or []), fmt)
    spec = _spec(
        path,
        implementation=implementation,
        version=version,
        build=build,
        variant=variant,
        top=top,
        executable=f"{top}/bin/{exe}",
    )
    if cacheable:
        _made[memo_key] = (path.read_bytes(), spec)
    return spec


def _real_members(full: bool = False) -> Iterator[tuple[Path, str]]:
    """(source, member name) pairs for the running interpreter's installation; ``full`` keeps
    the test suite and the rest of the stdlib, as a real pbs archive does."""
    mm = f"{sys.version_info.major}.{sys.version_info.minor}"
    base = Path(sys.base_prefix)
    exe = base / "bin" / f"python{mm}"
    # A venv's sys.executable is only a symlink; the base prefix holds the real binary.
    real = exe if exe.exists() else Path(os.path.realpath(sys.executable))
    yield real, f"python/bin/python{mm}"
    libdir = Path(sysconfig.get_config_var("LIBDIR") or base / "lib")
    ldlib = sysconfig.get_config_var("LDLIBRARY") or ""
    if sysconfig.get_config_var("Py_ENABLE_SHARED") and ldlib:
        for so in sorted(libdir.glob(f"{ldlib}*")):
            yield so, f"python/lib/{so.name}"
    stdlib = Path(sysconfig.get_paths()["stdlib"])  # the base install's, even inside a venv
    for dirpath, dirnames, filenames in os.walk(stdlib):
        skip = {"site-packages", "__pycache__"} if full else _STDLIB_EXCLUDE
        dirnames[:] = sorted(d for d in dirnames if d not in skip and not d.startswith("config-"))
        for name in sorted(filenames):
            src = Path(dirpath, name)
            yield src, f"python/lib/python{mm}/{src.relative_to(stdlib).as_posix()}"


def pbs_build_vars(source: Path) -> dict[str, Any]:
    """The running interpreter's build-time variables as python-build-standalone records them.

    Its prefix becomes the build prefix ``/install`` (where it is a whole path), and the
    compiler settings are those of a pbs build machine, with the words that tripped fix-ups
    before: ``/usr/bin/install``, ``-L/install/lib``, ``--prefix=/install``, doubled spaces.
    """
    data = ast.literal_eval(source.read_text().partition("build_time_vars = ")[2].strip())
    base = sys.base_prefix.rstrip("/")
    if base not in ("", "/usr", "/usr/local"):  # a system prefix is no distinctive string
        whole = re.compile(re.escape(base) + r"(?![\w.+-])")
        data = {k: whole.sub("/install", v) if isinstance(v, str) else v for k, v in data.items()}
    mm = f"{sys.version_info.major}.{sys.version_info.minor}"
    data.update({
        "prefix": "/install", "exec_prefix": "/install", "BINDIR": "/install/bin",
        "LIBDIR": "/install/lib", "INCLUDEDIR": "/install/include",
        "INCLUDEPY": f"/install/include/python{mm}", "LIBDEST": f"/install/lib/python{mm}",
        "BINLIBDEST": f"/install/lib/python{mm}", "LIBPC": "/install/lib/pkgconfig",
        "CONFIG_ARGS": "'--build=x86_64-pc-linux-gnu' '--prefix=/install' '--with-lto'",
        "CC": "clang -pthread", "CXX": "clang++ -pthread", "LINKCC": "clang -pthread",
        "LDSHARED": "clang -pthread -shared -L/tools/deps/lib  -L/install/lib",
        "BLDSHARED": "clang -pthread -shared -L/tools/deps/lib  -L/install/lib",
        "LDCXXSHARED": "clang++ -pthread -shared", "AR": "/tools/llvm/bin/llvm-ar",
        "INSTALL": "/usr/bin/install -c", "INSTALL_DATA": "${INSTALL} -m 644",
        "CFLAGS": "-Wsign-compare  -DNDEBUG -g -O3 -Wall -I/tools/deps/include",
    })  # fmt: skip
    return data


_real_cache: dict[tuple[bool, bool], ArchiveSpec] = {}


def make_real_archive(
    dest_dir: Path, *, build_prefix: bool = False, full: bool = False
) -> ArchiveSpec:
    """Archive the interpreter running the tests in pbs layout, so installs can really run it.

    With ``build_prefix`` its ``_sysconfigdata`` is the one a pbs build ships (see
    pbs_build_vars), for comparing fix-ups with uv's. ``full`` archives the whole stdlib with
    its tests at gzip level 6, about the entry count and size of a real pbs archive (for
    benchmarks). Built once per process and kind (it takes seconds); later calls copy the
    cached file into dest_dir.
    """
    kind = (build_prefix, full)
    if kind not in _real_cache:
        # Private build dir so dest_dir holds only the archive; removed at interpreter exit.
        build_dir = Path(tempfile.mkdtemp(prefix="pyshelf-real-pbs-"))
        atexit.register(shutil.rmtree, build_dir, ignore_errors=True)
        mm = f"{sys.version_info.major}.{sys.version_info.minor}"
        members: list[_AnyMember] = []
        for src, name in _real_members(full):
            if src.is_symlink():  # keep libpython3.X.so -> libpython3.X.so.1.0 style links
                members.append((_info(name, tarfile.SYMTYPE, 0o777, link=os.readlink(src)), None))
            elif build_prefix and src.name.startswith("_sysconfigdata_") and src.suffix == ".py":
                data = (
                    "# system configuration generated and used by the sysconfig module\n"
                    f"build_time_vars = {json.dumps(pbs_build_vars(src), indent=4)}\n"
                ).encode()
                members.append(_file(name, data))
            else:
                st = src.stat()
                members.append((_info(name, mode=st.st_mode & 0o777, size=st.st_size), src))
        members += [
            (_info(f"python/bin/{n}", tarfile.SYMTYPE, 0o777, link=f"python{mm}"), None)
            for n in ("python3", "python")
        ]
        version = ".".join(map(str, sys.version_info[:3]))
        triple = f"{ARCH}-unknown-{OS}-{LIBC}"
        path = build_dir / f"cpython-{version}+20991231-{triple}-install_only_stripped.tar.gz"
        # Level 1 for tests (speed over size); 6, like real archives, for benchmarks.
        _write_tar(path, _with_dirs(members), "gz", level=6 if full else 1)
        _real_cache[kind] = _spec(
            path, implementation="cpython", version=version, build="20991231", variant=None,
            top="python", executable=f"python/bin/python{mm}",
        )  # fmt: skip
    cached = _real_cache[kind]
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / cached.filename
    if target != cached.path:
        shutil.copyfile(cached.path, target)
    return replace(cached, path=target)


def archive_url(spec: ArchiveSpec, base_url: str) -> str:
    # Mirrors pbs release URLs: the "+" in file names is percent-encoded as %2B.
    return f"{base_url.rstrip('/')}/{spec.build}/{quote(spec.filename, safe='')}"


def catalog_json(specs: Iterable[ArchiveSpec], base_url: str) -> dict[str, dict[str, Any]]:
    """uv's download-metadata.json mapping for the given archives."""
    return {
        s.key: {
            "name": s.implementation,
            "arch": {"family": s.arch, "variant": None},
            "os": s.os,
            "libc": s.libc,
            "major": s.major,
            "minor": s.minor,
            "patch": s.patch,
            "prerelease": s.prerelease,
            "url": archive_url(s, base_url),
            "sha256": s.sha256,
            "variant": s.variant,
            "build": s.build,
        }
        for s in specs
    }


@pytest.fixture(scope="session")
def real_pbs_archive(tmp_path_factory: pytest.TempPathFactory) -> ArchiveSpec:
    """The running interpreter packaged as a pbs archive (built once per session)."""
    return make_real_archive(tmp_path_factory.mktemp("real-pbs"))


@pytest.fixture(scope="session")
def next_patch_archive(
    real_pbs_archive: ArchiveSpec, tmp_path_factory: pytest.TempPathFactory
) -> ArchiveSpec:
    """real_pbs_archive published as the next patch: the same interpreter, re-compressed so
    its sha256 differs (built once per session; tests serve copies of it)."""
    old = real_pbs_archive
    version = f"{old.major}.{old.minor}.{old.patch + 1}"
    path = tmp_path_factory.mktemp("next-patch") / old.filename.replace(old.version, version)
    # Level 1 as the original: a level-9 pass over the whole tar took ten seconds.
    path.write_bytes(gzip.compress(gzip.decompress(old.path.read_bytes()), 1, mtime=1))
    with path.open("rb") as f:
        sha256 = hashlib.file_digest(f, "sha256").hexdigest()
    return replace(
        old, path=path, filename=path.name, version=version, patch=old.patch + 1,
        sha256=sha256, size=path.stat().st_size, key=old.key.replace(old.version, version),
    )  # fmt: skip


@pytest.fixture(scope="session")
def build_prefix_archive(tmp_path_factory: pytest.TempPathFactory) -> ArchiveSpec:
    """As real_pbs_archive, with the build-time variables of a real pbs build (``/install``)."""
    return make_real_archive(tmp_path_factory.mktemp("real-pbs-prefix"), build_prefix=True)

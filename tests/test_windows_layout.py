"""The Windows rules, run on Linux: where an install for Windows keeps its interpreter and
its EXTERNALLY-MANAGED (uv's managed.rs), no links attempted on a Windows host (the system
simulated through ``hostos.system``), and .zip rows fetched whole before they are unpacked.
tests/windows runs the same paths for real in a Windows interpreter under wine."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import pytest

from tests.conftest import World, build_world
from tests.loopback import LoopbackServer
from tests.pbs_fixtures import make_archive
from tui.engine import hostos
from tui.engine.builds import Build
from tui.engine.installs.fixups import patch_installation
from tui.engine.installs.installation import interpreter_in
from tui.engine.installs.installdir import InstallDir
from tui.engine.installs.keys import parse_key
from tui.engine.shelf import Shelf

UV_EXTERNALLY_MANAGED = (
    b"[externally-managed]\n"
    b"Error=This Python installation is managed by uv and should not be modified.\n"
)


@pytest.mark.parametrize(
    ("key", "where"),
    [
        ("cpython-3.13.2-windows-x86_64-none", "python.exe"),
        ("cpython-3.13.2+freethreaded-windows-x86_64-none", "python.exe"),
        ("cpython-3.12.7+debug-windows-x86-none", "python.exe"),
        ("pypy-3.11.13-windows-x86_64-none", "pypy3.11.exe"),
        ("graalpy-3.11.7-windows-x86_64-none", "bin/graalpy.exe"),
        ("cpython-3.13.2+freethreaded-linux-x86_64-gnu", "bin/python3.13t"),
        ("pypy-3.10.14-linux-x86_64-gnu", "bin/pypy3.10"),
        ("graalpy-3.11.7-macos-aarch64-none", "bin/graalpy"),
    ],
)
def test_where_the_interpreter_lies(key: str, where: str) -> None:
    parts = parse_key(key)
    assert parts is not None and parts.interpreter_path == where


def test_a_free_threaded_build_without_python_exe_runs_python3Xt_exe(tmp_path: Path) -> None:
    parts = parse_key("cpython-3.13.0+freethreaded-windows-x86_64-none")
    assert parts is not None
    assert interpreter_in(tmp_path, parts) == tmp_path / "python3.13t.exe"
    (tmp_path / "python.exe").write_bytes(b"MZ")
    assert interpreter_in(tmp_path, parts) == tmp_path / "python.exe"


def test_a_build_for_windows_is_only_marked_externally_managed(tmp_path: Path) -> None:
    parts = parse_key("cpython-3.13.2-windows-x86_64-none")
    assert parts is not None
    (tmp_path / "Lib").mkdir()
    sysconfigdata = tmp_path / "Lib" / "_sysconfigdata__win32_.py"  # not that uv patches one
    sysconfigdata.write_text("build_time_vars = {'prefix': '/install'}\n")
    patch_installation(tmp_path, tmp_path / "final", parts)
    assert (tmp_path / "Lib" / "EXTERNALLY-MANAGED").read_bytes() == UV_EXTERNALLY_MANAGED
    assert sysconfigdata.read_text() == "build_time_vars = {'prefix': '/install'}\n"
    assert sorted(os.listdir(tmp_path)) == ["Lib"]


def test_on_windows_no_link_is_attempted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hostos, "system", lambda: hostos.WINDOWS)
    spec = make_archive(tmp_path / "www", version="3.12.7")
    idir = InstallDir(tmp_path / "installs", tmp_path / "bin")
    build = Build(
        spec.implementation, spec.major, spec.minor, spec.patch, spec.prerelease, spec.variant,
        spec.os, spec.arch, spec.libc, spec.build, url=None, sha256=spec.sha256,
    )  # fmt: skip
    result = idir.install(spec.path, build)
    assert result.bin_link is None
    assert [w.split(" (")[0] for w in result.warnings] == [
        f"no python3.12.exe made in {tmp_path / 'bin'}"
    ]
    assert sorted(os.listdir(idir.root)) == [".gitignore", ".lock", ".temp", spec.key]
    assert not (tmp_path / "bin").exists()
    assert idir.repair() == ()  # and the repair pass makes no minor link either
    made, warnings = idir.link_bin(spec.key, default=True, force=False) or ([], ())
    assert made == ([], []) and "python3.12.exe, python3.exe, python.exe" in warnings[0]
    idir.uninstall(spec.key)
    assert sorted(os.listdir(idir.root)) == [".gitignore", ".lock", ".temp"]


def _zip_world(root: Path, server: LoopbackServer) -> tuple[World, str]:
    """A world whose one row is a .zip (python-build-standalone's layout, a shell script as
    its interpreter)."""
    world = build_world(root, server, archives=[])
    script = b'#!/bin/sh\nfor a; do [ "$a" = -c ] && { echo "3.12.7 "; exit 0; }; done\n'
    name = "cpython-3.12.7+20991231-x86_64-unknown-linux-gnu-install_only_stripped.zip"
    path = server.root / "20991231" / name
    path.parent.mkdir(parents=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data, mode in (
            ("python/bin/python3.12", script, 0o755),
            ("python/lib/python3.12/os.py", b"# os\n", 0o644),
        ):
            info = zipfile.ZipInfo(member, (2024, 1, 1, 0, 0, 0))
            info.create_system, info.external_attr = 3, (0o100000 | mode) << 16
            archive.writestr(info, data)
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    row = {"name": "cpython", "arch": {"family": "x86_64", "variant": None}, "os": "linux",
           "libc": "gnu", "major": 3, "minor": 12, "patch": 7, "prerelease": "", "variant": None,
           "build": "20991231", "url": f"{server.url}/20991231/{name.replace('+', '%2B')}",
           "sha256": sha256}  # fmt: skip
    world.catalog_path.write_text(json.dumps({"cpython-3.12.7-linux-x86_64-gnu": row}))
    return world, f"{sha256[:9]}-{name.replace('+', '-')}"


@pytest.mark.parametrize("links", [True, False])
def test_a_zip_row_is_fetched_whole_then_unpacked(
    tmp_path: Path, loopback_server: LoopbackServer, monkeypatch: pytest.MonkeyPatch, links: bool
) -> None:
    if not links:  # a cache where unpacked copies cannot be linked: straight from the archive
        monkeypatch.setattr(Shelf, "can_link", lambda self: False)
    world, cached = _zip_world(tmp_path, loopback_server)
    code, _, err = world.cli("install", "3.12")
    assert code == 0, err
    assert err.index("downloading") < err.index("extracting")
    assert (world.root / "cache" / cached).is_file()
    gets = [r for r in loopback_server.requests if r.method == "GET"]
    assert len(gets) == 1 and gets[0].path.endswith(".zip")
    install = world.root / "installs" / "cpython-3.12.7-linux-x86_64-gnu"
    assert os.access(install / "bin" / "python3.12", os.X_OK)
    assert (install / "lib" / "python3.12" / "EXTERNALLY-MANAGED").is_file()

"""pyshelf's commands on Windows, end to end: ``list``, ``fetch``, ``verify``, ``du``,
``doctor``, ``export``, ``import``, ``install``, ``reinstall`` and ``uninstall`` run in-process
through ``tui.cli.main`` against a catalog of builds for Windows (``windows_builds``: this very
interpreter packed as python-build-standalone's ``.tar.gz`` and ``.zip``, and as a PyPy
``.zip``) served from a real HTTP server on 127.0.0.1. .ci/windows runs it under wine with the
embeddable CPython; on every other system it is skipped.

What wine cannot judge is not checked here: wine's locks are its wineserver's, not NTFS's
(uv's and pyshelf's ``LockFileEx`` on the install dir's ``.lock`` may or may not exclude each
other on a real Windows); it makes no junctions; it lets a folder with open files be renamed,
which Windows refuses (an uninstall or reinstall while the interpreter runs); its disk is
the host's case-sensitive one; and its hard links are the host's. The trampolines
(``python3.X.exe`` in the bin dir), minor-version junctions and PEP 514 registry keys uv makes
are not made by pyshelf yet: the tests check that nothing is attempted in their place.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from windows_builds import MINOR, WindowsBuild, cpython_build, pypy_build, serve

from tests.loopback import LoopbackServer

pytestmark = pytest.mark.skipif(sys.platform != "win32", reason="Windows only")

# uv's Lib\EXTERNALLY-MANAGED, byte for byte (crates/uv-python/src/managed.rs).
UV_EXTERNALLY_MANAGED = (
    b"[externally-managed]\n"
    b"Error=This Python installation is managed by uv and should not be modified.\n"
)


@pytest.fixture(autouse=True)
def windows_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of the test's own: %APPDATA% (uv's data), %USERPROFILE%, and the current
    folder, so nothing of the machine's (or, under wine, of the host's environment) is seen."""
    for name in list(os.environ):
        if name.startswith(("UV_", "XDG_", "PYENV", "ASDF_", "MISE_", "PYSHELF_", "SSL_CERT")):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    for name, path in (("USERPROFILE", home), ("HOME", home), ("APPDATA", home / "Roaming"),
                       ("LOCALAPPDATA", home / "Local")):  # fmt: skip
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(path))
    monkeypatch.setenv("UV_PYTHON_BIN_DIR", str(home / ".local" / "bin"))
    monkeypatch.chdir(tmp_path)
    return home


class Windows:
    """A catalog of builds for Windows on a loopback server, and the CLI run against it."""

    def __init__(self, root: Path, server: LoopbackServer, builds: list[WindowsBuild]) -> None:
        self.root, self.server = root, server
        self.catalog = root / "catalog.json"
        serve(server.root, server.url, builds, self.catalog)

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def installs(self) -> Path:
        """uv's install dir when UV_PYTHON_INSTALL_DIR is unset: %APPDATA%\\uv\\python."""
        return Path(os.environ["APPDATA"]) / "uv" / "python"

    @property
    def bin_dir(self) -> Path:
        return Path(os.environ["UV_PYTHON_BIN_DIR"])

    def cli(self, *args: str) -> tuple[int, str, str]:
        """``pyshelf --cache-dir … --catalog … ARGS`` in-process: (exit status, stdout, stderr)."""
        from tui.cli.main import main

        out, err = io.StringIO(), io.StringIO()
        base = ["--cache-dir", str(self.cache), "--catalog", str(self.catalog)]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([*base, *args])
        return code, out.getvalue(), err.getvalue()

    def archive_gets(self, build: WindowsBuild) -> int:
        return sum(r.method == "GET" and r.path == build.url_path for r in self.server.requests)


@contextlib.contextmanager
def serving(tmp_path: Path, *builds: WindowsBuild) -> Iterator[Windows]:
    www = tmp_path / "www"
    www.mkdir()
    with LoopbackServer(www) as server:
        yield Windows(tmp_path, server, list(builds))


def cached_name(build: WindowsBuild) -> str:
    """uv's name for an archive in UV_PYTHON_CACHE_DIR: its sha256's first 9 hex digits, a
    dash, and its file name with "+" written "-" (downloads.rs)."""
    return f"{build.sha256[:9]}-{build.filename.replace('+', '-')}"


def leftovers(root: Path) -> list[str]:
    """What an install dir holds besides uv's scaffolding (.lock, .gitignore, empty .temp)."""
    found = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    return [p for p in found if p not in (".lock", ".gitignore", ".temp")]


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_list_fetch_verify_du_and_doctor(tmp_path: Path, fmt: str) -> None:
    build = cpython_build(fmt)
    with serving(tmp_path, build) as world:
        code, out, _ = world.cli("list", "--json")
        assert code == 0 and [row["key"] for row in json.loads(out)] == [build.key], out
        code, _, err = world.cli("fetch", MINOR)
        assert code == 0, err
        assert sorted(os.listdir(world.cache)) == [".pyshelf", cached_name(build)]
        assert (world.cache / cached_name(build)).read_bytes() == build.data
        code, out, err = world.cli("verify")
        assert code == 0 and "verified 1 archive and 0 unpacked copies: all match" in err, err
        code, out, err = world.cli("du", "--json")
        assert code == 0, err
        items = [item for group in json.loads(out)["groups"] for item in group["items"]]
        archive = next(i for i in items if i["kind"] == "archive")
        state = next(i for i in items if i["name"] == "(pyshelf state, dirs)")
        assert archive["size"] == len(build.data)
        assert state["size"] < len(build.data)  # the archive is not counted twice
        code, out, err = world.cli("doctor", "--json")
        checks = {c["check"]: c for c in map(json.loads, out.splitlines())}
        assert code == 0 and all(c["ok"] for c in checks.values()), out + err
        assert checks["cpython archives"]["detail"].startswith(f"{build.filename}: HTTP 200")


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_install_lands_where_uv_looks_and_uninstall_leaves_nothing(
    tmp_path: Path, fmt: str
) -> None:
    build = cpython_build(fmt)
    with serving(tmp_path, build) as world:
        code, _, err = world.cli("install", MINOR)
        assert code == 0, err
        if fmt == "zip":  # downloaded whole into the cache, then unpacked from there
            assert err.index("downloading") < err.index("extracting")
            assert (world.cache / cached_name(build)).read_bytes() == build.data
        assert world.archive_gets(build) == 1
        warnings = [line for line in err.splitlines() if line.startswith("pyshelf: warning")]
        assert len(warnings) == 1 and f"no python{MINOR}.exe made in" in warnings[0], err
        install = world.installs / build.key
        assert sorted(os.listdir(world.installs)) == [".gitignore", ".lock", ".temp", build.key]
        python = (Path(sys.base_prefix) / "python.exe").read_bytes()
        assert (install / "python.exe").read_bytes() == python  # at the root, byte for byte
        assert (install / "Lib" / "EXTERNALLY-MANAGED").read_bytes() == UV_EXTERNALLY_MANAGED
        assert (install / "BUILD").read_bytes() == b"20991231"
        assert not world.bin_dir.exists() or os.listdir(world.bin_dir) == []
        ran = subprocess.run(
            [install / "python.exe", "-c", "import sys; print(sys.prefix)"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert ran.returncode == 0 and Path(ran.stdout.strip()) == install, ran
        code, out, err = world.cli("find", MINOR)  # the path uv python find prints
        assert code == 0 and Path(out.strip()) == install / "python.exe", out + err

        code, _, err = world.cli("reinstall", MINOR)  # from the kept copy, by hard links
        assert code == 0 and "linking" in err and "extracting" not in err, err
        assert (install / "Lib" / "EXTERNALLY-MANAGED").read_bytes() == UV_EXTERNALLY_MANAGED
        code, out, err = world.cli("verify")
        assert code == 0 and "verified 1 archive and 1 unpacked copy: all match" in err, err

        code, out, err = world.cli("uninstall", "--yes", MINOR)
        assert code == 0, out + err
        assert leftovers(world.installs) == []
        assert not (world.cache / ".pyshelf" / "unpacked" / build.sha256[:16]).exists()
        assert (world.cache / cached_name(build)).exists()  # the archive stays cached


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_install_straight_from_the_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """Where unpacked copies cannot be linked (a cache on another drive), the archive is
    unpacked into the install dir: as it downloads (a tar), or once fetched (a zip)."""
    from tui.engine.shelf import Shelf

    monkeypatch.setattr(Shelf, "can_link", lambda self: False)
    build = cpython_build(fmt)
    with serving(tmp_path, build) as world:
        code, _, err = world.cli("install", MINOR)
        assert code == 0, err
        assert (world.installs / build.key / "python.exe").is_file()
        assert os.listdir(world.installs / ".temp") == []  # nothing left of the unpacking
        code, _, err = world.cli("uninstall", "--yes", MINOR)
        assert code == 0 and leftovers(world.installs) == [], err


def test_a_zip_that_is_not_its_sha256_installs_nothing(tmp_path: Path) -> None:
    build = cpython_build("zip")
    with serving(tmp_path, build) as world:
        rows = json.loads(world.catalog.read_text(encoding="utf-8"))
        rows[build.key]["sha256"] = "0" * 64
        world.catalog.write_text(json.dumps(rows), encoding="utf-8")
        code, _, err = world.cli("install", MINOR)
        assert code == 1 and "sha256" in err, err
        assert leftovers(world.installs) == []
        assert not (world.cache / cached_name(build)).exists()


def test_a_pypy_zip_installs_with_its_own_executable(tmp_path: Path) -> None:
    build = pypy_build()
    with serving(tmp_path, build) as world:
        code, _, err = world.cli("install", f"pypy@{MINOR}")
        assert code == 0, err
        install = world.installs / build.key
        assert (install / f"pypy{MINOR}.exe").is_file() and not (install / "python.exe").exists()
        assert (install / "Lib" / "EXTERNALLY-MANAGED").read_bytes() == UV_EXTERNALLY_MANAGED
        assert f"no pypy{MINOR}.exe made in" in err
        code, _, err = world.cli("uninstall", "--yes", f"pypy@{MINOR}")
        assert code == 0 and leftovers(world.installs) == [], err


def test_install_default_says_which_executables_are_not_made(tmp_path: Path) -> None:
    build = cpython_build("tar.gz")
    with serving(tmp_path, build) as world:
        code, _, err = world.cli("install", "--default", MINOR)
        assert code == 0, err
        assert f"no python{MINOR}.exe, python3.exe, python.exe made in" in err, err
        assert not world.bin_dir.exists() or os.listdir(world.bin_dir) == []


def test_export_then_import_into_another_cache(tmp_path: Path) -> None:
    build = cpython_build("zip")
    with serving(tmp_path, build) as world:
        bundle = tmp_path / "bundle"
        code, _, err = world.cli("export", str(bundle), MINOR)
        assert code == 0, err
        exported = [p for p in bundle.rglob("*") if p.name == build.filename]
        assert [p.read_bytes() for p in exported] == [build.data]
        world.root = tmp_path / "elsewhere"  # a second cache, which imports the bundle
        world.root.mkdir()
        code, _, err = world.cli("import", str(bundle))
        assert code == 0, err
        assert (world.cache / cached_name(build)).read_bytes() == build.data
        world.root = tmp_path / "offline"  # the bundle as a mirror and catalog: file: URLs
        world.root.mkdir()
        catalog = (bundle / "download-metadata.json").as_uri()  # file:///C:/...
        mirror = ["--mirror", bundle.as_uri(), "--catalog", catalog]
        code, _, err = world.cli(*mirror, "install", MINOR)
        assert code == 0, err
        assert (world.installs / build.key / "python.exe").is_file()
        assert world.archive_gets(build) == 1  # the export's: nothing since came from the server


def test_uv_legacy_data_dir_is_taken_only_while_it_exists(windows_home: Path) -> None:
    from tui.engine.settings import Settings

    appdata = windows_home / "Roaming"
    assert Settings().install_dir == appdata / "uv" / "python"
    (appdata / "uv" / "data").mkdir(parents=True)
    assert Settings().install_dir == appdata / "uv" / "data" / "python"

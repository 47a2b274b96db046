"""`pyshelf pin` writes the bytes `uv python pin` writes, and shows the pin in force."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import pytest

from tests.conftest import World
from tests.uvtool import run_uv
from tui.cli.main import main
from tui.engine.requests.pins import find_pins

# What uv accepts offline, in the forms people type: uv rewrites most of them.
REQUESTS = [
    "3.12", "3.12.1", "cpython@3.12", "pypy@3.10", "pypy3.10", "cp312", "312", "3", "3.13t",
    "3.13td", "3.13d", "3.14+gil", "3.14.0rc1", "3.14.1rc1", "3.12.0", "03.012", "graalpy@24",
    "python@3.12", "CPython@3.12", "pp310", "gp", "cpython", "any", "default",
    ">=3.12", "<3.14,>=3.12", ">= 3.12 , <3.14", "==3.12.*", "~=3.12", "==3.12.*,!=3.12.1",
    "cpython-3.12.7-linux-x86_64-gnu", "cpython-3.12", "pypy-3.10", "any-3.11-linux",
    "cpython-3.13t-linux", "cpython-3.12-darwin-arm64", "cpython-3.12-linux-i686-gnu",
    "cpython-3.14.0rc1",
]  # fmt: skip


def _uv_env(root: Path) -> dict[str, str]:
    """uv offline, with nothing installed and nothing to download: `pin` only writes."""
    return {
        "UV_PYTHON_INSTALL_DIR": str(root / "uv-installs"),
        "UV_CACHE_DIR": str(root / "uv-cache"),
        "UV_OFFLINE": "1",
        "UV_PYTHON_DOWNLOADS": "never",
        "HOME": str(root / "home"),
        "XDG_CONFIG_HOME": str(root / "config"),
        "PATH": "/nonexistent",  # no interpreter to query on the way
    }


def pyshelf(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def _uv_pin(cwd: Path, root: Path, *args: str) -> None:
    env = _uv_env(root)
    with contextlib.chdir(cwd):
        run_uv("python", "pin", *args, env=env)


def test_pin_writes_what_uv_writes_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours, uvs = tmp_path / "ours", tmp_path / "uvs"
    ours.mkdir()
    uvs.mkdir()
    monkeypatch.chdir(ours)
    for request in REQUESTS:
        _uv_pin(uvs, tmp_path, request)
        code, _, err = pyshelf("pin", request)
        assert code == 0, err
        written = (ours / ".python-version").read_bytes()
        assert written == (uvs / ".python-version").read_bytes(), request
    assert sorted(os.listdir(ours)) == [".python-version"]  # no scratch left beside it


@pytest.mark.parametrize("xdg", [True, False], ids=["XDG_CONFIG_HOME", "HOME"])
def test_pin_global_writes_uvs_user_pin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xdg: bool
) -> None:
    """--global writes where uv's does: $XDG_CONFIG_HOME/uv, else ~/.config/uv."""
    uv_root, our_root = tmp_path / "uv", tmp_path / "ours"
    for root in (uv_root, our_root):
        (root / "home").mkdir(parents=True)
    env = _uv_env(uv_root)
    if not xdg:
        env["XDG_CONFIG_HOME"] = ""
    with contextlib.chdir(tmp_path):
        run_uv("python", "pin", "--global", "pypy3.10", env=env)
    monkeypatch.setenv("HOME", str(our_root / "home"))
    if xdg:
        monkeypatch.setenv("XDG_CONFIG_HOME", str(our_root / "config"))
    else:
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    code, out, err = pyshelf("pin", "--global", "pypy3.10")
    assert code == 0, err
    uv_files = sorted(p.relative_to(uv_root) for p in uv_root.rglob("*") if p.is_file())
    our_files = sorted(p.relative_to(our_root) for p in our_root.rglob("*") if p.is_file())
    uv_pins = [p for p in uv_files if p.name == ".python-version"]
    assert uv_pins == our_files  # same place under the home or config folder, nothing else
    assert (uv_root / uv_pins[0]).read_bytes() == (our_root / our_files[0]).read_bytes()
    assert not (tmp_path / ".python-version").exists()
    assert "pinned pypy@3.10 in" in out


def test_pin_without_a_request_shows_the_pin_in_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(project / "src")
    code, out, err = pyshelf("pin")
    assert code == 1 and out == "" and "nothing is pinned here" in err
    assert pyshelf("pin", "--global", "3.11")[0] == 0
    global_pin = tmp_path / "config" / "uv" / ".python-version"
    assert pyshelf("pin") == (0, "3.11\n", f"from {global_pin}\n")  # uv's global pin counts
    pins = find_pins()
    assert pins is not None and pins.requests == ("3.11",)  # and install would use it
    (project / ".python-version").write_text("cp312  # the project's\n3.13\n")
    code, out, err = pyshelf("pin")
    assert (code, out, err) == (0, "cpython@3.12\n", f"from {project / '.python-version'}\n")
    code, out, _ = pyshelf("pin", "--json")
    assert json.loads(out) == {
        "requests": ["cpython@3.12"], "source": str(project / ".python-version")
    }  # fmt: skip
    assert pyshelf("pin", "--global")[1] == "3.11\n"  # --global: the global one only
    monkeypatch.setenv("UV_PYTHON", "3.13t")
    assert pyshelf("pin")[1:] == ("3.13+freethreaded\n", "from UV_PYTHON\n")


def test_pin_says_what_it_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert pyshelf("pin", "3.12")[1] == "pinned 3.12 in .python-version\n"
    assert pyshelf("pin", "312")[1] == "pinned 3.12 in .python-version\n"  # the same pin
    assert pyshelf("pin", "3.13")[1] == "updated .python-version from 3.12 to 3.13\n"
    code, out, _ = pyshelf("pin", "--json", "cp313")
    assert code == 0
    assert json.loads(out) == {
        "request": "cpython@3.13", "path": str(tmp_path / ".python-version"), "replaced": "3.13"
    }  # fmt: skip


@pytest.mark.parametrize("kind", ["symlink", "fifo", "folder"])
def test_pin_refuses_what_is_not_a_regular_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """A link is neither followed (it could point anywhere) nor silently replaced."""
    monkeypatch.chdir(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.write_text("keep me\n")
    pin = tmp_path / ".python-version"
    if kind == "symlink":
        pin.symlink_to(outside)
    elif kind == "fifo":
        os.mkfifo(pin)
    else:
        pin.mkdir()
    code, out, err = pyshelf("pin", "3.12")
    assert code == 1 and out == ""
    assert err == f"pyshelf: error: {pin} is not a regular file; remove it to pin here\n"
    assert outside.read_text() == "keep me\n"
    assert sorted(os.listdir(tmp_path)) == [".python-version", "elsewhere"]


@pytest.mark.parametrize(
    ("request_", "key"),
    [
        ("cp312", "cpython-3.12.7-linux-x86_64-gnu"),
        ("3.13t", "cpython-3.13.1+freethreaded-linux-x86_64-gnu"),
        ("pp310", "pypy-3.10.14-linux-x86_64-gnu"),
        ("<3.12,>=3.11", "cpython-3.11.9-linux-x86_64-gnu"),
    ],
)
def test_what_pin_writes_install_reads(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request_: str, key: str
) -> None:
    """uv's spelling, read back: a pin then a bare install installs what the request meant."""
    monkeypatch.chdir(tmp_path)
    assert world.cli("pin", request_)[0] == 0
    code, out, err = world.cli("install", "--json", "--no-bin")
    assert code == 0, err
    assert json.loads(out)["name"] == key

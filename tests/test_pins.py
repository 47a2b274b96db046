"""Pins (UV_PYTHON, .python-version, .python-versions), `find` and `dir`, read as uv reads them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import World
from tests.special_files import REFUSED, SPECIAL_KINDS, finishes, make_special
from tests.test_cli_input import one_line
from tests.uvtool import run_uv
from tui.engine.errors import RequestError
from tui.engine.requests.pins import find_pins


def test_the_nearest_pin_file_wins_and_uv_python_beats_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    deep = project / "src" / "pkg"
    deep.mkdir(parents=True)
    assert find_pins(deep) is None
    (tmp_path / ".python-version").write_text("3.11\n")
    (project / ".python-version").write_text("# the project's\n\n3.12  # pinned\n3.13\n")
    pins = find_pins(deep)
    assert pins is not None and pins.requests == ("3.12",)  # .python-version: the first line
    assert pins.source == str(project / ".python-version")
    (project / ".python-versions").write_text("3.12\npypy@3.10\n")
    pins = find_pins(deep)
    assert pins is not None and pins.requests == ("3.12", "pypy@3.10")  # every line
    monkeypatch.setenv("UV_PYTHON", "3.13t")
    pins = find_pins(deep)
    assert pins is not None and pins.requests == ("3.13t",) and pins.source == "UV_PYTHON"
    monkeypatch.setenv("UV_PYTHON", "banana")
    with pytest.raises(RequestError, match=r"^UV_PYTHON: cannot read 'banana'"):
        find_pins(deep)


def test_a_bad_pin_file_names_itself(tmp_path: Path) -> None:
    (tmp_path / ".python-version").write_text("3.12 and a half\n")
    with pytest.raises(RequestError, match=r"\.python-version: cannot read"):
        find_pins(tmp_path)
    (tmp_path / ".python-version").write_bytes(b"3" * 100_000)
    with pytest.raises(RequestError, match="larger than 64 KiB"):
        find_pins(tmp_path)


@pytest.mark.parametrize("kind", SPECIAL_KINDS)
@pytest.mark.parametrize("name", [".python-version", ".python-versions"])
def test_a_pin_file_that_is_not_a_small_file_is_refused_not_read(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, kind: str
) -> None:
    """Refused by type or size, in one line; passed over, it would let a parent's pin
    decide for a project that asked for something it cannot read."""
    (tmp_path / ".python-version").write_text("3.11\n")  # a parent's pin: not the one read
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    make_special(folder / name, kind)
    code, out, err = finishes(lambda: world.cli("--offline", "install"))
    assert code == 1 and not out
    line = one_line(err)
    assert line.startswith(f"pyshelf: error: cannot read {folder / name}: ")
    assert REFUSED[kind] in line


def test_install_and_fetch_without_a_request_use_the_pins(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    code, _, err = world.cli("install")
    assert code == 1 and "pin one with UV_PYTHON or a .python-version file" in err
    (folder / ".python-versions").write_text("3.11\n3.13t\n")
    code, _, err = world.cli("fetch")
    assert code == 0, err
    assert "using 3.11, 3.13t (from" in err
    (folder / ".python-version").write_text("3.12\n")
    (folder / ".python-versions").unlink()
    code, _, err = world.cli("install")
    assert code == 0, err
    code, out, _ = world.cli("find")
    assert out.strip().endswith("cpython-3.12.7-linux-x86_64-gnu/bin/python3.12")
    code, out, err = world.cli("find", "3.11")  # fetched, not installed
    assert code == 1 and "no build matches '3.11'" in err


def test_uv_python_install_bin_0_skips_the_link(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UV_PYTHON_INSTALL_BIN", "0")
    code, _, err = world.cli("install", "3.12")
    assert code == 0, err
    assert not (world.root / "bin" / "python3.12").exists()
    monkeypatch.setenv("UV_PYTHON_INSTALL_BIN", "1")
    code, _, err = world.cli("install", "3.11")
    assert code == 0, err
    assert (world.root / "bin" / "python3.11").is_symlink()


def test_dir_prints_the_folders_and_the_line_for_uv(world: World) -> None:
    assert world.cli("dir")[1] == f"{world.root / 'installs'}\n"
    assert world.cli("dir", "--bin")[1] == f"{world.root / 'bin'}\n"
    assert world.cli("dir", "--cache")[1] == f"{world.root / 'cache'}\n"
    assert world.cli("dir", "--env")[1] == f"export UV_PYTHON_CACHE_DIR={world.root / 'cache'}\n"
    code, _, err = world.cli("dir", "--bin", "--cache")
    assert code == 2 and "not allowed with" in err


def test_find_picks_what_uv_picks(real_world: World) -> None:
    spec = real_world.specs[-1]
    request = f"{spec.major}.{spec.minor}"
    code, _, err = real_world.cli("install", request)
    assert code == 0, err
    code, out, err = real_world.cli("find", request)
    assert code == 0, err
    env = {
        "UV_PYTHON_INSTALL_DIR": str(real_world.root / "installs"),
        "UV_OFFLINE": "1",
        "PATH": "/nonexistent",  # only managed interpreters: no pyenv shims to query
    }
    found = run_uv("python", "find", "--managed-python", request, env=env).stdout.strip()
    assert os.path.realpath(found) == os.path.realpath(out.strip())

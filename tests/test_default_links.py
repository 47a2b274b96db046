"""`pyshelf install --default` makes the links `uv python install --default` makes, by uv's
rules for what it may replace (`--force` for what neither tool made)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import World
from tests.uvtool import run_uv


def _links(bin_dir: Path, install_dir: Path) -> dict[str, str]:
    """Each entry of the bin dir: a symlink's target with the install dir written <ROOT>."""
    found = {}
    for entry in sorted(bin_dir.iterdir()):
        assert entry.is_symlink(), f"{entry} is not a symlink"
        found[entry.name] = os.readlink(entry).replace(str(install_dir), "<ROOT>")
    return found


def _uv_install(world: World, *args: str, check: bool = True) -> int:
    root = world.root
    env = {
        "UV_PYTHON_INSTALL_DIR": str(root / "uv-installs"),
        "UV_PYTHON_BIN_DIR": str(root / "uv-bin"),
        "UV_PYTHON_DOWNLOADS_JSON_URL": str(world.catalog_path),
        "UV_CACHE_DIR": str(root / "uv-cache"),
    }
    return run_uv("python", "install", *args, env=env, check=check).returncode


def test_install_default_makes_the_links_uv_makes(real_world: World) -> None:
    spec = real_world.specs[-1]
    minor = f"{spec.major}.{spec.minor}"
    root = real_world.root
    code, _, err = real_world.cli("install", "--default", minor)
    assert code == 0, err
    _uv_install(real_world, "--default", minor)
    ours = _links(root / "bin", root / "installs")
    uvs = _links(root / "uv-bin", root / "uv-installs")
    assert ours == uvs
    assert sorted(ours) == sorted([f"python{minor}", f"python{spec.major}", "python"])
    done = subprocess.run(
        [root / "bin" / "python", "-c", "import sys; print(sys.prefix)"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert done.stdout.strip().startswith(str(root / "installs"))
    assert f"python{minor}, python{spec.major}, python in {root / 'bin'} now run" in err


def test_both_leave_a_file_they_did_not_make_until_forced(real_world: World) -> None:
    """uv warns and exits 0 (the install worked); so does pyshelf."""
    spec = real_world.specs[-1]
    minor = f"{spec.major}.{spec.minor}"
    root = real_world.root
    for bin_dir in (root / "bin", root / "uv-bin"):
        bin_dir.mkdir()
        (bin_dir / "python").write_text("#!/bin/sh\necho mine\n")
    code, _, err = real_world.cli("install", "--default", minor)
    assert (code, _uv_install(real_world, "--default", minor, check=False)) == (0, 0)
    assert f"pyshelf: warning: {root / 'bin' / 'python'} exists and neither" in err
    for bin_dir in (root / "bin", root / "uv-bin"):
        assert (bin_dir / "python").read_text() == "#!/bin/sh\necho mine\n"
        assert (bin_dir / f"python{spec.major}").is_symlink()  # the other names are made
        assert (bin_dir / f"python{minor}").is_symlink()
    code, _, err = real_world.cli("install", "--default", "--force", minor)
    assert code == 0, err
    _uv_install(real_world, "--default", "--force", minor)
    assert _links(root / "bin", root / "installs") == _links(root / "uv-bin", root / "uv-installs")


def _bin(world: World) -> Path:
    return world.root / "bin"


def test_default_replaces_what_uv_or_pyshelf_made_and_dangling_links(world: World) -> None:
    assert world.cli("install", "--default", "3.11")[0] == 0
    bin_dir = _bin(world)
    assert os.readlink(bin_dir / "python3").endswith("cpython-3.11-linux-x86_64-gnu/bin/python3.11")
    (bin_dir / "python").unlink()
    (bin_dir / "python").symlink_to(world.root / "gone" / "python")  # leads nowhere
    code, _, err = world.cli("install", "--default", "3.12")
    assert code == 0, err
    for name in ("python3", "python"):  # another managed install's link: --default moves it
        assert os.readlink(bin_dir / name).endswith("cpython-3.12-linux-x86_64-gnu/bin/python3.12")
    assert (bin_dir / "python3.11").is_symlink()  # the other minor keeps its own link
    code, _, err = world.cli("install", "--default", "3.12")  # again: nothing to change
    assert code == 0, err


@pytest.mark.parametrize("kind", ["file", "foreign link"])
def test_default_leaves_what_neither_tool_made_unless_forced(world: World, kind: str) -> None:
    bin_dir = _bin(world)
    bin_dir.mkdir(parents=True)
    system = world.root / "usr-bin-python3"
    system.write_text("#!/bin/sh\n")
    if kind == "file":
        (bin_dir / "python3").write_text("#!/bin/sh\necho mine\n")
    else:
        (bin_dir / "python3").symlink_to(system)
    before = (bin_dir / "python3").read_text()
    code, _, err = world.cli("install", "--default", "3.12")
    assert code == 0
    assert (
        f"pyshelf: warning: {bin_dir / 'python3'} exists and neither uv nor pyshelf made it; "
        "--force replaces it\n"
    ) in err
    assert (bin_dir / "python3").read_text() == before  # left as it was
    assert (bin_dir / "python").is_symlink() and (bin_dir / "python3.12").is_symlink()
    assert (world.root / "installs" / "cpython-3.12.7-linux-x86_64-gnu").is_dir()
    code, _, err = world.cli("install", "--default", "--force", "3.12")
    assert code == 0, err
    assert os.readlink(bin_dir / "python3").endswith("/bin/python3.12")
    assert system.read_text() == "#!/bin/sh\n"  # the link was replaced, not written through


def test_force_alone_replaces_the_minor_link_only(world: World) -> None:
    bin_dir = _bin(world)
    bin_dir.mkdir(parents=True)
    (bin_dir / "python3.12").write_text("mine\n")
    code, _, err = world.cli("install", "3.12")
    assert code == 0 and "exists and is not managed by uv; left alone" in err
    assert not (bin_dir / "python3.12").is_symlink()
    code, _, err = world.cli("install", "--force", "3.12")
    assert code == 0, err
    assert (bin_dir / "python3.12").is_symlink()
    assert sorted(os.listdir(bin_dir)) == ["python3.12"]


def test_a_folder_is_never_replaced(world: World) -> None:
    (_bin(world) / "python").mkdir(parents=True)
    code, _, err = world.cli("install", "--default", "--force", "3.12")
    assert code == 0 and f"warning: {_bin(world) / 'python'} is a folder" in err
    assert (_bin(world) / "python").is_dir()


def test_default_names_follow_the_implementation_and_variant(world: World) -> None:
    code, out, err = world.cli("install", "--default", "--json", "pypy@3.10")
    assert code == 0, err
    assert sorted(os.listdir(_bin(world))) == ["pypy", "pypy3", "pypy3.10"]
    record = json.loads(out)
    assert record["links"] == [str(_bin(world) / n) for n in ("pypy3.10", "pypy3", "pypy")]
    assert world.cli("install", "--default", "3.13t")[0] == 0
    assert {"python3.13t", "python3t", "pythont"} <= set(os.listdir(_bin(world)))


def test_default_with_pins_takes_one_request(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".python-versions").write_text("3.11\n3.12\n")
    code, _, err = world.cli("install", "--default")
    assert code == 1 and "--default takes one request; the pins name 2" in err
    assert not (world.root / "installs").exists()
    (tmp_path / ".python-versions").unlink()
    (tmp_path / ".python-version").write_text("3.11\n")
    code, _, err = world.cli("install", "--default")
    assert code == 0, err
    assert os.readlink(_bin(world) / "python").endswith("/bin/python3.11")

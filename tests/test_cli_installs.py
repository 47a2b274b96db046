"""install / reinstall / uninstall on the command line, and uv seeing the same world."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import World, build_world
from tests.loopback import LoopbackServer
from tests.pbs_fixtures import catalog_json, make_archive
from tests.uvtool import run_uv


def test_install_reinstall_uninstall_round_trip(world: World) -> None:
    code, _, err = world.cli("install", "3.12")
    assert code == 0, err
    rows = {r["key"]: r for r in json.loads(world.cli("list", "--json")[1])}
    row = rows["cpython-3.12.7-linux-x86_64-gnu"]
    assert row["installed"] and row["install_path"].endswith(row["key"])
    assert row["install_size"] > 256 * 1024
    world.server.stop()
    code, _, err = world.cli("--offline", "reinstall", "3.12")
    assert code == 0, err
    assert "reinstalled" in err
    code, _, err = world.cli("uninstall", "3.12")
    assert code == 0, err
    assert "freed" in err
    assert not (world.root / "installs" / row["key"]).exists()
    assert not (world.root / "bin" / "python3.12").is_symlink()


def test_no_bin_skips_the_executable_link(world: World) -> None:
    assert world.cli("install", "--no-bin", "3.13")[0] == 0
    assert (world.root / "installs" / "cpython-3.13.1-linux-x86_64-gnu").is_dir()
    assert not (world.root / "bin" / "python3.13").exists()


def test_uninstall_of_something_not_installed_is_one_line(world: World) -> None:
    code, _, err = world.cli("uninstall", "3.11")
    assert code == 1 and err.startswith("pyshelf: error: no build matches '3.11'")
    assert "Traceback" not in err


def test_uv_finds_and_runs_what_pyshelf_installed(real_world: World) -> None:
    spec = real_world.specs[-1]
    minor = f"{spec.major}.{spec.minor}"
    assert real_world.cli("install", minor)[0] == 0
    env = {
        "UV_PYTHON_INSTALL_DIR": str(real_world.root / "installs"),
        "UV_PYTHON_BIN_DIR": str(real_world.root / "bin"),
        "UV_PYTHON_DOWNLOADS_JSON_URL": str(real_world.catalog_path),
        "UV_PYTHON_CACHE_DIR": str(real_world.root / "cache"),
    }
    listed = run_uv("python", "list", "--only-installed", "--managed-python", env=env).stdout
    assert spec.key in listed
    found = run_uv("python", "find", "--managed-python", minor, env=env).stdout.strip()
    assert found.startswith(str(real_world.root / "installs"))
    prefix = subprocess.check_output([found, "-c", "import sys; print(sys.prefix)"], text=True)
    assert prefix.strip().startswith(str(real_world.root / "installs"))
    # The executable link in the bin dir works too.
    exe = real_world.root / "bin" / f"python{minor}"
    assert subprocess.check_output([exe, "-c", "print(6 * 7)"], text=True).strip() == "42"
    assert real_world.cli("uninstall", minor)[0] == 0
    listed = run_uv("python", "list", "--only-installed", "--managed-python", env=env).stdout
    assert spec.key not in listed
    dangling = [p for p in (real_world.root / "installs").iterdir() if p.is_symlink()]
    assert dangling == []


def test_pyshelf_lists_and_uninstalls_what_uv_installed(real_world: World) -> None:
    spec = real_world.specs[-1]
    minor = f"{spec.major}.{spec.minor}"
    env = {
        "UV_PYTHON_INSTALL_DIR": str(real_world.root / "installs"),
        "UV_PYTHON_BIN_DIR": str(real_world.root / "bin"),
        "UV_PYTHON_DOWNLOADS_JSON_URL": str(real_world.catalog_path),
        "UV_PYTHON_CACHE_DIR": str(real_world.root / "cache"),
    }
    run_uv("python", "install", minor, env=env)
    rows = {r["key"]: r for r in json.loads(real_world.cli("list", "--json")[1])}
    assert rows[spec.key]["installed"] and rows[spec.key]["cached"]
    assert real_world.cli("uninstall", minor)[0] == 0
    listed = run_uv("python", "list", "--only-installed", "--managed-python", env=env).stdout
    assert spec.key not in listed


def test_unwritable_directories_fail_with_one_line(world: World, tmp_path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a directory should be")
    code, _, err = world.cli("install", "3.12", "--install-dir", str(blocked / "installs"))
    assert code == 1 and "Traceback" not in err and "unexpected" not in err
    assert f"failed: Not a directory: {blocked / 'installs'}" in err


def test_reinstall_names_what_it_would_discard_and_asks_first(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert world.cli("install", "3.12.7")[0] == 0
    install = world.root / "installs" / "cpython-3.12.7-linux-x86_64-gnu"
    mine = install / "lib" / "python3.12" / "site-packages" / "mine.py"
    mine.write_text("work = 'mine'\n")
    named = "1 file added (lib/python3.12/site-packages/mine.py)"

    # No terminal: refused in one line that names the file and says what to do.
    code, _, err = world.cli("reinstall", "3.12.7")
    assert code == 1 and "Traceback" not in err
    [line] = err.strip().splitlines()
    assert line.startswith("pyshelf: error: cpython-3.12.7-linux-x86_64-gnu: a reinstall discards")
    assert named in line and "pass --yes" in line and mine.is_file()

    # A terminal: named, then asked; no keeps it.
    monkeypatch.setattr("tui.cli.prompt.interactive", lambda: True)
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    code, _, err = world.cli("reinstall", "3.12.7")
    assert code == 1 and named in err and "Reinstall anyway? [y/N]" in err
    assert "nothing reinstalled" in err and mine.is_file()
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    code, _, err = world.cli("reinstall", "3.12.7")
    assert code == 0, err
    assert not mine.exists()

    # An edit in place is named too; --yes reinstalls without asking, and still says so.
    monkeypatch.setattr("tui.cli.prompt.interactive", lambda: False)
    edited = install / "lib" / "python3.12" / "os.py"
    with edited.open("a") as handle:
        handle.write("# patched\n")
    code, _, err = world.cli("reinstall", "3.12.7", "--yes")
    assert code == 0, err
    assert "pyshelf: warning: cpython-3.12.7-linux-x86_64-gnu: a reinstall discards 1 file " \
        "edited (lib/python3.12/os.py)" in err  # fmt: skip
    assert b"# patched" not in edited.read_bytes()
    # Nothing added: no question, no --yes needed.
    code, _, err = world.cli("reinstall", "3.12.7")
    assert code == 0, err
    assert "discards" not in err


def test_du_finds_venvs_in_a_venv_dir_given_on_the_command_line(world: World, tmp_path) -> None:
    assert world.cli("install", "3.12")[0] == 0
    venv = tmp_path / "elsewhere" / "project" / ".venv"
    venv.mkdir(parents=True)
    home = world.root / "installs" / "cpython-3.12-linux-x86_64-gnu" / "bin"
    (venv / "pyvenv.cfg").write_text(f"home = {home}\nversion_info = 3.12.7\n")
    code, out, err = world.cli("du", "--json", "--venv-dir", str(tmp_path / "elsewhere"))
    assert code == 0, err
    items = [i for g in json.loads(out)["groups"] for i in g["items"]]
    install = next(i for i in items if i["name"] == "cpython-3.12.7-linux-x86_64-gnu")
    assert install["used_by"] == [str(venv)]


def test_du_gives_no_age_to_what_is_not_on_disk_yet(world: World) -> None:
    """A shelf nothing was installed on: its install dir does not exist, so it has no age
    (not the 56 years since the epoch)."""
    code, out, err = world.cli("--offline", "du")
    assert code == 0, err
    line = next(row for row in out.splitlines() if "(links, locks, dirs)" in row)
    _, version, size, age, _ = line.strip().split("  ")
    assert (version, size, age) == ("-", "0 Bytes", "-") and "56y" not in out, out


def test_an_archive_without_its_interpreter_is_refused_in_one_line(
    tmp_path: Path, loopback_server: LoopbackServer
) -> None:
    world = build_world(tmp_path, loopback_server, archives=[{"version": "3.12.6"}])
    assert world.cli("install", "3.12.6")[0] == 0
    broken = make_archive(loopback_server.root / "20991231", version="3.12.7", interpreter="")
    world.catalog_path.write_text(
        json.dumps(catalog_json([*world.specs, broken], loopback_server.url))
    )
    installs, bin_dir = world.root / "installs", world.root / "bin"
    minor_link = os.readlink(installs / "cpython-3.12-linux-x86_64-gnu")
    code, _, err = world.cli("install", "3.12.7")
    assert code == 1 and "Traceback" not in err
    failed = [line for line in err.splitlines() if "failed" in line]
    assert failed == [
        f"install   {broken.key}  failed: cannot install {broken.key} from {broken.filename}: "
        "it has no bin/python3.12; its archive was evicted from the cache"
    ]
    assert not (installs / broken.key).exists()
    assert os.readlink(installs / "cpython-3.12-linux-x86_64-gnu") == minor_link  # no link moved
    assert os.path.realpath(bin_dir / "python3.12").startswith(str(installs / "cpython-3.12.6"))
    assert os.listdir(installs / ".temp") == []
    # The unpacked copy no install can use is gone: a fixed archive would be unpacked afresh.
    unpacked = world.settings.state_dir / "unpacked"
    assert broken.sha256[:16] not in os.listdir(unpacked)
    assert not cached(world, broken.key)  # and the archive is not left as a good cached build


def cached(world: World, key: str) -> bool:
    rows = {r["key"]: r for r in json.loads(world.cli("list", "--all", "--json")[1])}
    return rows[key]["cached"]


@pytest.mark.parametrize(
    ("interpreter", "evicted", "problem"),
    [
        ("#!/bin/sh\necho 3.12.6\n", True, "bin/python3.12 is not Python 3.12.7 (it says '3.12.6"),
        ("#!/bin/sh\nexit 3\n", False, "bin/python3.12 does not run: exit 3"),
    ],
)
def test_an_archive_whose_interpreter_says_another_version_is_evicted(
    tmp_path: Path, loopback_server: LoopbackServer, interpreter: str, evicted: bool,
    problem: str,
) -> None:  # fmt: skip
    """A refused upgrade (or install) does not leave the rejected archive as a cached build;
    an interpreter that would not start may be this machine's doing, so its archive stays."""
    world = build_world(tmp_path, loopback_server, archives=[{"version": "3.12.6"}])
    assert world.cli("install", "3.12.6")[0] == 0
    liar = make_archive(
        loopback_server.root / "20991231", version="3.12.7", interpreter=interpreter
    )
    world.catalog_path.write_text(
        json.dumps(catalog_json([*world.specs, liar], loopback_server.url))
    )
    assert world.cli("fetch", "3.12.7")[0] == 0 and cached(world, liar.key)
    code, _, err = world.cli("upgrade", "3.12", "--yes")
    assert code == 1 and "Traceback" not in err
    [line] = [line for line in err.splitlines() if "failed" in line]
    assert problem in line
    assert line.endswith("; its archive was evicted from the cache") == evicted
    assert cached(world, liar.key) is not evicted
    assert not (world.root / "installs" / liar.key).exists()
    assert (world.root / "installs" / "cpython-3.12.6-linux-x86_64-gnu").is_dir()


def test_install_warnings_reach_stderr(world: World) -> None:
    bin_dir = world.root / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3.12").write_text("#!/bin/sh\necho mine\n")
    code, _, err = world.cli("install", "3.12")
    assert code == 0, err
    warning = (
        f"pyshelf: warning: {bin_dir / 'python3.12'} exists and is not managed by uv; left alone"
    )
    assert err.splitlines()[-1] == warning
    # An install already there is linked again, as uv does, and says the same.
    code, _, err = world.cli("install", "3.12")
    assert code == 0 and "already installed" in err and err.splitlines()[-1] == warning

"""`pyshelf envs` (issue 21): environments whose interpreter was removed anyway are listed
with the build they need, and `--fix` brings them back — reinstalling that build from the
cache, offline, or repointing them to the newest install of the same minor once it is gone.
Environments are made by uv (`uv venv --python <installed interpreter>`) and by
`python -m venv`, from the test interpreter packaged as a python-build-standalone archive."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import World
from tests.pbs_fixtures import ArchiveSpec
from tests.test_upgrade import two_patches as two_patches  # the fixture
from tests.uvtool import run_uv


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The current directory is searched too: not the checkout, whose .venv would count."""
    monkeypatch.chdir(tmp_path)


def _uv_env(world: World) -> dict[str, str]:
    return {
        "UV_PYTHON_INSTALL_DIR": str(world.root / "installs"),
        "UV_OFFLINE": "1",
        "UV_PYTHON_DOWNLOADS": "never",
        "PATH": "/nonexistent",  # managed interpreters only
    }


def _make_envs(world: World, spec: ArchiveSpec, envs: Path) -> dict[str, Path]:
    """One environment of each kind from the install's own interpreter, and one through uv's
    minor-version link."""
    minor = f"{spec.major}.{spec.minor}"
    python = world.root / "installs" / spec.key / "bin" / f"python{minor}"
    made = {name: envs / name for name in ("by-uv", "by-venv", "linked")}
    run_uv("venv", "--python", str(python), str(made["by-uv"]), env=_uv_env(world))
    subprocess.run([python, "-m", "venv", "--without-pip", made["by-venv"]], check=True)
    run_uv("venv", "--python", minor, str(made["linked"]), env=_uv_env(world))
    return made


def _runs(env: Path) -> str:
    """Where the environment's python runs from (the test runs it; pyshelf never does)."""
    done = subprocess.run(
        [env / "bin" / "python", "-c", "import os, sys; print(os.path.realpath(sys.base_prefix))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def _states(world: World, envs: Path, *options: str) -> dict[str, dict]:
    code, out, err = world.cli("--venv-dir", str(envs), *options, "envs", "--json")
    assert code == 0, err
    return {Path(row["path"]).name: row for row in json.loads(out)}


def test_a_broken_environment_is_listed_and_reinstalled_offline(
    real_world: World, real_pbs_archive: ArchiveSpec, tmp_path: Path
) -> None:
    world, spec = real_world, real_pbs_archive
    assert world.cli("install", spec.version)[0] == 0
    envs = tmp_path / "envs"
    made = _make_envs(world, spec, envs)
    install = os.path.realpath(world.root / "installs" / spec.key)
    states = _states(world, envs)
    assert {name: row["state"] for name, row in states.items()} == dict.fromkeys(made, "ok")
    # uv writes the minor link (and only the minor in version_info) even when given the
    # patch's own interpreter; python -m venv names the patch's path.
    link = f"cpython-{spec.major}.{spec.minor}-linux-x86_64-gnu"
    assert states["by-uv"]["interpreter"] == states["linked"]["interpreter"] == link
    assert states["by-uv"]["via_minor_link"] and states["linked"]["via_minor_link"]
    assert states["by-venv"]["interpreter"] == spec.key

    code, _, err = world.cli("uninstall", "-yy", spec.version)  # removed anyway
    assert code == 0, err
    states = _states(world, envs, "--offline")
    for name in made:
        row = states[name]
        assert row["state"] == "broken", row
        assert row["needs"] == (spec.key if name == "by-venv" else link)
        assert row["brings_back"] == spec.key and row["build"] == spec.build
        assert row["fix"] == "reinstall" and row["offline"] is True
    code, out, _ = world.cli("--venv-dir", str(envs), "--offline", "envs")
    assert code == 0 and f"broken (needs {spec.key})" in out
    assert out.count(f"reinstall {spec.key} build {spec.build} (from the cache)") == 3

    code, _, err = world.cli("--venv-dir", str(envs), "--offline", "envs", "--fix")
    assert code == 0, err
    assert err.count("brought back") == 3
    for env in made.values():
        assert _runs(env) == install
    assert {row["state"] for row in _states(world, envs).values()} == {"ok"}


def test_an_environment_whose_build_is_gone_is_repointed_after_asking(
    two_patches: tuple[World, ArchiveSpec, ArchiveSpec],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world, old, new = two_patches
    assert world.cli("install", old.version)[0] == 0
    envs = tmp_path / "envs"
    made = _make_envs(world, old, envs)
    assert world.cli("install", new.version)[0] == 0
    assert world.cli("uninstall", "-yy", old.version)[0] == 0
    assert world.cli("evict", old.version)[0] == 0  # the build itself is gone
    new_dir = os.path.realpath(world.root / "installs" / new.key)

    states = _states(world, envs, "--offline")
    for name in ("by-uv", "linked"):  # the minor link moved to the new patch
        assert states[name]["state"] == "ok" and _runs(made[name]) == new_dir
    row = states["by-venv"]
    assert row["state"] == "broken" and row["needs"] == old.key and row["build"] is None
    assert row["fix"] == "repoint" and row["repoint_to"] == new.key

    cfg = {name: (made[name] / "pyvenv.cfg").read_text() for name in made}
    code, _, err = world.cli("--venv-dir", str(envs), "--offline", "envs", "--fix")
    assert code == 1 and "needs --yes" in err  # no terminal to ask on: nothing changes
    assert {name: (made[name] / "pyvenv.cfg").read_text() for name in cfg} == cfg

    ran: list[list[str]] = []
    real_popen = subprocess.Popen.__init__

    def watch(self: subprocess.Popen, args: list[str], *more: object, **kw: object) -> None:
        ran.append([os.fspath(a) for a in args])
        real_popen(self, args, *more, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(subprocess.Popen, "__init__", watch)
    code, _, err = world.cli("--venv-dir", str(envs), "--offline", "envs", "--fix", "--yes")
    monkeypatch.undo()
    assert code == 0, err
    assert not ran  # repointing reads and writes files: no interpreter runs
    assert f"repointed {made['by-venv']} to {new.key}" in err
    text = (made["by-venv"] / "pyvenv.cfg").read_text()
    new_bin, python = world.root / "installs" / new.key / "bin", f"python{new.major}.{new.minor}"
    assert f"home = {new_bin}\n" in text and f"executable = {new_bin / python}\n" in text
    assert f"version = {new.version}\n" in text  # `command` still says how it was made
    assert _runs(made["by-venv"]) == new_dir
    for name in ("by-uv", "linked"):  # left alone: they were not broken
        assert (made[name] / "pyvenv.cfg").read_text() == cfg[name]


def test_a_minor_link_left_dangling_by_another_tool_is_moved(
    two_patches: tuple[World, ArchiveSpec, ArchiveSpec], tmp_path: Path
) -> None:
    """The newest patch deleted by hand: environments made through the minor link need it
    moved to the patch left, which --fix does as any install would, without asking."""
    world, old, new = two_patches
    assert world.cli("install", old.version)[0] == 0
    envs = tmp_path / "envs"
    made = _make_envs(world, old, envs)
    assert world.cli("install", new.version)[0] == 0  # the minor link moves to it
    shutil.rmtree(world.root / "installs" / new.key)  # not by pyshelf
    states = _states(world, envs, "--offline")
    for name in ("by-uv", "linked"):
        assert states[name]["state"] == "broken" and states[name]["fix"] == "relink"
        assert states[name]["repoint_to"] == old.key
    assert states["by-venv"]["state"] == "ok"
    code, _, err = world.cli("--venv-dir", str(envs), "--offline", "envs", "--fix")
    assert code == 0, err
    old_dir = os.path.realpath(world.root / "installs" / old.key)
    assert all(_runs(env) == old_dir for env in made.values())


def test_envs_fix_with_nothing_broken_says_so(world: World, tmp_path: Path) -> None:
    code, _, err = world.cli("--venv-dir", str(tmp_path), "envs", "--fix")
    assert code == 0 and "no broken environments among the 0 found" in err
    code, out, _ = world.cli("--venv-dir", str(tmp_path), "envs", "--json")
    assert code == 0 and json.loads(out) == []

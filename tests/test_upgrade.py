"""`pyshelf upgrade`, with uv as the judge: environments made through the minor link follow,
ones made from the old patch's path are repointed, and the old patch goes when unused."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import World
from tests.pbs_fixtures import ArchiveSpec, catalog_json
from tests.test_managers import make_venv
from tests.uvtool import run_uv
from tui.engine.installs import installdir
from tui.engine.installs.probe import start_check


@pytest.fixture
def two_patches(
    real_world: World,
    real_pbs_archive: ArchiveSpec,
    next_patch_archive: ArchiveSpec,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[World, ArchiveSpec, ArchiveSpec]:
    """The running interpreter published twice: as itself and as the next patch.

    The second archive holds the same interpreter (re-compressed, so its sha256 differs), so
    the install's version check is told not to start it; everything else is real.
    """
    old = real_pbs_archive
    path = real_world.server.root / old.build / next_patch_archive.filename
    shutil.copyfile(next_patch_archive.path, path)  # the session's copy stays as it was built
    new = replace(next_patch_archive, path=path)
    real_world.catalog_path.write_text(json.dumps(catalog_json([old, new], real_world.server.url)))
    monkeypatch.setattr(
        installdir,
        "start_check",
        lambda tree, parts, source, *, run: start_check(tree, parts, source, run=False),
    )
    return real_world, old, new


def _runs_from(python: Path) -> str:
    out = subprocess.run(
        [python, "-c", "import os, sys; print(os.path.realpath(sys.base_prefix))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.strip()


def test_upgrade_moves_environments_and_removes_the_old_patch(
    two_patches: tuple[World, ArchiveSpec, ArchiveSpec], tmp_path: Path
) -> None:
    world, old, new = two_patches
    minor = f"{old.major}.{old.minor}"
    code, _, err = world.cli("install", old.version)
    assert code == 0, err
    installs = world.root / "installs"
    uv_env = {
        "UV_PYTHON_INSTALL_DIR": str(installs),
        "UV_OFFLINE": "1",
        "UV_PYTHON_DOWNLOADS": "never",
        "PATH": "/nonexistent",  # managed interpreters only: no pyenv shims to query
    }
    envs = tmp_path / "envs"
    run_uv("venv", "--python", minor, str(envs / "linked"), env=uv_env)
    # uv itself writes the minor link into every environment; one made by the old patch's
    # own interpreter (python -m venv) names the patch's path.
    own_python = installs / old.key / "bin" / f"python{minor}"
    subprocess.run([own_python, "-m", "venv", "--without-pip", envs / "pinned"], check=True)
    old_dir = os.path.realpath(installs / old.key)
    assert _runs_from(envs / "pinned" / "bin" / "python") == old_dir

    code, _, err = world.cli("--venv-dir", str(envs), "upgrade", minor, "--dry-run")
    assert code == 0, err
    assert f"{old.key} -> {new.version}: install {new.key}" in err
    assert "1 environment follows the minor link" in err
    assert f"repoint {envs / 'pinned'}" in err
    assert not (installs / new.key).exists()  # a dry run changes nothing

    code, _, err = world.cli("--venv-dir", str(envs), "upgrade", minor, "--yes")
    assert code == 0, err
    new_dir = os.path.realpath(installs / new.key)
    assert _runs_from(envs / "linked" / "bin" / "python") == new_dir
    assert _runs_from(envs / "pinned" / "bin" / "python") == new_dir
    assert not (installs / old.key).exists()  # nothing used it any more
    # uv names installs by what the interpreter says (both archives hold the same one), so
    # the judge is where its one managed install lives.
    listed = run_uv("python", "list", "--only-installed", "--managed-python", env=uv_env).stdout
    (line,) = listed.strip().splitlines()
    assert os.path.realpath(line.split()[-1]).startswith(new_dir + os.sep)


def test_an_old_patch_still_in_use_is_kept(
    two_patches: tuple[World, ArchiveSpec, ArchiveSpec], tmp_path: Path
) -> None:
    world, old, new = two_patches
    code, _, err = world.cli("install", old.version)
    assert code == 0, err
    project = tmp_path / "project"
    project.mkdir()
    (project / ".python-version").write_text(f"{old.version}\n")  # asks for the old patch
    code, _, err = world.cli("--venv-dir", str(project), "upgrade", "--yes")
    assert (world.root / "installs" / new.key).is_dir()
    assert (world.root / "installs" / old.key).is_dir()
    assert code == 1 and ".python-version" in err


def test_nothing_to_upgrade_says_so(world: World) -> None:
    code, _, err = world.cli("install", "3.12")
    assert code == 0, err
    code, _, err = world.cli("upgrade")
    assert code == 0 and "every installed minor is on its newest patch" in err


def test_upgrade_compiles_the_new_patch(
    two_patches: tuple[World, ArchiveSpec, ArchiveSpec],
) -> None:
    world, old, new = two_patches
    assert world.cli("install", old.version)[0] == 0
    code, _, err = world.cli("upgrade", "--compile-bytecode", "--yes")
    assert code == 0, err
    stdlib = world.root / "installs" / new.key / "lib" / f"python{new.major}.{new.minor}"
    assert (stdlib / "__pycache__" / f"os.{sys.implementation.cache_tag}.pyc").is_file()
    assert not (world.root / "installs" / old.key).exists()


def test_offline_upgrades_only_to_a_cached_patch(world: World) -> None:
    assert world.cli("install", "3.12.6")[0] == 0
    code, _, err = world.cli("--offline", "upgrade", "--dry-run")
    assert code == 0 and "offline: no newer patch or build of an installed minor is cached" in err
    assert world.cli("fetch", "3.12.7")[0] == 0
    code, _, err = world.cli("--offline", "upgrade", "--dry-run")
    assert code == 0 and "install cpython-3.12.7-linux-x86_64-gnu" in err


OLD = "cpython-3.12.6-linux-x86_64-gnu"
NEW = "cpython-3.12.7-linux-x86_64-gnu"


def _pinned_env(path: Path, installs: Path) -> Path:
    """An environment made from the old patch's own path, as `python -m venv` leaves it."""
    env = make_venv(path, installs / OLD / "bin", "3.12.6")
    (env / "bin" / "python3.12").symlink_to(installs / OLD / "bin" / "python3.12")
    (env / "bin" / "python").symlink_to("python3.12")
    return env


def test_upgrade_never_runs_an_environments_own_python(world: World, tmp_path: Path) -> None:
    """A scanned environment may be anyone's: its bin/python is read, never run, even after
    the change, when it used to be run to check the result."""
    assert world.cli("install", "3.12.6")[0] == 0
    installs = world.root / "installs"
    env = make_venv(tmp_path / "envs" / "trap", installs / OLD / "bin", "3.12.6")
    marker = tmp_path / "ran"
    python = env / "bin" / "python"  # answers the probe as the new patch would, and tells
    python.write_text(f'#!/bin/sh\ntouch "{marker}"\necho "3.12.7 {installs / NEW}"\n')
    python.chmod(0o755)
    (env / "bin" / "python3.12").symlink_to(installs / OLD / "bin" / "python3.12")
    cfg = (env / "pyvenv.cfg").read_text()
    good = _pinned_env(tmp_path / "envs" / "good", installs)

    code, _, err = world.cli("--venv-dir", str(tmp_path / "envs"), "upgrade", "3.12", "--yes")
    assert not marker.exists()
    assert code == 1
    line = next(x for x in err.splitlines() if x.startswith("pyshelf: error: cannot repoint"))
    assert line == (
        f"pyshelf: error: cannot repoint {env}: {python} does not lead into "
        f"{installs / NEW} after the change"
    )
    assert (env / "pyvenv.cfg").read_text() == cfg  # put back, as it was
    assert os.readlink(env / "bin" / "python3.12") == str(installs / OLD / "bin" / "python3.12")
    # The other one was confirmed by reading it: its links and pyvenv.cfg lead into NEW.
    assert f"repointed {good} to {NEW}" in err
    assert os.path.realpath(good / "bin" / "python") == str(installs / NEW / "bin" / "python3.12")
    assert f"home = {installs / NEW / 'bin'}" in (good / "pyvenv.cfg").read_text()
    assert (installs / OLD).is_dir()  # the trap still names it


def test_upgrade_does_not_follow_a_bin_dir_that_leaves_the_environment(
    world: World, tmp_path: Path
) -> None:
    assert world.cli("install", "3.12.6")[0] == 0
    installs = world.root / "installs"
    outside = _pinned_env(tmp_path / "elsewhere", installs) / "bin"
    before = {p.name: os.readlink(p) for p in outside.iterdir()}
    env = make_venv(tmp_path / "envs" / "borrowed", installs / OLD / "bin", "3.12.6")
    (env / "bin").rmdir()
    (env / "bin").symlink_to(outside)
    cfg = (env / "pyvenv.cfg").read_text()

    code, _, err = world.cli("--venv-dir", str(tmp_path / "envs"), "upgrade", "3.12", "--yes")
    assert code == 1
    line = next(x for x in err.splitlines() if x.startswith("pyshelf: error: cannot repoint"))
    assert line == (
        f"pyshelf: error: cannot repoint {env}: {env / 'bin'} leads out of the environment "
        f"(to {outside}); not followed"
    )
    assert {p.name: os.readlink(p) for p in outside.iterdir()} == before
    assert (env / "pyvenv.cfg").read_text() == cfg

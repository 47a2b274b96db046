"""Other managers' interpreters, system ones, and the environments that use them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui.engine.usage.managers import find_foreign, find_managed, find_system, read_version
from tui.engine.usage.registry import MANAGER_ENV as REGISTRY_ENV
from tui.engine.usage.venvs import (
    SearchRoot,
    default_roots,
    find_users,
    link_through,
    load_venv,
    read_pyvenv_cfg,
)

MANAGER_ENV = (*REGISTRY_ENV, "WORKON_HOME", "PIPX_HOME", "PYSHELF_VENV_DIRS")


def clear_manager_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real machine may have PYENV_ROOT and friends set: tests must not see them."""
    for name in MANAGER_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _no_manager_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_manager_env(monkeypatch)


def make_unit(
    path: Path, version: str, *, payload: int = 4096, patchlevel: bool = True, abi: str = ""
) -> Path:
    """A fake interpreter tree in the layout pyenv, mise, rye and pdm share."""
    mm = ".".join(version.split(".")[:2])
    (path / "bin").mkdir(parents=True)
    exe = path / "bin" / f"python{mm}"
    exe.write_text(f"#!/bin/sh\necho {version}\n")
    exe.chmod(0o755)
    (path / "bin" / "python3").symlink_to(f"python{mm}")
    lib = path / "lib" / f"python{mm}"
    lib.mkdir(parents=True)
    (lib / "os.py").write_text("# fake\n")
    (lib / "payload.bin").write_bytes(os.urandom(payload))
    if patchlevel:
        include = path / "include" / f"python{mm}{abi}"
        include.mkdir(parents=True)
        (include / "patchlevel.h").write_text(f'#define PY_VERSION              "{version}"\n')
    return path


def make_venv(path: Path, home: Path | str, version: str = "", executable: str = "") -> Path:
    (path / "bin").mkdir(parents=True)
    lines = [f"home = {home}", "include-system-site-packages = false"]
    if version:
        lines.append(f"version_info = {version}")
    if executable:
        lines.append(f"executable = {executable}")
    (path / "pyvenv.cfg").write_text("\n".join(lines) + "\n")
    return path


def make_system(bindir: Path, *, minor: str = "3.11", size: int = 2048) -> Path:
    bindir.mkdir(parents=True, exist_ok=True)
    exe = bindir / f"python{minor}"
    exe.write_bytes(b"\x7fELF" + os.urandom(size))
    exe.chmod(0o755)
    (bindir / "python3").symlink_to(exe.name)
    (bindir / f"python{minor}-config").write_text("#!/bin/sh\n")
    return exe


# -- managers ------------------------------------------------------------------------------


def test_each_manager_layout_is_found(tmp_path: Path) -> None:
    home = tmp_path / "home"
    data = home / ".local" / "share"
    make_unit(home / ".pyenv" / "versions" / "3.11.7", "3.11.7")
    make_unit(home / ".pyenv" / "versions" / "3.6.15", "3.6.15", abi="m")
    make_unit(home / ".pyenv" / "versions" / "miniconda3-latest", "3.12.4")
    # pyenv-virtualenv's alias is a symlink to an environment inside a version: not a unit.
    (home / ".pyenv" / "versions" / "myenv").symlink_to(home / ".pyenv" / "versions" / "3.11.7")
    make_unit(home / ".rye" / "py" / "cpython@3.12.3", "3.12.3", patchlevel=False)
    make_unit(data / "hatch" / "pythons" / "3.12" / "python", "3.12.8")
    make_unit(data / "pdm" / "python" / "cpython@3.13.1", "3.13.1")
    make_unit(data / "mise" / "installs" / "python" / "3.10.14", "3.10.14")
    (data / "mise" / "installs" / "python" / "3.10").symlink_to("3.10.14")
    env = {"XDG_DATA_HOME": str(data)}
    found = {(f.manager, f.name): f for f in find_managed(env, home)}
    assert sorted(found) == [
        ("hatch", "3.12"), ("mise", "3.10.14"), ("pdm", "cpython@3.13.1"),
        ("pyenv", "3.11.7"), ("pyenv", "3.6.15"), ("pyenv", "miniconda3-latest"),
        ("rye", "cpython@3.12.3"),
    ]  # fmt: skip
    versions = {key: f.version for key, f in found.items()}
    assert versions[("pyenv", "3.6.15")] == "3.6.15"  # include/python3.6m/patchlevel.h
    assert versions[("pyenv", "miniconda3-latest")] == "3.12.4"  # read from the tree
    assert versions[("rye", "cpython@3.12.3")] == "3.12"  # no header: the stdlib dir's minor
    assert versions[("hatch", "3.12")] == "3.12.8"  # one level down, in python/
    assert all(f.deletable and f.reason is None for f in found.values())
    assert found[("pyenv", "3.11.7")].path == home / ".pyenv" / "versions" / "3.11.7"


def test_manager_roots_follow_their_variables(tmp_path: Path) -> None:
    make_unit(tmp_path / "pyenv" / "versions" / "3.12.1", "3.12.1")
    make_unit(tmp_path / "rye" / "py" / "pypy@3.10.14", "3.10.14")
    make_unit(tmp_path / "mise" / "installs" / "python" / "3.13.0", "3.13.0")
    env = {
        "PYENV_ROOT": str(tmp_path / "pyenv"), "RYE_HOME": str(tmp_path / "rye"),
        "MISE_DATA_DIR": str(tmp_path / "mise"),
    }  # fmt: skip
    found = {f.manager: f.name for f in find_managed(env, tmp_path / "nohome")}
    assert found == {"pyenv": "3.12.1", "rye": "pypy@3.10.14", "mise": "3.13.0"}


def test_read_version_without_running_anything(tmp_path: Path) -> None:
    assert read_version(make_unit(tmp_path / "a", "3.13.0rc2")) == "3.13.0rc2"
    assert read_version(make_unit(tmp_path / "b", "3.9.1", patchlevel=False)) == "3.9"
    assert read_version(tmp_path / "missing") is None


def test_system_interpreters_resolved_deduplicated_never_deletable(tmp_path: Path) -> None:
    usr, local = tmp_path / "usr-bin", tmp_path / "local-bin"
    exe = make_system(usr)
    local.mkdir()
    (local / "python3.11").symlink_to(exe)  # the same interpreter twice
    pyenv = make_unit(tmp_path / "home" / ".pyenv" / "versions" / "3.12.1", "3.12.1")
    (local / "python3.12").symlink_to(pyenv / "bin" / "python3.12")  # pyenv's, not the OS's
    system = find_system([usr, local])
    assert [(s.name, s.path, s.version) for s in system] == [
        ("python3.11", exe, "3.11"),
        ("python3.12", pyenv / "bin" / "python3.12", "3.12"),
    ]
    assert all(not s.deletable and "system" in (s.reason or "") for s in system)
    foreign = find_foreign({}, tmp_path / "home", [usr, local])
    assert [(f.manager, f.name) for f in foreign] == [("pyenv", "3.12.1"), ("system", "python3.11")]


# -- environments --------------------------------------------------------------------------


def test_pyvenv_cfg_reading(tmp_path: Path) -> None:
    venv = make_venv(tmp_path / "v", "/opt/py/bin", "3.12.7", "/opt/py/bin/python3.12")
    cfg = read_pyvenv_cfg(venv / "pyvenv.cfg")
    assert cfg["home"] == "/opt/py/bin" and cfg["version_info"] == "3.12.7"
    loaded = load_venv(venv)
    assert loaded is not None and loaded.version == "3.12.7"
    assert loaded.executable == "/opt/py/bin/python3.12"
    assert load_venv(tmp_path) is None


def test_find_users_bounded_and_skipping(tmp_path: Path) -> None:
    home = Path("/opt/py/bin")
    proj = tmp_path / "proj"
    make_venv(proj / ".venv", home)
    make_venv(proj / "a" / "b" / "venv", home)  # depth 3: found
    make_venv(proj / "a" / "b" / "c" / "venv", home)  # depth 4: beyond the bound
    make_venv(proj / "node_modules" / "x", home)
    make_venv(proj / ".git" / "x", home)
    make_venv(proj / ".venv" / "inner", home)  # inside an environment: never looked at
    (proj / "link").symlink_to(proj / "a")  # not followed: no loops, no duplicates
    found = find_users([SearchRoot(proj, 3, "cwd")])[0]
    assert [v.path for v in found] == [proj / ".venv", proj / "a" / "b" / "venv"]
    assert find_users([SearchRoot(proj, 3, "cwd")], max_dirs=1)[0] == []


def test_default_roots(tmp_path: Path) -> None:
    home = tmp_path / "home"
    make_unit(home / ".pyenv" / "versions" / "3.11.7", "3.11.7")
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "PYSHELF_VENV_DIRS": f"/a{os.pathsep}/b"}
    roots = default_roots(env=env, home=home, cwd=tmp_path, configured=[Path("/c")])
    by_label = [(r.label, r.path, r.depth) for r in roots]
    assert ("uv tools", tmp_path / "data" / "uv" / "tools", 1) in by_label
    assert ("pyenv-virtualenv", home / ".pyenv" / "versions" / "3.11.7" / "envs", 1) in by_label
    assert [r.path for r in roots if r.label == "configured"] == [
        Path(p) for p in ("/c", "/a", "/b")
    ]
    assert roots[-1] == SearchRoot(tmp_path, 3, "current directory")
    env["UV_TOOL_DIR"] = str(tmp_path / "tools")
    assert default_roots(env=env, home=home)[0].path == tmp_path / "tools"


def test_link_through_the_minor_link(tmp_path: Path) -> None:
    root = tmp_path / "python"
    patch = root / "cpython-3.12.7-linux-x86_64-gnu"
    (patch / "bin").mkdir(parents=True)
    (patch / "bin" / "python3.12").write_text("")
    minor = root / "cpython-3.12-linux-x86_64-gnu"
    minor.symlink_to(patch)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python3.12").symlink_to(minor / "bin" / "python3.12")
    via_minor = load_venv(make_venv(tmp_path / "v1", minor / "bin"))
    direct = load_venv(make_venv(tmp_path / "v2", patch / "bin"))
    via_bin = load_venv(make_venv(tmp_path / "v3", bindir, "", str(bindir / "python3.12")))
    assert via_minor and direct and via_bin
    assert link_through(via_minor, root) == minor.name
    assert link_through(direct, root) is None
    assert link_through(via_bin, root) == minor.name
    for venv in (via_minor, direct, via_bin):
        assert venv.uses(os.path.realpath(patch))


def test_asdf_python_installs_are_found(isolated_home: Path, tmp_path: Path) -> None:
    make_unit(isolated_home / ".asdf" / "installs" / "python" / "3.12.1", "3.12.1")
    (isolated_home / ".asdf" / "installs" / "python" / "3.12").symlink_to("3.12.1")
    found = find_managed(dict(os.environ), isolated_home)
    assert [(f.manager, f.name, f.version) for f in found] == [("asdf", "3.12.1", "3.12.1")]
    assert found[0].deletable

    make_unit(tmp_path / "moved" / "installs" / "python" / "3.11.9", "3.11.9")
    env = {**os.environ, "ASDF_DATA_DIR": str(tmp_path / "moved")}
    assert [f.name for f in find_managed(env, isolated_home)] == ["3.11.9"]

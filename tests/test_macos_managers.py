"""Other managers' interpreters on a Mac: Homebrew's and python.org's are listed with the
system's, never removable, and say whose they are; mise keeps its XDG data dir there too.
The system is simulated through ``hostos.system``; the machine's root is a temporary one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.test_managers import clear_manager_env, make_system
from tui.engine import hostos
from tui.engine.usage.managers import find_foreign, find_system
from tui.engine.usage.registry import manager


@pytest.fixture(autouse=True)
def on_a_mac(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_manager_env(monkeypatch)
    monkeypatch.setattr(hostos, "system", lambda: hostos.MACOS)


def _exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xcf\xfa\xed\xfe" + os.urandom(256))
    path.chmod(0o755)
    return path


def _link(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(os.path.relpath(target, link.parent))


def _homebrew(root: Path, prefix: str, version: str) -> Path:
    """Homebrew's layout: the keg's framework, its bin link, the prefix's bin link."""
    mm = ".".join(version.split(".")[:2])
    keg = root / prefix / "Cellar" / f"python@{mm}" / version
    exe = _exe(keg / f"Frameworks/Python.framework/Versions/{mm}/bin/python{mm}")
    _link(keg / "bin" / f"python{mm}", exe)
    return exe


def test_homebrew_and_python_org_are_listed_and_never_removable(tmp_path: Path) -> None:
    root = tmp_path / "mac"
    system = make_system(root / "usr/bin", minor="3.9")  # the OS's (Xcode's stub)
    arm = _homebrew(root, "opt/homebrew", "3.13.1")
    keg_bin = root / "opt/homebrew/Cellar/python@3.13/3.13.1/bin"
    _link(root / "opt/homebrew/bin/python3.13", keg_bin / "python3.13")  # through the keg
    _link(root / "opt/homebrew/bin/python3", root / "opt/homebrew/bin/python3.13")
    unlinked = _homebrew(root, "opt/homebrew", "3.11.9")  # `brew unlink`ed: its keg only
    intel = _homebrew(root, "usr/local", "3.12.7")
    _link(root / "usr/local/bin/python3.12", intel)
    framework = root / "Library/Frameworks/Python.framework/Versions/3.10"
    org = _exe(framework / "bin/python3.10")
    _link(root / "usr/local/bin/python3.10", org)
    _link(framework.parent / "Current", framework)  # the framework's own alias: not twice
    threaded = _exe(root / "Library/Frameworks/PythonT.framework/Versions/3.13/bin/python3.13t")

    found = {s.path: s for s in find_system([], macos_root=root)}
    assert set(found) == {system, arm, unlinked, intel, org, threaded}
    assert all(s.manager == "system" and not s.deletable for s in found.values())
    assert (found[arm].name, found[arm].version) == ("python3.13", "3.13")
    for exe, formula in ((arm, "python@3.13"), (unlinked, "python@3.11"), (intel, "python@3.12")):
        assert f"Homebrew's interpreter: `brew uninstall {formula}`" in (found[exe].reason or "")
    assert "python.org's Python.framework" in (found[org].reason or "")
    assert "PythonT.framework" in (found[threaded].reason or "")
    assert found[threaded].version == "3.13"
    assert "system interpreter" in (found[system].reason or "")


def test_nothing_of_the_mac_is_looked_at_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hostos, "system", lambda: "linux")
    root = tmp_path / "mac"
    intel = _homebrew(root, "usr/local", "3.12.7")
    _link(root / "usr/local/bin/python3.12", intel)
    found = find_system([root / "usr/local/bin"], macos_root=root)
    assert [(s.path, s.reason) for s in found] == [
        (intel, "system interpreter: the OS package manager owns it")
    ]
    assert find_system([], macos_root=root) == []


def test_mise_keeps_its_xdg_dir_on_a_mac_the_others_theirs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert manager("mise").interpreters({}, home) == home / ".local/share/mise/installs/python"
    xdg = {"XDG_DATA_HOME": str(tmp_path / "data")}
    assert manager("mise").interpreters(xdg, home) == tmp_path / "data/mise/installs/python"
    support = home / "Library/Application Support"
    assert manager("hatch").interpreters({}, home) == support / "hatch/pythons"
    assert manager("pdm").interpreters({}, home) == support / "pdm/python"
    assert manager("pyenv").interpreters({}, home) == home / ".pyenv/versions"

    # A mise interpreter is found there and is mise's to remove.
    unit = home / ".local/share/mise/installs/python/3.12.4"
    _exe(unit / "bin/python3.12")
    [found] = find_foreign({}, home, [], macos_root=tmp_path / "mac")
    assert (found.manager, found.name, found.deletable) == ("mise", "3.12.4", True)

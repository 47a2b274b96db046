"""uv's managed-Python and executable directories on each system, as uv finds them
(``StateStore::from_settings`` in uv-state, uv-dirs, the etcetera crate): the systems are
simulated through ``hostos.system`` and every home is a temporary one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.engine import hostos
from tui.engine.settings import Settings, uv_bin_dir, uv_install_dir, uv_state_dir
from tui.engine.usage.venvs import default_roots


def _on(monkeypatch: pytest.MonkeyPatch, system: str) -> None:
    monkeypatch.setattr(hostos, "system", lambda: system)


@pytest.fixture
def bare_home(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("XDG_DATA_HOME", "XDG_BIN_HOME", "UV_PYTHON_BIN_DIR", "APPDATA"):
        monkeypatch.delenv(name, raising=False)
    return isolated_home


def test_macos_prefers_xdg_and_keeps_uvs_old_dir_only_while_it_exists(
    bare_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _on(monkeypatch, hostos.MACOS)
    assert uv_install_dir() == bare_home / ".local/share/uv/python"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert uv_install_dir() == tmp_path / "data/uv/python"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/data")  # uv ignores a relative XDG path
    assert uv_install_dir() == bare_home / ".local/share/uv/python"
    monkeypatch.setenv("XDG_DATA_HOME", "")
    assert uv_install_dir() == bare_home / ".local/share/uv/python"

    # uv's old macOS dir wins while its uv folder exists, even with no python in it yet and
    # with XDG_DATA_HOME set: uv checks ~/Library/Application Support/uv itself.
    legacy = bare_home / "Library/Application Support/uv"
    legacy.mkdir(parents=True)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert uv_install_dir() == legacy / "python"
    assert Settings().install_dir == legacy / "python"
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "chosen"))  # beats both
    assert Settings().install_dir == tmp_path / "chosen"
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", "")  # empty is unset, as uv has it
    assert Settings().install_dir == legacy / "python"


def test_windows_uses_appdata_and_its_old_data_dir_only_while_it_exists(
    bare_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _on(monkeypatch, hostos.WINDOWS)
    assert uv_install_dir() == bare_home / "AppData/Roaming/uv/python"  # no APPDATA
    appdata = tmp_path / "Roaming"
    monkeypatch.setenv("APPDATA", str(appdata))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # not read on Windows
    assert uv_install_dir() == appdata / "uv/python"
    (appdata / "uv/data").mkdir(parents=True)
    assert uv_install_dir() == appdata / "uv/data/python"
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "chosen"))
    assert Settings().install_dir == tmp_path / "chosen"


def test_linux_is_as_it_was(
    bare_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _on(monkeypatch, "linux")
    (bare_home / "Library/Application Support/uv").mkdir(parents=True)  # means nothing here
    assert uv_install_dir() == bare_home / ".local/share/uv/python"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert uv_install_dir() == tmp_path / "data/uv/python"
    assert uv_bin_dir() == tmp_path / "bin"
    monkeypatch.setenv("XDG_DATA_HOME", "relative")  # pyshelf takes it on Linux, uv does not
    assert uv_install_dir() == Path("relative/uv/python")


@pytest.mark.parametrize("system", [hostos.MACOS, hostos.WINDOWS])
def test_bin_dir_follows_uv_everywhere_else(
    system: str, bare_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _on(monkeypatch, system)
    assert uv_bin_dir() == bare_home / ".local/bin"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert uv_bin_dir() == tmp_path / "bin"  # $XDG_DATA_HOME/../bin
    monkeypatch.setenv("XDG_BIN_HOME", "relative/bin")  # not absolute: ignored, as uv does
    assert uv_bin_dir() == tmp_path / "bin"
    monkeypatch.setenv("XDG_BIN_HOME", str(tmp_path / "xbin"))
    assert uv_bin_dir() == tmp_path / "xbin"
    monkeypatch.setenv("UV_PYTHON_BIN_DIR", "chosen/bin")  # uv's own variable: as given
    assert uv_bin_dir() == Path("chosen/bin")


@pytest.mark.parametrize("system", [hostos.MACOS, hostos.WINDOWS, "linux"])
def test_uv_tools_are_looked_for_in_uvs_data_folder(
    system: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _on(monkeypatch, system)
    home = tmp_path / "home"
    env = {"APPDATA": str(tmp_path / "Roaming")}
    tools = {
        hostos.MACOS: home / ".local/share/uv/tools",
        hostos.WINDOWS: tmp_path / "Roaming/uv/tools",
        "linux": home / ".local/share/uv/tools",
    }[system]
    assert default_roots(env=env, home=home)[0].path == tools
    legacy = {
        hostos.MACOS: home / "Library/Application Support/uv",
        hostos.WINDOWS: tmp_path / "Roaming/uv/data",
        "linux": home / ".local/share/uv",
    }[system]
    legacy.mkdir(parents=True)
    assert default_roots(env=env, home=home)[0].path == legacy / "tools"
    assert uv_state_dir(env, home) == legacy

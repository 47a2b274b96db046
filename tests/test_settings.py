"""Where things go: options beat uv's environment variables, which beat the defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.cli.parser import build_parser
from tui.cli.settings_args import settings_from
from tui.engine.settings import Settings


def test_defaults_follow_uv(isolated_home: Path) -> None:
    settings = Settings()
    assert settings.install_dir == isolated_home / ".local" / "share" / "uv" / "python"
    assert settings.cache_dir == isolated_home / ".cache" / "pyshelf"
    assert settings.catalog is None and not settings.offline


def test_uv_environment_variables_are_honoured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("UV_PYTHON_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "i"))
    monkeypatch.setenv("UV_PYTHON_BIN_DIR", str(tmp_path / "b"))
    monkeypatch.setenv("UV_PYTHON_DOWNLOADS_JSON_URL", "https://example.invalid/d.json")
    monkeypatch.setenv("UV_PYTHON_INSTALL_MIRROR", "http://mirror.invalid/pbs")
    monkeypatch.setenv("UV_PYPY_INSTALL_MIRROR", "http://mirror.invalid/pypy")
    monkeypatch.setenv("UV_ASTRAL_MIRROR_URL", "https://nexus.invalid/releases.astral.sh/")
    monkeypatch.setenv("UV_OFFLINE", "1")
    s = Settings()
    assert s.astral_mirror == "https://nexus.invalid/releases.astral.sh/"
    assert (s.cache_dir, s.install_dir, s.bin_dir) == (
        tmp_path / "c",
        tmp_path / "i",
        tmp_path / "b",
    )
    assert s.catalog == "https://example.invalid/d.json"
    assert (s.python_mirror, s.pypy_mirror) == (
        "http://mirror.invalid/pbs", "http://mirror.invalid/pypy"
    )  # fmt: skip
    assert s.offline
    assert s.state_dir == tmp_path / "c" / ".pyshelf"


def test_options_beat_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("UV_PYTHON_CACHE_DIR", str(tmp_path / "env"))
    args = build_parser().parse_args(
        ["--cache-dir", str(tmp_path / "opt"), "install", "--no-bin", "3.12", "--parallel", "2"]
    )
    s = settings_from(args)
    assert s.cache_dir == tmp_path / "opt" and not s.link_bin and s.parallel_downloads == 2


def test_venv_dirs_option_repeats(tmp_path: Path) -> None:
    args = build_parser().parse_args(
        ["du", "--venv-dir", str(tmp_path / "a"), "--venv-dir", str(tmp_path / "b")]
    )
    assert settings_from(args).venv_dirs == [tmp_path / "a", tmp_path / "b"]

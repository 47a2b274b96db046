"""Shared fixtures: an isolated home, and a loopback python-build-standalone server."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.loopback import LoopbackServer
from tests.pbs_fixtures import ArchiveSpec, catalog_json, make_archive
from tests.scratch import discard_unless_failed
from tui.cli.main import main as cli_main
from tui.engine.settings import Settings
from tui.engine.shelf import Shelf

pytest_plugins = ["tests.scratch", "tests.loopback", "tests.pbs_fixtures"]

# The archives every world serves: two patches of one minor, variants, and PyPy.
WORLD_ARCHIVES = [
    {"version": "3.12.7", "payload_kib": 256},
    {"version": "3.12.6", "payload_kib": 128},
    {"version": "3.13.1", "payload_kib": 192},
    {"version": "3.13.1", "variant": "freethreaded", "payload_kib": 96},
    {"version": "3.11.9", "payload_kib": 64},
    {"implementation": "pypy", "version": "3.10.14", "payload_kib": 80},
]


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[Path]:
    """Nothing a test does may touch the real ~/.local, ~/.cache or uv's settings. The home
    is emptied with the test unless it failed."""
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        # PYENV_, ASDF_, MISE_: another manager's default found here would be a user.
        if name.startswith(("UV_", "XDG_", "PYENV_", "ASDF_", "MISE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("UV_PYTHON_BIN_DIR", str(home / ".local" / "bin"))
    monkeypatch.setenv("UV_NO_CONFIG", "1")
    yield home
    discard_unless_failed(request, home)


@dataclass
class World:
    server: LoopbackServer
    specs: list[ArchiveSpec]
    catalog_path: Path
    root: Path
    settings: Settings = field(init=False)

    def __post_init__(self) -> None:
        self.settings = self.make_settings()

    def make_settings(self, **overrides: object) -> Settings:
        settings = Settings(
            cache_dir=self.root / "cache",
            install_dir=self.root / "installs",
            bin_dir=self.root / "bin",
            catalog=str(self.catalog_path),
        )
        settings.retries = 3
        for name, value in overrides.items():
            setattr(settings, name, value)
        return settings

    def shelf(self, **overrides: object) -> Shelf:
        shelf = Shelf(self.make_settings(**overrides))
        shelf.downloader.policy.backoff = 0.01  # retries without the real-world waits
        return shelf

    def spec(self, key: str) -> ArchiveSpec:
        return next(s for s in self.specs if s.key == key)

    def archive_path(self, spec: ArchiveSpec) -> str:
        return f"/{spec.build}/{spec.filename}"

    def cli(self, *args: str) -> tuple[int, str, str]:
        """Run the CLI in-process against this world; returns (exit code, stdout, stderr)."""
        out, err = io.StringIO(), io.StringIO()
        base = [
            "--cache-dir", str(self.root / "cache"),
            "--install-dir", str(self.root / "installs"),
            "--bin-dir", str(self.root / "bin"),
            "--catalog", str(self.catalog_path),
        ]  # fmt: skip
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli_main([*base, *args])  # options after the command win
        return code, out.getvalue(), err.getvalue()


def build_world(root: Path, server: LoopbackServer, archives: list[dict] | None = None) -> World:
    specs = []
    for spec_args in WORLD_ARCHIVES if archives is None else archives:
        build = spec_args.get("build", "20991231")
        specs.append(make_archive(server.root / build, **spec_args))
    catalog_path = root / "catalog.json"
    catalog_path.write_text(json.dumps(catalog_json(specs, server.url), indent=1))
    return World(server, specs, catalog_path, root)


def world_serving(root: Path, server: LoopbackServer, spec: ArchiveSpec) -> World:
    """A world whose server and catalog hold one prebuilt archive (a real interpreter, say)."""
    target = server.root / spec.build / spec.filename
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(spec.path, target)
    world = build_world(root, server, archives=[])
    world.catalog_path.write_text(json.dumps(catalog_json([spec], server.url)))
    world.specs.append(spec)
    return world


@pytest.fixture
def real_world(
    tmp_path: Path, loopback_server: LoopbackServer, real_pbs_archive: ArchiveSpec
) -> World:
    """A world serving an archive of the interpreter that runs the tests."""
    return world_serving(tmp_path, loopback_server, real_pbs_archive)


@pytest.fixture
def world(tmp_path: Path, loopback_server: LoopbackServer) -> Iterator[World]:
    yield build_world(tmp_path, loopback_server)

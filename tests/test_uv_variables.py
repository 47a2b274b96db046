"""The variables uv's python commands read that pyshelf honours beyond the directories and
mirrors: build pins, HTTP timeouts and retries, concurrent downloads, progress, the working
directory."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from tests.conftest import World
from tests.uv_catalogs import entry, uv_env, write_catalog
from tests.uvtool import run_uv
from tui.cli.reporter import ProgressPrinter as Reporter
from tui.engine.errors import RequestError
from tui.engine.host import current_host
from tui.engine.pins import find_pins
from tui.engine.settings import Settings
from tui.engine.shelf import Shelf


def test_build_pins_pick_the_build_uv_picks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = current_host()
    builds = ("20990101", "20990601", "20991231")
    entries = [
        entry("cpython", "3.12.7", here.os, here.arch, here.libc, build=build) for build in builds
    ]
    # uv's catalog keys are its own business: three builds of one key need three names.
    entries = [(f"{key}-{n}", fields) for n, (key, fields) in enumerate(entries)]
    catalog = write_catalog(tmp_path / "builds.json", entries)
    for pin in builds:
        env = {"UV_PYTHON_CPYTHON_BUILD": pin}
        result = run_uv(
            "python", "install", "--offline", "--python-downloads-json-url", str(catalog),
            "3.12", env={**uv_env(tmp_path), **env}, check=False,
        )  # fmt: skip
        found = re.search(r"\(from `([^`]+)`\)", result.stderr)
        assert found, result.stderr
        monkeypatch.setenv("UV_PYTHON_CPYTHON_BUILD", f" {pin} ")
        shelf = Shelf(Settings(catalog=str(catalog), cache_dir=tmp_path / "c", offline=True))
        picked = shelf.resolve_available("3.12", shelf.entries())
        assert picked.build.build == pin
        assert shelf.sources.urls(picked.build)[0] == found[1]
    monkeypatch.setenv("UV_PYTHON_CPYTHON_BUILD", "20000101")
    shelf = Shelf(Settings(catalog=str(catalog), cache_dir=tmp_path / "c", offline=True))
    with pytest.raises(RequestError, match="UV_PYTHON_CPYTHON_BUILD=20000101"):
        shelf.resolve_available("3.12", shelf.entries())
    monkeypatch.setenv("UV_PYTHON_PYPY_BUILD", "7.3.1")  # another implementation's pin
    monkeypatch.delenv("UV_PYTHON_CPYTHON_BUILD")
    shelf = Shelf(Settings(catalog=str(catalog), cache_dir=tmp_path / "c", offline=True))
    assert shelf.resolve_available("3.12", shelf.entries()).build.build == "20991231"


def test_http_variables_set_the_download_client(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings()
    assert (defaults.read_timeout, defaults.connect_timeout) == (30, 10)  # uv's defaults
    assert (defaults.retries, defaults.parallel_downloads) == (6, 4)
    monkeypatch.setenv("UV_HTTP_TIMEOUT", "90")
    monkeypatch.setenv("UV_HTTP_CONNECT_TIMEOUT", "3")
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    monkeypatch.setenv("UV_CONCURRENT_DOWNLOADS", "50")  # uv's default, more than pyshelf's cap
    settings = Settings()
    assert (settings.read_timeout, settings.connect_timeout, settings.retries) == (90, 3, 0)
    assert settings.parallel_downloads == 50
    monkeypatch.setenv("UV_CONCURRENT_DOWNLOADS", "500")
    assert Settings().parallel_downloads == 64
    timeout = Shelf(settings).client.timeout
    assert (timeout.read, timeout.connect) == (90, 3)
    monkeypatch.delenv("UV_HTTP_TIMEOUT")
    monkeypatch.setenv("UV_REQUEST_TIMEOUT", "45")  # uv's older name for it
    assert Settings().read_timeout == 45
    assert Shelf(Settings()).installs.lock_timeout == 120
    monkeypatch.setenv("UV_LOCK_TIMEOUT", "7")
    assert Shelf(Settings()).installs.lock_timeout == 7


def test_no_retries_gives_up_at_the_first_failure(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = world.specs[0]
    world.server.fault(spec.filename, status=503, times=1)
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    code, _, err = world.cli("fetch", "3.12.7")
    assert code == 1 and "HTTP 503" in err
    world.server.fault(spec.filename, status=503, times=1)
    monkeypatch.setenv("UV_HTTP_RETRIES", "2")
    code, _, err = world.cli("fetch", "3.12.7")
    assert code == 0, err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_uv_no_progress_draws_no_bars(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Reporter(_Terminal()).live
    monkeypatch.setenv("UV_NO_PROGRESS", "1")
    assert not Reporter(_Terminal()).live


def test_uv_working_dir_is_where_pins_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / ".python-version").write_text("3.11\n")
    monkeypatch.chdir(tmp_path)
    assert find_pins() is None
    monkeypatch.setenv("UV_WORKING_DIR", str(project / "src"))
    pins = find_pins()
    assert pins is not None and pins.requests == ("3.11",)

"""uv's download sources: Astral's mirror first, GitHub when it fails, UV_ASTRAL_MIRROR_URL in
its place (alone), UV_PYTHON_INSTALL_MIRROR over both; the same URLs, in uv's order."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import World
from tests.loopback import LoopbackServer
from tests.pbs_fixtures import ArchiveSpec, make_archive
from tests.uv_catalogs import entry, uv_env, write_catalog
from tests.uvtool import run_uv
from tui.engine.archives.catalog import load_catalog
from tui.engine.archives.sources import PBS_RELEASES, Sources
from tui.engine.builds import Build
from tui.engine.errors import DownloadError
from tui.engine.host import current_host
from tui.engine.shelf import Shelf

MIRROR_PATH = "github/python-build-standalone/releases/download"
UPSTREAM_PATH = "astral-sh/python-build-standalone/releases/download"
NEXUS = "https://nexus.example.invalid/repository/releases.astral.sh/"


def _uv_first_url(catalog: Path, key: str, root: Path, env: dict[str, str]) -> str:
    """The URL uv would download ``key`` from first: offline, with no archive cached, its
    install fails naming it."""
    result = run_uv(
        "python", "install", "--offline", "--python-downloads-json-url", str(catalog), key,
        env={**uv_env(root), **env}, check=False,
    )  # fmt: skip
    found = re.search(r"\(from `([^`]+)`\)", result.stderr)
    assert found, result.stderr
    return found[1]


@pytest.mark.parametrize(
    "env",
    [{}, {"UV_ASTRAL_MIRROR_URL": NEXUS},
     {"UV_ASTRAL_MIRROR_URL": NEXUS.rstrip("/")},
     {"UV_PYTHON_INSTALL_MIRROR": "https://pbs.example.invalid/mirror/"},
     {"UV_PYTHON_INSTALL_MIRROR": "https://pbs.example.invalid/m", "UV_ASTRAL_MIRROR_URL": NEXUS},
     {"UV_PYPY_INSTALL_MIRROR": "https://pypy.example.invalid/p", "UV_ASTRAL_MIRROR_URL": NEXUS}],
    ids=["default", "astral", "astral-no-slash", "install-mirror", "both", "pypy-mirror"],
)  # fmt: skip
def test_the_first_url_is_the_one_uv_asks(tmp_path: Path, env: dict[str, str]) -> None:
    entries = [
        entry("cpython", "3.12.7", "linux", "x86_64", "gnu"),
        entry("cpython", "3.13.1", "darwin", "aarch64", "none", variant="freethreaded"),
        entry("pypy", "3.10.14", "linux", "x86_64", "gnu"),
        entry("graalpy", "3.12.0", "linux", "x86_64", "gnu"),
    ]
    catalog = write_catalog(tmp_path / "catalog.json", entries)
    python_mirror = env.get("UV_PYTHON_INSTALL_MIRROR")
    loaded = load_catalog(
        str(catalog), store=tmp_path / "store", python_mirror=python_mirror,
        pypy_mirror=env.get("UV_PYPY_INSTALL_MIRROR"),
    )  # fmt: skip
    sources = Sources(python_mirror, env.get("UV_ASTRAL_MIRROR_URL"))
    for build in loaded.builds:
        ours = sources.urls(build)
        assert ours[0] == _uv_first_url(catalog, build.key, tmp_path, env), build.key
        # Only the default mirror falls back, to the published URL (uv's downloads.rs).
        upstream = build.implementation == "cpython" and not env
        assert ours[1:] == ((build.url,) if upstream else ())


class HostsFile(httpx.BaseTransport):
    """Sends requests for named hosts to loopback servers, as a hosts file would, and keeps
    every URL asked, in order."""

    def __init__(self, hosts: dict[str, LoopbackServer]) -> None:
        self.ports = {name: int(server.url.rsplit(":", 1)[1]) for name, server in hosts.items()}
        self.asked: list[str] = []
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(str(request.url))
        if (port := self.ports.get(request.url.host)) is not None:
            request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=port)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[LoopbackServer, LoopbackServer]]:
    """Astral's mirror's stand-in and GitHub's."""
    with (
        LoopbackServer(tmp_path / "mirror-www") as mirror,
        LoopbackServer(tmp_path / "upstream-www") as upstream,
    ):
        yield mirror, upstream


def _published(world: World, servers: tuple[LoopbackServer, LoopbackServer]) -> ArchiveSpec:
    """One archive, on both servers where each serves it, in a catalog of GitHub's URLs."""
    here = current_host()
    triple = f"{here.arch}-unknown-{here.os}-{here.libc}"
    spec = make_archive(world.root / "made", version="3.12.7", triple=triple)
    mirror, upstream = servers
    for root in (mirror.root / MIRROR_PATH, upstream.root / UPSTREAM_PATH):
        target = root / spec.build / spec.filename
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(spec.path.read_bytes())
    fields = {
        "name": "cpython", "arch": {"family": here.arch, "variant": None}, "os": here.os,
        "libc": here.libc, "major": 3, "minor": 12, "patch": 7, "prerelease": None,
        "url": f"{PBS_RELEASES}{spec.build}/{quote(spec.filename, safe='')}",
        "sha256": spec.sha256, "variant": None, "build": spec.build,
    }  # fmt: skip
    world.catalog_path.write_text(json.dumps({"cpython-3.12.7": fields}))
    return spec


def _shelf(world: World, transport: HostsFile) -> tuple[Shelf, Build]:
    shelf = Shelf(world.make_settings(), client=httpx.Client(transport=transport))
    shelf.downloader.policy.backoff = 0.01
    return shelf, shelf.catalog.builds[0]


def _mirror_url(spec: ArchiveSpec, base: str) -> str:
    return f"{base}/{MIRROR_PATH}/{spec.build}/{quote(spec.filename, safe='')}"


class Default(NamedTuple):
    """uv's default sources, Astral's mirror and GitHub, served by loopback servers."""

    mirror: LoopbackServer
    upstream: LoopbackServer
    spec: ArchiveSpec
    hosts: HostsFile
    shelf: Shelf
    build: Build

    @property
    def from_mirror(self) -> str:
        return _mirror_url(self.spec, "https://releases.astral.sh")

    def fetched(self) -> bool:
        return self.shelf.downloader.fetch(self.build).read_bytes() == self.spec.path.read_bytes()

    def again(self) -> None:
        """Forget the cached archive and the URLs asked so far."""
        self.shelf.evict(self.shelf.entries()[0])
        self.hosts.asked.clear()


@pytest.fixture
def default(world: World, servers: tuple[LoopbackServer, LoopbackServer]) -> Default:
    mirror, upstream = servers
    spec = _published(world, servers)
    hosts = HostsFile({"releases.astral.sh": mirror, "github.com": upstream})
    return Default(mirror, upstream, spec, hosts, *_shelf(world, hosts))


def test_astral_mirror_first_then_github(default: Default) -> None:
    d = default
    d.shelf.probe_download_sizes(d.shelf.entries())  # sizes are asked where downloads go
    assert d.hosts.asked == [d.from_mirror]
    d.hosts.asked.clear()
    assert d.fetched()
    assert d.hosts.asked == [d.from_mirror] and d.upstream.requests == []
    for status in (404, 503):  # any HTTP error: GitHub is asked at once, no retry first
        d.again()
        d.mirror.fault(d.spec.filename, status=status)
        assert d.fetched()
        assert d.hosts.asked == [d.from_mirror, d.build.url]
        d.mirror.clear_faults()
    d.again()
    d.mirror.stop()  # refuses connections: GitHub all the same
    assert d.fetched()
    assert d.hosts.asked == [d.from_mirror, d.build.url]


def test_a_failing_round_starts_again_from_the_mirror(default: Default) -> None:
    d = default
    d.mirror.fault(d.spec.filename, status=503, times=1)
    d.upstream.fault(d.spec.filename, status=503, times=1)
    assert d.fetched()
    assert d.hosts.asked == [d.from_mirror, d.build.url, d.from_mirror]
    d.again()
    d.mirror.fault(d.spec.filename, status=404)
    d.upstream.fault(d.spec.filename, status=404)
    with pytest.raises(DownloadError, match="HTTP 404"):  # not found anywhere: no retry
        d.shelf.downloader.fetch(d.build)
    assert d.hosts.asked == [d.from_mirror, d.build.url]


@pytest.mark.parametrize("trailing", ["", "/"])
def test_uv_astral_mirror_url_alone_is_asked(
    world: World,
    servers: tuple[LoopbackServer, LoopbackServer],
    monkeypatch: pytest.MonkeyPatch,
    trailing: str,
) -> None:
    mirror, upstream = servers
    spec = _published(world, servers)
    base = f"{mirror.url}/nexus"
    (mirror.root / "nexus").mkdir()
    (mirror.root / "github").rename(mirror.root / "nexus" / "github")
    monkeypatch.setenv("UV_ASTRAL_MIRROR_URL", base + trailing)
    hosts = HostsFile({"github.com": upstream})
    shelf, build = _shelf(world, hosts)
    assert shelf.downloader.fetch(build).read_bytes() == spec.path.read_bytes()
    assert hosts.asked == [_mirror_url(spec, base)]
    shelf.evict(shelf.entries()[0])
    hosts.asked.clear()
    mirror.fault(spec.filename, status=404)
    with pytest.raises(DownloadError, match="HTTP 404"):
        shelf.downloader.fetch(build)
    assert hosts.asked == [_mirror_url(spec, base)] and upstream.requests == []  # no GitHub


def test_uv_python_install_mirror_overrides_the_astral_mirror(
    world: World,
    servers: tuple[LoopbackServer, LoopbackServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mirror, upstream = servers
    spec = _published(world, servers)
    monkeypatch.setenv("UV_ASTRAL_MIRROR_URL", f"{mirror.url}/nexus")
    monkeypatch.setenv("UV_PYTHON_INSTALL_MIRROR", f"{upstream.url}/{UPSTREAM_PATH}")
    hosts = HostsFile({})
    shelf, build = _shelf(world, hosts)
    assert shelf.downloader.fetch(build).read_bytes() == spec.path.read_bytes()
    assert len(hosts.asked) == 1 and hosts.asked[0].startswith(upstream.url)
    assert mirror.requests == []


def test_doctor_shows_the_source_in_use(
    world: World, servers: tuple[LoopbackServer, LoopbackServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror, _ = servers
    _published(world, servers)
    code, out, err = world.cli("--offline", "doctor")
    assert code == 0, err
    assert "Astral's mirror https://releases.astral.sh, then GitHub" in out
    assert re.search(r"cpython mirror +https://releases.astral.sh/ +not checked", out)
    assert re.search(r"cpython archives \(fallback\) +https://github.com/ +not checked", out)
    monkeypatch.setenv("UV_ASTRAL_MIRROR_URL", f"{mirror.url}/xxx/")
    (mirror.root / "xxx").mkdir()
    (mirror.root / "github").rename(mirror.root / "xxx" / "github")
    code, out, err = world.cli("doctor")
    assert code == 0, out + err
    assert f"{mirror.url}/xxx/ (UV_ASTRAL_MIRROR_URL), nothing else" in out
    assert re.search(rf"ok +cpython mirror +{re.escape(mirror.url)}/ .*HTTP 200", out)
    assert "github.com" not in out and "fallback" not in out

"""Tests for the test-support modules: the loopback HTTP server and the pbs archive builder."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import loopback
from tests.loopback import LoopbackServer
from tests.pbs_fixtures import ArchiveSpec, catalog_json, make_archive, make_real_archive

# conftest registers these too; naming them here keeps this module runnable on its own.
pytest_plugins = ["tests.loopback", "tests.pbs_fixtures"]

SIZE = 256 * 1024


@pytest.fixture
def blob(loopback_server: LoopbackServer) -> bytes:
    data = os.urandom(SIZE)
    (loopback_server.root / "blob.bin").write_bytes(data)
    return data


@pytest.fixture
def client(loopback_server: LoopbackServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=loopback_server.url, timeout=5) as c:
        yield c


def _stream(client: httpx.Client, path: str) -> tuple[httpx.Response, bytes, bool]:
    """GET path; return (response, bytes received, whether the body ended early)."""
    got = bytearray()
    with client.stream("GET", path) as r:
        try:
            for chunk in r.iter_raw():
                got += chunk
        except httpx.TransportError:
            return r, bytes(got), True
    return r, bytes(got), False


def test_head_and_get(loopback_server: LoopbackServer, client: httpx.Client, blob: bytes) -> None:
    head = client.head("/blob.bin")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == SIZE
    assert head.headers["etag"] and head.headers["last-modified"]
    get = client.get("/blob.bin")
    assert hashlib.sha256(get.content).digest() == hashlib.sha256(blob).digest()
    assert get.headers["etag"] == head.headers["etag"]
    assert client.get("/missing.bin").status_code == 404
    (loopback_server.root.parent / "secret").write_text("x")
    assert client.get("/%2e%2e/secret").status_code == 404
    assert loopback_server.requests[-1].path == "/%2e%2e/secret"  # reached us un-normalised


def test_ranges(client: httpx.Client, blob: bytes) -> None:
    first = client.get("/blob.bin", headers={"Range": "bytes=0-999"})
    assert first.status_code == 206 and first.headers["content-range"] == f"bytes 0-999/{SIZE}"
    rest = client.get("/blob.bin", headers={"Range": "bytes=1000-"})
    assert rest.status_code == 206 and first.content + rest.content == blob
    tail = client.get("/blob.bin", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == blob[-10:]
    bad = client.get("/blob.bin", headers={"Range": f"bytes={SIZE}-"})
    assert bad.status_code == 416 and bad.headers["content-range"] == f"bytes */{SIZE}"


def test_conditional_requests(client: httpx.Client, blob: bytes) -> None:
    etag = client.head("/blob.bin").headers["etag"]
    r = client.get("/blob.bin", headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b""
    assert client.get("/blob.bin", headers={"If-None-Match": '"other"'}).status_code == 200
    stale = client.get("/blob.bin", headers={"Range": "bytes=10-", "If-Range": '"old"'})
    assert stale.status_code == 200 and stale.content == blob
    fresh = client.get("/blob.bin", headers={"Range": "bytes=10-", "If-Range": etag})
    assert fresh.status_code == 206 and fresh.content == blob[10:]


def test_drop_after_truncates(
    loopback_server: LoopbackServer, client: httpx.Client, blob: bytes
) -> None:
    loopback_server.fault("blob.bin", drop_after=1000, times=1)
    r, got, early = _stream(client, "/blob.bin")
    assert early and int(r.headers["content-length"]) == SIZE and len(got) == 1000
    assert got == blob[:1000]
    assert client.get("/blob.bin").content == blob  # times=1: the next request is healthy


def test_status_then_recovers(
    loopback_server: LoopbackServer, client: httpx.Client, blob: bytes
) -> None:
    loopback_server.fault(None, status=503, times=1, retry_after=2)
    r = client.get("/blob.bin")
    assert r.status_code == 503 and r.headers["retry-after"] == "2"
    assert client.get("/blob.bin").status_code == 200
    assert [q.method for q in loopback_server.requests] == ["GET", "GET"]
    assert loopback_server.requests[0].path == "/blob.bin"


def test_corrupt_ignore_range_no_length(
    loopback_server: LoopbackServer, client: httpx.Client, blob: bytes
) -> None:
    loopback_server.fault("blob.bin", corrupt=True, times=1)
    bad = client.get("/blob.bin").content
    assert len(bad) == SIZE and bad != blob
    loopback_server.fault("blob.bin", ignore_range=True, times=1)
    r = client.get("/blob.bin", headers={"Range": "bytes=100-"})
    assert r.status_code == 200 and r.content == blob
    loopback_server.fault("blob.bin", no_length=True)
    r = client.get("/blob.bin")
    assert "content-length" not in r.headers and r.content == blob
    loopback_server.clear_faults()
    assert client.get("/blob.bin").headers["content-length"] == str(SIZE)


def test_fault_matches_suffix_only(
    loopback_server: LoopbackServer, client: httpx.Client, blob: bytes
) -> None:
    (loopback_server.root / "other.bin").write_bytes(b"x")
    loopback_server.fault("other.bin", status=500)
    assert client.get("/blob.bin").status_code == 200
    assert client.get("/other.bin").status_code == 500


class _Clock:
    """The server's clock in a test: time passes only while the throttle waits on it."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now


class _WaitsOn(threading.Event):
    """The server's stop event: a wait returns at once and moves ``clock`` on by its timeout."""

    def __init__(self, clock: _Clock) -> None:
        super().__init__()
        self.clock = clock

    def wait(self, timeout: float | None = None) -> bool:
        self.clock.now += timeout or 0.0
        return self.is_set()


def test_rate_limit(
    loopback_server: LoopbackServer,
    client: httpx.Client,
    blob: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The throttle pauses exactly as long as the rate says, on a clock of its own (no test
    asserts on time: a loaded machine would make a stopwatch lie)."""
    clock = _Clock()
    monkeypatch.setattr(loopback, "time", clock)
    monkeypatch.setattr(loopback_server, "_stopping", _WaitsOn(clock))
    loopback_server.fault("blob.bin", rate=256 * 1024)
    r = client.get("/blob.bin", headers={"Range": "bytes=0-65535"})
    assert r.content == blob[:65536]
    assert clock.now == pytest.approx(65536 / (256 * 1024))


def test_hang_times_out_and_stop_is_prompt(
    loopback_server: LoopbackServer, client: httpx.Client, blob: bytes
) -> None:
    loopback_server.fault("blob.bin", hang=5, times=1)
    with pytest.raises(httpx.ReadTimeout):
        client.get("/blob.bin", timeout=0.2)
    loopback_server.fault("blob.bin", rate=1024)  # would take minutes
    results: list[bool] = []
    t = threading.Thread(target=lambda: results.append(_stream(client, "/blob.bin")[2]))
    t.start()
    time.sleep(0.2)
    loopback_server.stop()
    t.join(timeout=30)  # a hang guard, not a stopwatch: the transfer alone takes minutes
    assert not t.is_alive(), "stop() left a throttled response running"
    assert results == [True]


# --- pbs archive builder ------------------------------------------------------------------


def test_archive_is_deterministic(tmp_path: Path) -> None:
    a = make_archive(tmp_path / "a")
    b = make_archive(tmp_path / "b")
    assert a.sha256 == b.sha256 and a.path.read_bytes() == b.path.read_bytes()
    assert a.size > 64 * 1024  # the payload is incompressible
    assert make_archive(tmp_path / "c", version="3.12.8").sha256 != a.sha256
    name = "cpython-3.12.7+20991231-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz"
    assert a.filename == name
    assert a.key == "cpython-3.12.7-linux-x86_64-gnu"


def test_archive_layout_runs(tmp_path: Path) -> None:
    spec = make_archive(tmp_path)
    with tarfile.open(spec.path) as tar:
        exe = tar.getmember("python/bin/python3.12")
        assert exe.isfile() and exe.mode == 0o755
        for name in ("python3", "python"):
            assert tar.getmember(f"python/bin/{name}").linkname == "python3.12"
        assert tar.getmember("python/lib/python3.12/payload.bin").size == 64 * 1024
        tar.extractall(tmp_path / "x", filter="data")
    out = subprocess.run(
        [tmp_path / "x/python/bin/python3"], capture_output=True, text=True, check=True
    )
    assert out.stdout == "fake-cpython-3.12.7\n"


def test_variants_and_pypy(tmp_path: Path) -> None:
    ft = make_archive(tmp_path, version="3.13.1", variant="freethreaded")
    assert ft.key == "cpython-3.13.1+freethreaded-linux-x86_64-gnu"
    assert ft.filename.endswith("-unknown-linux-gnu-freethreaded-install_only_stripped.tar.gz")
    pp = make_archive(tmp_path, implementation="pypy", version="3.10.14")
    assert pp.key == "pypy-3.10.14-linux-x86_64-gnu"
    assert pp.filename == "pypy3.10-v7.3.17-linux64.tar.bz2"
    with tarfile.open(pp.path) as tar:
        assert tar.getmember("pypy3.10-v7.3.17-linux64/bin/pypy3.10").isfile()
    hostile = tarfile.TarInfo("../escape.txt")
    evil = make_archive(tmp_path / "evil", extra_members=[(hostile, b"boom")])
    with tarfile.open(evil.path) as tar:
        assert tar.getnames()[-1] == "../escape.txt"


def test_catalog_served_over_loopback(
    loopback_server: LoopbackServer, client: httpx.Client
) -> None:
    specs: list[ArchiveSpec] = [
        make_archive(loopback_server.root / "20991231"),
        make_archive(loopback_server.root / "20991231", version="3.13.1", variant="freethreaded"),
    ]
    catalog = json.loads(json.dumps(catalog_json(specs, loopback_server.url)))
    entry = catalog["cpython-3.12.7-linux-x86_64-gnu"]
    assert entry == {
        "name": "cpython",
        "arch": {"family": "x86_64", "variant": None},
        "os": "linux",
        "libc": "gnu",
        "major": 3,
        "minor": 12,
        "patch": 7,
        "prerelease": "",
        "url": f"{loopback_server.url}/20991231/cpython-3.12.7%2B20991231-x86_64-unknown-linux-gnu"
        "-install_only_stripped.tar.gz",
        "sha256": specs[0].sha256,
        "variant": None,
        "build": "20991231",
    }
    assert catalog["cpython-3.13.1+freethreaded-linux-x86_64-gnu"]["variant"] == "freethreaded"
    for e in catalog.values():
        assert hashlib.sha256(client.get(e["url"]).content).hexdigest() == e["sha256"]


def test_real_archive_runs(tmp_path: Path, real_pbs_archive: ArchiveSpec) -> None:
    spec = make_real_archive(tmp_path / "dl")  # served from the per-session cache
    assert spec.sha256 == real_pbs_archive.sha256 and spec.path.parent == tmp_path / "dl"
    with tarfile.open(spec.path) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    prefix = tmp_path / "install"
    (tmp_path / "x/python").rename(prefix)  # strip the top-level python/ as installers do
    code = "import sys, os, json; print(sys.prefix)"
    exe = prefix / "bin" / f"python{spec.major}.{spec.minor}"
    out = subprocess.run([exe, "-c", code], capture_output=True, text=True, env={}, check=True)
    assert out.stdout.strip() == str(prefix)
    assert not (prefix / f"lib/python{spec.major}.{spec.minor}/site-packages").exists()

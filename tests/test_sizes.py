"""Download sizes: failures remembered for a while, hosts that never answer cut short."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.conftest import World
from tui.engine.archives import sizes
from tui.engine.archives.sizes import FAILURE_TTL, ProbeFailures, RemoteSizes


class SilentServer:
    """Accepts connections and never says a word: a host that does not answer."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self.sock.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            self._held.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for conn in self._held:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def short_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sizes, "PROBE_READ", 0.3)  # the silent host's tests wait this long
    monkeypatch.setattr(sizes, "PROBE_CONNECT", 0.3)


def _catalog_on(world: World, base: str, name: str = "elsewhere.json") -> Path:
    catalog = json.loads(world.catalog_path.read_text())
    for entry in catalog.values():
        entry["url"] = entry["url"].replace(world.server.url, base)
    path = world.root / name
    path.write_text(json.dumps(catalog))
    return path


def _heads(world: World) -> list[str]:
    return [unquote(r.path) for r in world.server.requests if r.method == "HEAD"]


def test_a_second_listing_asks_nothing_that_failed(world: World) -> None:
    """A 404 is remembered for the archive; a size learned is remembered for good."""
    missing = world.spec("cpython-3.11.9-linux-x86_64-gnu")
    (world.server.root / missing.build / missing.filename).unlink()
    code, out, err = world.cli("list", "--all", "--all-platforms")
    assert code == 0, err
    asked = _heads(world)
    assert any(p.endswith(missing.filename) for p in asked)
    assert len(asked) == len(world.specs)
    assert "unknown" in next(line for line in out.splitlines() if missing.key in line)

    world.server.clear_requests()
    code, out, err = world.cli("list", "--all", "--all-platforms")
    assert code == 0, err
    assert _heads(world) == []


def test_a_host_that_never_answers_is_cut_short_and_asked_once(
    world: World, silent: SilentServer
) -> None:
    catalog = _catalog_on(world, silent.url)
    code, out, err = world.cli("--catalog", str(catalog), "list", "--all", "--all-platforms")
    assert code == 0, err
    assert out.count("unknown") == len(world.specs)
    # One probe went to the host alone; when it timed out, its other archives were not asked.
    assert silent.accepted == 1

    code, _, err = world.cli("--catalog", str(catalog), "list", "--all", "--all-platforms")
    assert code == 0, err
    assert silent.accepted == 1  # remembered: not asked again within the hour


def test_a_refused_host_is_remembered_while_others_are_still_asked(world: World) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
    closed.close()  # nothing listens there now: connections are refused
    catalog = json.loads(world.catalog_path.read_text())
    pypy = [k for k in catalog if k.startswith("pypy")]
    for key in pypy:
        catalog[key]["url"] = catalog[key]["url"].replace(world.server.url, dead)
    path = world.root / "split.json"
    path.write_text(json.dumps(catalog))
    code, _, err = world.cli("--catalog", str(path), "list", "--all", "--all-platforms")
    assert code == 0, err
    assert len(_heads(world)) == len(world.specs) - len(pypy)  # the live host answered all
    failures = json.loads((world.root / "cache" / ".pyshelf" / "probe-failures.json").read_text())
    assert list(failures["hosts"]) == [dead.removeprefix("http://")]
    assert failures["urls"] == {}


def test_nothing_to_ask_makes_no_client(world: World, tmp_path: Path) -> None:
    shelf = world.shelf()
    builds = [e.build for e in shelf.entries()]
    shelf.sizes.probe_many(builds, lambda: shelf.client)  # learns them all

    def no_client() -> object:
        raise AssertionError("no request was needed")

    again = RemoteSizes(shelf.sizes.path)
    again.probe_many(builds, no_client)  # type: ignore[arg-type]
    assert all(again.get(b) is not None for b in builds)


def test_failures_expire_and_the_file_is_checked(tmp_path: Path) -> None:
    now = [1_000_000.0]
    path = tmp_path / "probe-failures.json"
    failures = ProbeFailures(path, clock=lambda: now[0])
    failures.fail_url("https://mirror.invalid/a.tar.gz")
    failures.fail_host("https://gone.invalid:8443/b.tar.gz")
    failures.save()
    assert "a.tar.gz" not in path.read_text()  # URLs are kept as hashes, never as text

    later = ProbeFailures(path, clock=lambda: now[0] + FAILURE_TTL / 2)
    assert later.url_failed("https://mirror.invalid/a.tar.gz")
    assert later.host_failed("https://gone.invalid:8443/other.tar.gz")
    assert not later.host_failed("https://gone.invalid/other.tar.gz")  # another port

    expired = ProbeFailures(path, clock=lambda: now[0] + FAILURE_TTL + 1)
    assert not expired.url_failed("https://mirror.invalid/a.tar.gz")
    assert not expired.host_failed("https://gone.invalid:8443/b.tar.gz")

    # A damaged file, or one that says "for ever", asks again.
    for text in ("{", "[]", json.dumps({"hosts": {"gone.invalid:8443": 1e18}})):
        path.write_text(text)
        fresh = ProbeFailures(path, clock=lambda: now[0])
        assert not fresh.host_failed("https://gone.invalid:8443/b.tar.gz")

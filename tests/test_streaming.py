"""One pass over an archive's bytes: a first install unpacks as the download lands, an install
from the cache hashes as it unpacks, and every way a download can go wrong (a drop, a server
that restarts the file, bytes that are not the archive, a hostile archive, a cancel) leaves a
correct copy or none at all."""

from __future__ import annotations

import json
import tarfile
import threading
from pathlib import Path

import pytest

from tests.conftest import World
from tests.pbs_fixtures import _file, catalog_json, make_archive
from tui.engine.archives import download, extract
from tui.engine.jobs import JobKind, JobQueue
from tui.engine.progress import Phase
from tui.engine.shelf import Entry, Shelf

K127 = "cpython-3.12.7-linux-x86_64-gnu"
PAYLOAD = "lib/python3.12/payload.bin"


def entry_of(shelf: Shelf, key: str) -> Entry:
    return next(e for e in shelf.entries() if e.key == key)


def archived(world: World, key: str, member: str) -> bytes:
    with tarfile.open(world.spec(key).path) as tar:
        handle = tar.extractfile(f"python/{member}")
        assert handle is not None
        return handle.read()


def store_dir(world: World) -> Path:
    return world.root / "cache" / ".pyshelf" / "unpacked"


def scratch(world: World) -> list[str]:
    """Unpacks in progress or left behind, in the store and in the install dir."""
    names = [p.name for p in store_dir(world).glob(".tmp-*")]
    temp = world.root / "installs" / ".temp"
    return names + [p.name for p in temp.iterdir()] if temp.is_dir() else names


def no_second_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if anything reads a downloaded archive back to unpack or hash it."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the archive was read a second time")

    monkeypatch.setattr(extract, "extract_archive", refuse)
    monkeypatch.setattr(download, "sha256_file", refuse)


def assert_installed_from_archive(world: World) -> None:
    installed = world.root / "installs" / K127 / PAYLOAD
    assert installed.read_bytes() == archived(world, K127, PAYLOAD)
    copy = store_dir(world) / world.spec(K127).sha256[:16] / "tree" / PAYLOAD
    assert copy.read_bytes() == installed.read_bytes()
    assert copy.stat().st_ino == installed.stat().st_ino  # the install is linked from the copy
    assert scratch(world) == []


def test_first_install_unpacks_as_it_downloads(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_second_pass(monkeypatch)
    code, _, err = world.cli("install", "3.12.7")
    assert code == 0, err
    assert_installed_from_archive(world)
    cached = list((world.root / "cache").glob("*cpython-3.12.7*"))
    assert [p.read_bytes() for p in cached] == [world.spec(K127).path.read_bytes()]


def test_install_from_the_cache_hashes_as_it_unpacks(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert world.cli("fetch", "3.12.7")[0] == 0
    monkeypatch.setattr(download, "sha256_file", lambda *a, **k: pytest.fail("hashed twice"))
    world.server.clear_requests()
    code, _, err = world.cli("--offline", "install", "3.12.7")
    assert code == 0, err
    assert_installed_from_archive(world)


def test_damaged_cached_archive_is_fetched_again(world: World) -> None:
    assert world.cli("fetch", "3.12.7")[0] == 0
    (cached,) = (world.root / "cache").glob("*cpython-3.12.7*")
    data = bytearray(cached.read_bytes())
    data[len(data) // 2] ^= 0xFF
    cached.write_bytes(bytes(data))

    code, _, err = world.cli("--offline", "install", "3.12.7")
    assert code != 0
    assert "not in the cache" in err and "Traceback" not in err
    assert not cached.exists()  # the damaged copy went
    assert scratch(world) == []

    code, _, err = world.cli("install", "3.12.7")
    assert code == 0, err
    assert_installed_from_archive(world)


def test_a_drop_mid_download_resumes_into_the_same_unpack(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_second_pass(monkeypatch)
    world.server.fault(world.spec(K127).filename, times=1, drop_after=100_000)
    code, _, err = world.cli("install", "3.12.7")
    assert code == 0, err
    gets = [r.headers.get("Range") for r in world.server.requests if r.method == "GET"]
    assert gets[-2:] == [None, "bytes=100000-"]  # it resumed, not restarted
    assert_installed_from_archive(world)


def test_a_server_that_restarts_the_file_restarts_the_unpack(world: World) -> None:
    name = world.spec(K127).filename
    world.server.fault(name, times=1, ignore_range=True)  # the resume gets the whole file again
    world.server.fault(name, times=1, drop_after=100_000)  # (the newest fault is used first)
    code, _, err = world.cli("install", "3.12.7")
    assert code == 0, err
    assert_installed_from_archive(world)


def test_a_resumed_partial_from_an_earlier_run_is_unpacked_too(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    shelf = world.shelf()
    partial = shelf.cache.partial_for(entry_of(shelf, K127).build)
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(world.spec(K127).path.read_bytes()[:100_000])  # an earlier run's bytes
    no_second_pass(monkeypatch)
    code, _, err = world.cli("install", "3.12.7")
    assert code == 0, err
    gets = [r.headers.get("Range") for r in world.server.requests if r.method == "GET"]
    assert gets == ["bytes=100000-"]
    assert_installed_from_archive(world)


def test_bytes_that_are_not_the_archive_leave_nothing(world: World) -> None:
    world.server.fault(world.spec(K127).filename, corrupt=True)
    code, _, err = world.cli("install", "3.12.7")
    assert code != 0
    assert "checksum mismatch" in err and "Traceback" not in err
    assert not (world.root / "installs" / K127).exists()
    assert [p.name for p in store_dir(world).iterdir()] == [".lock"]
    assert scratch(world) == []


def test_a_hostile_archive_with_a_matching_sha256_is_refused(world: World) -> None:
    evil = make_archive(
        world.server.root / "20991231",
        version="3.12.7",
        extra_members=[_file("python/../../escape.txt", b"gotcha")],
    )
    world.specs[:] = [evil if s.key == K127 else s for s in world.specs]
    world.catalog_path.write_text(json.dumps(catalog_json(world.specs, world.server.url)))
    code, _, err = world.cli("install", "3.12.7")
    assert code != 0
    assert "'..' in path" in err and "Traceback" not in err
    assert not (world.root / "escape.txt").exists()
    assert not (world.root / "installs" / K127).exists()
    assert [p.name for p in store_dir(world).iterdir()] == [".lock"]
    assert scratch(world) == []


def test_cancel_mid_download_keeps_the_partial_and_no_unpack(world: World) -> None:
    world.server.fault(world.spec(K127).filename, rate=64_000)
    shelf = world.shelf()
    queue = JobQueue(shelf)
    downloading = threading.Event()

    def watch(event: object) -> None:
        if getattr(event, "done", 0) and getattr(event, "phase", None) == Phase.DOWNLOADING:
            downloading.set()

    queue.subscribe(watch)
    job = queue.submit(JobKind.INSTALL, entry_of(shelf, K127))
    assert downloading.wait(10)
    job.cancel()
    queue.wait([job])
    queue.close()
    assert job.phase == Phase.CANCELLED
    assert list((world.root / "cache").glob("**/*.part"))
    assert [p.name for p in store_dir(world).iterdir()] == [".lock"]
    assert not (world.root / "installs" / K127).exists()

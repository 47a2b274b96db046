"""Verified, resumable downloads against a real loopback server with injected faults."""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import World
from tests.recording import Recording
from tui.engine.errors import Cancelled, ChecksumError, DownloadError, OfflineError
from tui.engine.requests.resolve import resolve

KEY = "cpython-3.12.7-linux-x86_64-gnu"


def _build(world: World, shelf=None):
    shelf = shelf or world.shelf()
    return shelf, resolve(KEY, shelf.builds())


def test_fetch_verifies_and_names_the_file_like_uv(world: World) -> None:
    shelf, build = _build(world)
    spec = world.spec(KEY)
    path = shelf.downloader.fetch(build)
    expected = "cpython-3.12.7-20991231-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz"
    assert path.name == f"{spec.sha256[:9]}-{expected}"
    assert path.parent == world.root / "cache"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == spec.sha256
    assert not list((world.root / "cache" / ".pyshelf" / "partial").glob("*.part"))


def test_cached_archive_is_verified_not_downloaded_again(world: World) -> None:
    shelf, build = _build(world)
    shelf.downloader.fetch(build)
    world.server.clear_requests()
    shelf.downloader.fetch(build)
    assert [r for r in world.server.requests if r.method == "GET"] == []


def test_corrupted_cached_archive_is_replaced(world: World) -> None:
    shelf, build = _build(world)
    path = shelf.downloader.fetch(build)
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    shelf.downloader.fetch(build)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == build.sha256


def test_dropped_connection_resumes_with_range(world: World) -> None:
    shelf, build = _build(world)
    spec = world.spec(KEY)
    world.server.fault(spec.filename, times=1, drop_after=100_000)
    shelf.downloader.fetch(build)
    gets = [r for r in world.server.requests if r.method == "GET"]
    assert len(gets) == 2
    assert gets[1].headers.get("Range") == "bytes=100000-"


def test_partial_file_survives_cancel_and_resumes_next_time(world: World) -> None:
    shelf, build = _build(world)
    spec = world.spec(KEY)
    world.server.fault(spec.filename, rate=64 * 1024)  # about four seconds for the archive
    reporter = Recording()

    def stop_after_some(done: int, total: int | None) -> None:
        if done >= 64 * 1024:
            reporter.cancel()

    reporter.on_progress = stop_after_some
    with pytest.raises(Cancelled):
        shelf.downloader.fetch(build, reporter=reporter)
    partial = shelf.cache.partial_for(build)
    kept = partial.stat().st_size
    assert kept >= 64 * 1024
    world.server.clear_faults()
    world.server.clear_requests()
    shelf.downloader.fetch(build)  # a new process would do exactly this
    gets = [r for r in world.server.requests if r.method == "GET"]
    assert gets[0].headers.get("Range") == f"bytes={kept}-"
    assert not partial.exists()


def test_server_ignoring_range_restarts_cleanly(world: World) -> None:
    shelf, build = _build(world)
    spec = world.spec(KEY)
    # The newest fault answers first: a drop mid-body, then a hard 404 that stops the retries.
    world.server.fault(spec.filename, times=1, status=404)
    world.server.fault(spec.filename, times=1, drop_after=50_000)
    with pytest.raises(DownloadError, match="HTTP 404"):
        shelf.downloader.fetch(build)
    partial = shelf.cache.partial_for(build)
    assert partial.stat().st_size == 50_000
    world.server.fault(spec.filename, ignore_range=True)
    world.server.clear_requests()
    path = shelf.downloader.fetch(build)
    assert world.server.requests[0].headers.get("Range") == "bytes=50000-"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == spec.sha256


def test_transient_errors_retry_with_backoff(world: World) -> None:
    shelf, build = _build(world)
    spec = world.spec(KEY)
    world.server.fault(spec.filename, times=2, status=503)
    path = shelf.downloader.fetch(build)
    assert path.exists()
    statuses = [r.method for r in world.server.requests]
    assert statuses.count("GET") == 3


def test_persistent_5xx_fails_with_the_url(world: World) -> None:
    shelf, build = _build(world)
    world.server.fault(world.spec(KEY).filename, status=500)
    with pytest.raises(DownloadError, match="HTTP 500"):
        shelf.downloader.fetch(build)


def test_checksum_mismatch_deletes_partial_and_names_digests(world: World) -> None:
    shelf, build = _build(world)
    spec = world.spec(KEY)
    world.server.fault(spec.filename, corrupt=True)
    with pytest.raises(ChecksumError) as info:
        shelf.downloader.fetch(build)
    message = str(info.value)
    assert spec.sha256 in message and build.url in message and "got " in message
    assert not shelf.cache.partial_for(build).exists()
    assert not shelf.cache.path_for(build).exists()


def test_offline_fetch_of_missing_archive_says_so(world: World) -> None:
    shelf, build = _build(world, world.shelf(offline=True))
    with pytest.raises(OfflineError, match="offline"):
        shelf.downloader.fetch(build)


def test_unreachable_server_fails_fast_and_clearly(world: World) -> None:
    shelf, build = _build(world)
    world.server.stop()
    with pytest.raises(DownloadError, match=r"cannot reach 127\.0\.0\.1"):
        shelf.downloader.fetch(build)


def test_file_mirror(world: World) -> None:
    mirror = f"file://{world.server.root}"
    shelf = world.shelf(python_mirror=mirror)
    # A uv catalog with the canonical prefix, rewritten to the file:// mirror.
    spec = world.spec(KEY)
    canonical = "https://github.com/astral-sh/python-build-standalone/releases/download"
    world.catalog_path.write_text(
        world.catalog_path.read_text().replace(world.server.url, canonical)
    )
    build = resolve(KEY, shelf.builds())
    assert build.url.startswith(mirror)
    world.server.stop()
    path = shelf.downloader.fetch(build)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == spec.sha256


def test_concurrent_fetches_of_one_archive_download_once(world: World) -> None:
    _, build = _build(world)
    world.server.fault(world.spec(KEY).filename, rate=512 * 1024)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            world.shelf().downloader.fetch(build)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [r.method for r in world.server.requests].count("GET") == 1


def test_damaged_partial_file_gets_one_clean_restart(world: World) -> None:
    shelf, build = _build(world)
    partial = shelf.cache.partial_for(build)
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"\0" * 4096)  # what a power cut can leave behind
    path = shelf.downloader.fetch(build)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == build.sha256
    gets = [r for r in world.server.requests if r.method == "GET"]
    assert [g.headers.get("Range") for g in gets] == ["bytes=4096-", None]


def test_waiting_for_another_download_shows_its_bytes(world: World) -> None:
    """A second fetch of an archive another process is fetching reports that process's
    partial file as it grows, instead of a line that says nothing for the whole wait."""
    from tests.recording import Recording

    shelf, build = _build(world)
    partial = shelf.cache.partial_for(build)
    partial.parent.mkdir(parents=True, exist_ok=True)
    other = _hold_download_lock(partial)  # "another pyshelf" holds the download
    partial.write_bytes(b"x" * 1000)
    seen: list[int] = []
    waiting = Recording(on_progress=lambda done, total: seen.append(done))
    worker = threading.Thread(target=lambda: shelf.downloader.fetch(build, reporter=waiting))
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while 1000 not in seen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert 1000 in seen
    finally:
        partial.unlink()  # the other one "failed": ours starts afresh once the lock is free
        os.close(other)  # closing drops the flock, as the other process's exit would
        worker.join(timeout=30)
    assert hashlib.sha256(shelf.cache.path_for(build).read_bytes()).hexdigest() == build.sha256


def _hold_download_lock(partial: Path) -> int:
    """Take the flock a download of ``partial`` takes, on a descriptor of its own (flock
    locks of two descriptors conflict even within one process, as across two)."""
    fd = os.open(f"{partial}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def test_waiting_for_another_download_can_be_cancelled(world: World) -> None:
    """A wait on another process's download is not a hang: cancelling ends it, and the other
    download's lock and partial file are left as they are."""
    from tests.recording import Recording

    shelf, build = _build(world)
    partial = shelf.cache.partial_for(build)
    partial.parent.mkdir(parents=True, exist_ok=True)
    other = _hold_download_lock(partial)
    partial.write_bytes(b"x" * 1000)
    waiting = Recording()
    waiting.on_progress = lambda done, total: waiting.cancel()
    try:
        with pytest.raises(Cancelled, match="while waiting for another download"):
            shelf.downloader.fetch(build, reporter=waiting)
        assert partial.read_bytes() == b"x" * 1000
        assert not [r for r in world.server.requests if r.method == "GET"]
    finally:
        os.close(other)

"""A cache on another filesystem than the installs (a Docker cache mount, say): hard links are
impossible, so installs come straight from the archive, as uv does, and no unpacked copy is
kept or copied."""

from __future__ import annotations

import os
import tarfile
import tempfile
from pathlib import Path

import pytest

from tests.conftest import World
from tui.engine.archives import extract
from tui.engine.installs.linktree import can_link
from tui.engine.installs.unpacked import UnpackedStore

K127 = "cpython-3.12.7-linux-x86_64-gnu"
PAYLOAD = "lib/python3.12/payload.bin"


def copies(world: World) -> list[str]:
    store = world.root / "cache" / ".pyshelf" / "unpacked"
    return sorted(p.name for p in store.iterdir() if p.name != ".lock") if store.is_dir() else []


def test_can_link_within_one_filesystem(tmp_path: Path) -> None:
    assert can_link(tmp_path / "a", tmp_path / "b")
    assert os.listdir(tmp_path / "a") == os.listdir(tmp_path / "b") == []  # no probe left


def test_without_hard_links_installs_come_from_the_archive(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(UnpackedStore, "can_link_into", lambda store, dest: False)
    extracted: list[str] = []
    real_extract = extract.extract_archive

    def spy(archive: Path, dest: Path, **kwargs: object) -> None:
        extracted.append(archive.name)
        real_extract(archive, dest, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(extract, "extract_archive", spy)
    code, _, err = world.cli("install", "3.12.7")
    assert code == 0, err
    assert extracted == []  # unpacked into the install dir as it downloaded: one pass
    installed = world.root / "installs" / K127 / PAYLOAD
    assert installed.stat().st_nlink == 1
    assert installed.read_bytes() == archived_payload(world)
    assert copies(world) == []
    assert os.listdir(world.root / "installs" / ".temp") == []

    # No unpacked copy to compare the install with: what a reinstall discards is unknown, so
    # a script says --yes.
    code, _, err = world.cli("--offline", "reinstall", "3.12.7")
    assert code == 1 and "cannot tell what a reinstall would discard" in err
    code, _, err = world.cli("--offline", "reinstall", "3.12.7", "--yes")
    assert code == 0, err
    assert len(extracted) == 1  # from the cached archive, never a copied tree

    # A damaged archive in the cache is caught by the pass that unpacks it, and fetched again.
    (cached,) = (world.root / "cache").glob("*cpython-3.12.7*")
    data = bytearray(cached.read_bytes())
    data[-100] ^= 0xFF
    cached.write_bytes(bytes(data))
    code, _, err = world.cli("reinstall", "3.12.7", "--yes")
    assert code == 0, err
    assert installed.read_bytes() == archived_payload(world)
    assert cached.read_bytes() == world.spec(K127).path.read_bytes()


def test_a_streamed_install_survives_a_repair_and_its_leftover_is_swept(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A download that streams into the install dir holds no lock for hours: another
    command's repair pass must leave its scratch alone, and sweep it once its owner died."""
    monkeypatch.setattr(UnpackedStore, "can_link_into", lambda store, dest: False)
    shelf = world.shelf()
    installs = shelf.installs
    seen: list[list[str]] = []

    def fill_then_repair(temp: Path) -> None:
        temp.mkdir()
        (temp / "half").write_bytes(b"x")
        installs.repair()  # what any other pyshelf command does first
        seen.append(sorted(os.listdir(installs.temp_dir)))
        raise KeyboardInterrupt  # the download is interrupted

    with pytest.raises(KeyboardInterrupt):
        build = next(e for e in shelf.entries() if e.key == K127).build
        installs.install_staged(build, fill_then_repair, source="test")
    assert len(seen[0]) == 2 and all("-live" in n for n in seen[0])  # untouched while owned
    assert os.listdir(installs.temp_dir) == []  # and cleaned up by its owner

    # A killed owner leaves both behind; the next repair takes them.
    temp, fd = installs._live_scratch(K127)
    temp.mkdir()
    installs.repair()
    assert temp.exists()
    os.close(fd)  # as a kill would
    installs.repair()
    assert os.listdir(installs.temp_dir) == []


def archived_payload(world: World) -> bytes:
    with tarfile.open(world.spec(K127).path) as tar:
        handle = tar.extractfile(f"python/{PAYLOAD}")
        assert handle is not None
        return handle.read()


def test_installs_on_another_filesystem(world: World) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == world.root.stat().st_dev:
        pytest.skip("needs /dev/shm on another filesystem than the test's temp dir")
    with tempfile.TemporaryDirectory(dir=shm) as other:
        code, _, err = world.cli("--install-dir", other, "install", "3.12.7")
        assert code == 0, err
        assert (Path(other) / K127 / PAYLOAD).read_bytes() == archived_payload(world)
        assert copies(world) == []

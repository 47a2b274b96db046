"""Rebuilds (issue 21): the catalog replaced by one naming a newer build of the installed
patch. The install stays its own build: an offline reinstall yields its bytes, `list` tells
the two apart, and `upgrade` installs the rebuild while the old archive stays cached."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest

from tests.conftest import World, build_world
from tests.loopback import LoopbackServer
from tests.pbs_fixtures import ArchiveSpec, catalog_json, make_archive
from tui.engine.builds import Build
from tui.engine.installs.records import BuildRecords
from tui.engine.names import cache_file_name

KEY = "cpython-3.12.1-linux-x86_64-gnu"
OLD, NEW = "20991231", "20991232"
PAYLOAD = "lib/python3.12/payload.bin"


def _payload(spec: ArchiveSpec) -> bytes:
    """The bytes the archive holds for its payload file (its build seeds them)."""
    with tarfile.open(spec.path) as tar:
        member = tar.extractfile(f"{spec.top}/{PAYLOAD}")
        assert member is not None
        return member.read()


def rebuild_world(root: Path, server: LoopbackServer) -> tuple[World, ArchiveSpec, ArchiveSpec]:
    """3.12.1 installed as +20991231, then the catalog replaced by one naming only its
    rebuild +20991232 (as python-build-standalone republishes a live patch)."""
    world = build_world(root, server, [{"version": "3.12.1", "build": OLD}])
    (old,) = world.specs
    code, _, err = world.cli("install", "3.12.1")
    assert code == 0, err
    new = make_archive(server.root / NEW, version="3.12.1", build=NEW)
    world.catalog_path.write_text(json.dumps(catalog_json([new], server.url)))
    return world, old, new


@pytest.fixture
def rebuilt(
    tmp_path: Path, loopback_server: LoopbackServer
) -> tuple[World, ArchiveSpec, ArchiveSpec]:
    return rebuild_world(tmp_path, loopback_server)


def _install(world: World) -> Path:
    return world.root / "installs" / KEY


def _old_archive(world: World, old: ArchiveSpec) -> Path:
    return world.root / "cache" / cache_file_name(old.sha256, old.filename)


def _rows(world: World, *args: str) -> list[dict]:
    code, out, err = world.cli("list", "--json", *args)
    assert code == 0, err
    return [row for row in json.loads(out) if row["key"] == KEY]


def test_an_offline_reinstall_after_a_rebuild_yields_the_installed_builds_bytes(
    rebuilt: tuple[World, ArchiveSpec, ArchiveSpec],
) -> None:
    world, old, new = rebuilt
    payload = _install(world) / PAYLOAD
    payload.write_bytes(b"edited")  # an edit a reinstall must undo (the copy shares it)
    code, _, err = world.cli("--offline", "reinstall", "--yes", "3.12.1")
    assert code == 0, err
    assert (_install(world) / "BUILD").read_text() == OLD
    assert payload.read_bytes() == _payload(old) != _payload(new)

    # Without the unpacked copy it comes from the archive, checked by the recorded sha256.
    shutil.rmtree(world.root / "cache" / ".pyshelf" / "unpacked")
    payload.write_bytes(b"edited again")
    code, _, err = world.cli("--offline", "reinstall", "--yes", KEY)
    assert code == 0, err
    assert payload.read_bytes() == _payload(old)
    assert (_install(world) / "BUILD").read_text() == OLD


def test_list_tells_the_installed_build_from_the_rebuild(
    rebuilt: tuple[World, ArchiveSpec, ArchiveSpec],
) -> None:
    world, old, new = rebuilt
    installed, rebuild = (
        next(r for r in _rows(world) if r["installed"]),
        next(r for r in _rows(world) if not r["installed"]),
    )
    assert installed["build"] == installed["installed_build"] == OLD
    assert installed["sha256"] == old.sha256 and installed["cached"]
    assert installed["rebuild"] == NEW and installed["url"] is None  # no catalog lists it now
    assert rebuild["build"] == NEW and rebuild["sha256"] == new.sha256
    assert rebuild["available"] and rebuild["rebuild"] is None
    assert rebuild["installed_build"] is None
    code, out, err = world.cli("list", "3.12.1")
    assert code == 0, err
    assert f"{KEY} +{OLD}  installed+cached, rebuild +{NEW}" in out
    # Offline, a rebuild that is not cached is nothing to go to.
    assert next(r for r in _rows(world, "--offline") if r["installed"])["rebuild"] is None


def test_install_finds_the_installed_build_and_names_the_rebuild(
    rebuilt: tuple[World, ArchiveSpec, ArchiveSpec],
) -> None:
    world, _, _ = rebuilt
    code, _, err = world.cli("install", "3.12.1")
    assert code == 0 and "already installed" in err, err
    assert f"the catalog has a rebuild, {NEW}: `pyshelf upgrade {KEY}` installs it" in err
    assert (_install(world) / "BUILD").read_text() == OLD


def test_upgrade_installs_the_rebuild_and_keeps_the_old_archive(
    rebuilt: tuple[World, ArchiveSpec, ArchiveSpec],
) -> None:
    world, old, new = rebuilt
    code, _, err = world.cli("upgrade", "--dry-run")
    assert code == 0, err
    assert f"{KEY} +{OLD} -> +{NEW}: install the rebuild in its place" in err
    assert (_install(world) / "BUILD").read_text() == OLD  # a dry run changes nothing

    code, _, err = world.cli("upgrade", "--yes")
    assert code == 0, err
    assert (_install(world) / "BUILD").read_text() == NEW
    assert (_install(world) / PAYLOAD).read_bytes() == _payload(new)
    assert _old_archive(world, old).is_file()  # kept for an offline way back
    copies = world.root / "cache" / ".pyshelf" / "unpacked"
    assert not (copies / old.sha256[:16]).exists()  # it serves no install any more
    old_row = next(r for r in _rows(world) if r["build"] == OLD)
    assert old_row["cached"] and not old_row["installed"] and old_row["sha256"] == old.sha256
    code, _, err = world.cli("upgrade", "--dry-run")
    assert code == 0 and "every installed minor is on its newest patch and build" in err


def test_offline_upgrade_to_a_rebuild_needs_it_cached(
    rebuilt: tuple[World, ArchiveSpec, ArchiveSpec],
) -> None:
    world, _, _ = rebuilt
    code, _, err = world.cli("--offline", "upgrade", "--dry-run")
    assert code == 0 and "no newer patch or build of an installed minor is cached" in err
    assert world.cli("fetch", "3.12.1")[0] == 0
    code, _, err = world.cli("--offline", "upgrade", "--dry-run")
    assert code == 0 and f"+{OLD} -> +{NEW}" in err


def test_an_install_from_before_records_is_known_by_its_sealed_copy(
    rebuilt: tuple[World, ArchiveSpec, ArchiveSpec],
) -> None:
    """No record (pyshelf kept none yet): the copy's sealed manifest names the archive's
    whole sha256, which the archive's cache name starts with."""
    world, old, _ = rebuilt
    shutil.rmtree(world.root / "cache" / ".pyshelf" / "builds")
    installed = next(r for r in _rows(world) if r["installed"])
    assert installed["build"] == OLD and installed["sha256"] == old.sha256
    code, _, err = world.cli("--offline", "reinstall", "--yes", "3.12.1")
    assert code == 0, err
    # And it is recorded now, so the copy may go.
    shutil.rmtree(world.root / "cache" / ".pyshelf" / "unpacked")
    code, _, err = world.cli("--offline", "reinstall", "--yes", "3.12.1")
    assert code == 0, err
    assert (_install(world) / PAYLOAD).read_bytes() == _payload(old)


@pytest.mark.parametrize("how", ["missing", "tampered", "another user's key"])
def test_an_archive_nothing_vouches_for_is_never_installed(
    rebuilt: tuple[World, ArchiveSpec, ArchiveSpec],
    how: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """With neither a sealed record nor a sealed copy, the install's archive cannot be
    checked: the reinstall says so and leaves the install alone."""
    world, old, _ = rebuilt
    state = world.root / "cache" / ".pyshelf"
    shutil.rmtree(state / "unpacked")
    (record,) = (state / "builds").iterdir()
    if how == "missing":
        record.unlink()
    elif how == "tampered":
        text = record.read_text()
        record.write_text(text.replace(old.sha256, old.sha256[:9] + "0" * 55))  # seal fails
    else:
        monkeypatch.setenv("PYSHELF_STATE_DIR", str(tmp_path / "someone-else"))
    (_install(world) / PAYLOAD).write_bytes(b"edited")
    code, _, err = world.cli("--offline", "reinstall", "--yes", "3.12.1")
    assert code == 1
    assert "no catalog lists it any more and the cache holds no archive of it that" in err
    assert (_install(world) / PAYLOAD).read_bytes() == b"edited"


def test_a_record_is_read_only_when_sealed_for_its_own_archive(tmp_path: Path) -> None:
    records = BuildRecords(tmp_path)
    sha = "a" * 64
    build = Build("cpython", 3, 12, 1, "", None, "linux", "x86_64", "gnu", OLD, None, sha)
    name = f"{sha[:9]}-cpython-3.12.1-{OLD}-x86_64-unknown-linux-gnu-install_only.tar.gz"
    records.remember(build._replace(url="https://example.invalid/x.tar.gz"), name)
    assert records.recall(name) == build  # the URL is not kept: it is about the cache
    assert (tmp_path / name).stat().st_mode & 0o077 == 0
    other = f"{'b' * 9}-cpython-3.12.1-{OLD}-x86_64-unknown-linux-gnu-install_only.tar.gz"
    (tmp_path / other).write_bytes((tmp_path / name).read_bytes())  # copied to another name
    assert records.recall(other) is None
    assert records.recall("../escape") is None
    assert records.recall_all() == {name: build}

"""A shared cache or bundle folder (a team's cache, a CI volume) is written by others: what
they plant there (links, fifos, hard links, folders in place of pyshelf's) is never followed,
read or written through, and is refused with one line naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import World
from tui.engine import names

K312 = "cpython-3.12.7-linux-x86_64-gnu"
PRECIOUS = b"the victim's own bytes\n"


def _cache(world: World) -> Path:
    return world.root / "cache"


def _cache_name(world: World) -> str:
    spec = world.spec(K312)
    return names.cache_file_name(spec.sha256, spec.filename)


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "victim" / "precious.txt"
    victim.parent.mkdir()
    victim.write_bytes(PRECIOUS)
    return victim


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes: what must not change."""
    return {os.fspath(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*")}


def _cli(world: World, *args: str) -> tuple[int, str, str]:
    """The real command in a process of its own, as ``World.cli`` runs it in this one, failed
    as hung when it waits for ever (a fifo opened as a file blocks its reader)."""
    base = [
        "--cache-dir", str(_cache(world)),
        "--install-dir", str(world.root / "installs"),
        "--bin-dir", str(world.root / "bin"),
        "--catalog", str(world.catalog_path),
    ]  # fmt: skip
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tui", *base, *args],
            capture_output=True, text=True, timeout=120, cwd=world.root,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"pyshelf {' '.join(args)} hung")
    return done.returncode, done.stdout, done.stderr


def _refused(code: int, out: str, err: str, planted: Path) -> None:
    print("\n---", code, "\nOUT:", out, "\nERR:", err)
    """A non-zero exit and exactly one line naming the planted path, saying what to do."""
    assert code != 0, err
    lines = [line for line in (out + err).splitlines() if os.fspath(planted) in line]
    assert len(lines) == 1, out + err
    assert "remove it and retry" in lines[0]
    assert "Traceback" not in err and "unexpected" not in err


# -- scratch names: created, never opened --------------------------------------------------


def test_import_never_writes_through_a_planted_scratch_link(world: World, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    assert world.cli("export", str(bundle), "3.12")[0] == 0
    victim = _victim(tmp_path)
    cache = tmp_path / "shared-cache"
    cache.mkdir()
    planted = cache / f".{_cache_name(world)}.pyshelf-copy"  # the name pyshelf used to open
    planted.symlink_to(victim)
    code, _, err = world.cli("--cache-dir", str(cache), "--offline", "import", str(bundle))
    assert code == 0, err
    assert victim.read_bytes() == PRECIOUS
    entry = cache / _cache_name(world)
    assert not entry.is_symlink() and entry.read_bytes() == world.spec(K312).path.read_bytes()
    assert os.readlink(planted) == os.fspath(victim)  # left as it was, never followed
    assert not [p for p in cache.iterdir() if p.name.endswith(".pyshelf-copy") and p != planted]


def test_export_never_writes_through_a_planted_scratch_link(world: World, tmp_path: Path) -> None:
    spec = world.spec(K312)
    bundle = tmp_path / "bundle"
    (bundle / spec.build).mkdir(parents=True)
    victim = _victim(tmp_path)
    planted = bundle / spec.build / f".{spec.filename}.pyshelf-copy"
    planted.symlink_to(victim)
    code, _, err = world.cli("export", str(bundle), "3.12")
    assert code == 0, err
    assert victim.read_bytes() == PRECIOUS
    archive = bundle / spec.build / spec.filename
    assert not archive.is_symlink() and archive.read_bytes() == spec.path.read_bytes()
    assert os.readlink(planted) == os.fspath(victim)


# -- partial downloads: a stable name, opened only when it is this user's own file -----------


def _plant_link(place: Path, victim: Path) -> None:
    place.symlink_to(victim)


def _plant_hard_link(place: Path, victim: Path) -> None:
    os.link(victim, place)


def _plant_fifo(place: Path, victim: Path) -> None:
    os.mkfifo(place)


@pytest.mark.parametrize(
    "plant", [_plant_link, _plant_hard_link, _plant_fifo], ids=["symlink", "hard link", "fifo"]
)
def test_a_planted_partial_download_is_refused_untouched(
    world: World, tmp_path: Path, plant: Callable[[Path, Path], None]
) -> None:
    victim = _victim(tmp_path)
    partial_dir = _cache(world) / ".pyshelf" / "partial"
    partial_dir.mkdir(parents=True)
    planted = partial_dir / f"{_cache_name(world)}.part"
    plant(planted, victim)
    code, out, err = _cli(world, "fetch", "3.12")
    _refused(code, out, err, planted)
    assert victim.read_bytes() == PRECIOUS
    assert not (_cache(world) / _cache_name(world)).exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs chown")
def test_another_users_partial_download_is_refused(world: World, tmp_path: Path) -> None:
    partial_dir = _cache(world) / ".pyshelf" / "partial"
    partial_dir.mkdir(parents=True)
    planted = partial_dir / f"{_cache_name(world)}.part"
    planted.write_bytes(PRECIOUS)
    os.chown(planted, 4242, 4242)
    code, out, err = _cli(world, "fetch", "3.12")
    _refused(code, out, err, planted)
    assert "another user" in err and planted.read_bytes() == PRECIOUS


# -- lock files: opened by a stable name, never through a link ------------------------------


def test_a_link_in_place_of_the_unpacked_store_lock_is_refused(
    world: World, tmp_path: Path
) -> None:
    store = _cache(world) / ".pyshelf" / "unpacked"
    store.mkdir(parents=True)
    target = tmp_path / "victim" / "made-by-pyshelf"  # O_CREAT through a link would make it
    target.parent.mkdir()
    planted = store / ".lock"
    planted.symlink_to(target)
    code, out, err = _cli(world, "install", "3.12")
    _refused(code, out, err, planted)
    assert not target.exists()
    assert not (world.root / "installs" / K312).exists()


def test_a_link_in_place_of_the_install_dir_lock_is_refused(world: World, tmp_path: Path) -> None:
    victim = _victim(tmp_path)
    installs = world.root / "installs"
    installs.mkdir()
    planted = installs / ".lock"
    planted.symlink_to(victim)
    code, out, err = _cli(world, "install", "3.12")
    _refused(code, out, err, planted)
    assert victim.read_bytes() == PRECIOUS
    assert not (installs / K312).exists()


# -- the cache entry itself: a link is no archive ---------------------------------------------


def _plant_archive_link(world: World, tmp_path: Path) -> tuple[Path, Path]:
    """A link in the cache to a good copy of the archive outside it: following it would work,
    which is what must not happen."""
    outside = tmp_path / "victim" / "elsewhere.tar.gz"
    outside.parent.mkdir()
    outside.write_bytes(world.spec(K312).path.read_bytes())
    _cache(world).mkdir()
    planted = _cache(world) / _cache_name(world)
    planted.symlink_to(outside)
    return planted, outside


def test_verify_names_a_link_in_place_of_a_cached_archive(world: World, tmp_path: Path) -> None:
    planted, outside = _plant_archive_link(world, tmp_path)
    code, out, err = world.cli("verify")
    _refused(code, out, err, planted)
    assert "a symbolic link where pyshelf keeps an archive" in out
    assert outside.read_bytes() == world.spec(K312).path.read_bytes()


@pytest.mark.parametrize(
    "command", [["--offline", "install", "3.12"], ["install", "3.12"], ["fetch", "3.12"]]
)
def test_a_link_in_place_of_a_cached_archive_is_never_followed(
    world: World, tmp_path: Path, command: list[str]
) -> None:
    planted, outside = _plant_archive_link(world, tmp_path)
    world.server.clear_requests()
    code, out, err = _cli(world, *command)
    _refused(code, out, err, planted)
    assert planted.is_symlink() and outside.read_bytes() == world.spec(K312).path.read_bytes()
    assert not (world.root / "installs" / K312).exists()
    assert not [r for r in world.server.requests if r.method == "GET"]
    code, out, _ = world.cli("list", "--json")
    assert code == 0 and '"cached": true' not in out  # listed as not cached


# -- folders pyshelf makes: a link planted in their place is refused --------------------------


@pytest.mark.parametrize(
    ("folder", "command"),
    [
        (".pyshelf", ["fetch", "3.12"]),
        (".pyshelf/partial", ["fetch", "3.12"]),
        (".pyshelf/unpacked", ["install", "3.12"]),
    ],
)
def test_a_link_in_place_of_a_pyshelf_folder_is_refused(
    world: World, tmp_path: Path, folder: str, command: list[str]
) -> None:
    victim = _victim(tmp_path)
    before = _snapshot(victim.parent)
    planted = _cache(world) / folder
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.symlink_to(victim.parent, target_is_directory=True)
    code, out, err = _cli(world, *command)
    _refused(code, out, err, planted)
    assert _snapshot(victim.parent) == before
    assert not (_cache(world) / _cache_name(world)).exists()


def test_a_link_in_place_of_the_install_scratch_folder_is_refused(
    world: World, tmp_path: Path
) -> None:
    victim = _victim(tmp_path)
    before = _snapshot(victim.parent)
    installs = world.root / "installs"
    installs.mkdir()
    planted = installs / ".temp"
    planted.symlink_to(victim.parent, target_is_directory=True)
    code, out, err = _cli(world, "install", "3.12")
    _refused(code, out, err, planted)
    assert _snapshot(victim.parent) == before
    assert not (installs / K312).exists()


def test_a_link_in_place_of_a_bundle_release_folder_is_refused(
    world: World, tmp_path: Path
) -> None:
    spec = world.spec(K312)
    bundle = tmp_path / "bundle"
    (bundle / "elsewhere").mkdir(parents=True)  # inside the bundle, so not refused as outside
    planted = bundle / spec.build
    planted.symlink_to(bundle / "elsewhere", target_is_directory=True)
    code, out, err = _cli(world, "export", str(bundle), "3.12")
    _refused(code, out, err, planted)
    assert not list((bundle / "elsewhere").iterdir())

"""An unpacked copy is trusted only when this user's pyshelf sealed its manifest after
unpacking the archive it names: a copy planted in a shared cache is never installed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from isal import isal_zlib

from tests.conftest import World
from tests.pbs_fixtures import make_archive
from tui.engine.archives.extract import Written
from tui.engine.installs.manifest import render
from tui.engine.installs.seal import STATE_ENV
from tui.engine.installs.unpacked import _UNSEALED as UNSEALED
from tui.engine.installs.unpacked import CopyDiffers, UnpackedStore

K127 = "cpython-3.12.7-linux-x86_64-gnu"
PYTHON = "bin/python3.12"
WRAPPER = b'#!/bin/sh\ntouch "$0.planted"\nexec /bin/true\n'


def copy_of(world: World, key: str) -> Path:
    return world.root / "cache" / ".pyshelf" / "unpacked" / world.spec(key).sha256[:16]


def reseal(copy: Path, sha256: str) -> None:
    """What an attacker who can write the cache does after editing a copy: a manifest made
    afresh from the tree as it now is, under a key of the attacker's own."""
    tree = copy / "tree"
    written = Written()
    for dirpath, dirnames, filenames in os.walk(tree):
        rel_dir = os.path.relpath(dirpath, tree)
        rel_dir = "" if rel_dir == "." else rel_dir
        written.dirs.add(rel_dir)
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.join(rel_dir, name) if rel_dir else name
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                written.links[rel] = os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                crc = isal_zlib.crc32(Path(path).read_bytes())
                written.files[rel] = (st, f"{crc:08x}")
    (copy / "manifest").write_bytes(render(tree, sha256, written))


def plant(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A kept copy of 3.12.7 whose interpreter is a wrapper, resealed by another key."""
    monkeypatch.setenv(STATE_ENV, str(tmp_path / "attacker"))
    assert world.cli("--keep-unpacked", "1G", "install", "3.12.7")[0] == 0
    assert world.cli("--keep-unpacked", "1G", "uninstall", "--yes", "3.12.7")[0] == 0
    copy = copy_of(world, K127)
    target = copy / "tree" / PYTHON
    target.unlink()
    target.write_bytes(WRAPPER)
    target.chmod(0o755)
    reseal(copy, world.spec(K127).sha256)
    assert UnpackedStore(copy.parent).check(world.spec(K127).sha256) is None  # to its maker
    monkeypatch.setenv(STATE_ENV, str(tmp_path / "victim"))
    return copy


def pristine(world: World, member: str) -> bytes:
    import tarfile

    with tarfile.open(world.spec(K127).path) as tar:
        handle = tar.extractfile(f"python/{member}")
        assert handle is not None
        return handle.read()


def test_a_planted_copy_with_a_resealed_manifest_is_unpacked_again(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    copy = plant(world, monkeypatch, tmp_path)
    assert UnpackedStore(copy.parent).check(world.spec(K127).sha256) == UNSEALED
    code, _, err = world.cli("--offline", "install", "3.12.7")
    assert code == 0, err
    installed = world.root / "installs" / K127 / PYTHON
    assert installed.read_bytes() == pristine(world, PYTHON)
    assert not list((world.root / "installs").rglob("*.planted"))
    assert (copy / "tree" / PYTHON).read_bytes() == pristine(world, PYTHON)  # unpacked anew


def test_verify_names_a_planted_copy_and_drops_it(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    copy = plant(world, monkeypatch, tmp_path)
    code, out, err = world.cli("verify")
    assert code != 0
    assert f"{copy / 'manifest'}: not sealed by pyshelf for this user" in out + err
    assert not copy.exists()


def test_a_planted_copy_without_its_archive_is_refused_offline(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    copy = plant(world, monkeypatch, tmp_path)
    entry = next(e for e in world.shelf().entries() if e.key == K127)
    assert entry.cached is not None
    entry.cached.path.unlink()
    code, _, err = world.cli("--offline", "install", "3.12.7")
    assert code == 1
    last = err.strip().splitlines()[-1]
    assert "not sealed by pyshelf" in last and "pyshelf fetch" in last
    assert not (world.root / "installs" / K127).exists()
    assert not copy.exists()


def test_a_copy_moved_under_another_archives_name_is_not_trusted(tmp_path: Path) -> None:
    one = make_archive(tmp_path / "a", version="3.12.7")
    other = make_archive(tmp_path / "b", version="3.12.6")
    store = UnpackedStore(tmp_path / "unpacked")
    tree = store.add(one.path, one.sha256)
    os.rename(tree.parent, store.path_for(other.sha256))  # sealed, but for the other archive
    assert store.check(other.sha256) == UNSEALED
    with pytest.raises(CopyDiffers):
        store.link_into(other.sha256, tmp_path / "linked")


def test_a_manifest_that_is_a_link_is_not_read(tmp_path: Path) -> None:
    spec = make_archive(tmp_path / "a", version="3.12.7")
    store = UnpackedStore(tmp_path / "unpacked")
    tree = store.add(spec.path, spec.sha256)
    manifest = tree.parent / "manifest"
    os.rename(manifest, tmp_path / "elsewhere")
    manifest.symlink_to(tmp_path / "elsewhere")
    assert store.check(spec.sha256) == UNSEALED


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs chown")
def test_a_file_of_another_users_in_a_copy_is_not_trusted(tmp_path: Path) -> None:
    spec = make_archive(tmp_path / "a", version="3.12.7")
    store = UnpackedStore(tmp_path / "unpacked")
    tree = store.add(spec.path, spec.sha256)
    st = os.lstat(tree / PYTHON)
    os.chown(tree / PYTHON, 4242, 4242, follow_symlinks=False)
    os.utime(tree / PYTHON, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert store.check(spec.sha256) == f"{PYTHON} belongs to another user"


def test_a_copy_planted_while_unpacking_is_replaced_by_the_unpacked_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = make_archive(tmp_path / "a", version="3.12.7")
    store = UnpackedStore(tmp_path / "unpacked")
    final = store.path_for(spec.sha256)
    real_rename = os.rename
    planted = []

    def racing_rename(src, dst, *args, **kwargs):  # the attacker wins the race to the name
        if Path(dst) == final and not planted:
            planted.append(final)
            (final / "tree" / "bin").mkdir(parents=True)
            (final / "tree" / "bin" / "python3.12").write_bytes(WRAPPER)
            (final / "manifest").write_bytes(b"pyshelf-unpacked 3\n")
        return real_rename(src, dst, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(os, "rename", racing_rename)
        tree = store.add(spec.path, spec.sha256)
    assert planted and (tree / PYTHON).read_bytes() != WRAPPER
    assert store.check(spec.sha256) is None
    assert store.leftovers() == []


# -- who else can write the cache -------------------------------------------------------------


def test_doctor_names_a_cache_others_can_write(world: World) -> None:
    cache = world.root / "cache"
    assert world.cli("fetch", "3.12.7")[0] == 0
    code, out, _ = world.cli("--offline", "doctor")
    assert code == 0 and "shared folder" not in out
    cache.chmod(0o777)  # world-writable, no sticky bit: anyone can swap an archive
    code, out, _ = world.cli("--offline", "doctor")
    line = next(line for line in out.splitlines() if "shared folder" in line)
    assert code == 1 and line.startswith("FAIL") and f"{cache}  writable by every user" in line
    cache.chmod(0o2775)  # a folder shared with its group on purpose (setgid)
    code, out, _ = world.cli("--offline", "doctor")
    line = next(line for line in out.splitlines() if "shared folder" in line)
    assert code == 0 and line.startswith("ok") and "writable by group" in line


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs chown")
def test_a_kept_catalog_another_user_wrote_is_not_used(world: World) -> None:
    """A well-formed kept index passes every schema check: only its owner makes it ours."""
    from tui.engine.archives.catalog import BUILTIN_CHECKED

    shelf = world.shelf(catalog=None)
    assert shelf.catalog.builds
    kept = world.root / "cache" / ".pyshelf" / "catalogs" / BUILTIN_CHECKED
    assert kept.is_file()
    forged = kept.read_bytes().replace(b"https://", b"https://evil.invalid/", 1)
    kept.write_bytes(forged)
    os.chown(kept, 4242, 4242)
    catalog = world.shelf(catalog=None).catalog
    assert not any("evil.invalid" in (b.url or "") for b in catalog.builds)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs chown")
def test_download_sizes_another_user_wrote_do_not_cap_a_download(world: World) -> None:
    import json

    sizes = world.root / "cache" / ".pyshelf" / "download-sizes.json"
    sizes.parent.mkdir(parents=True)
    sizes.write_text(json.dumps({world.spec(K127).sha256: 10}))  # would stop it at 10 bytes
    os.chown(sizes, 4242, 4242)
    code, _, err = world.cli("fetch", "3.12.7")
    assert code == 0, err


def test_a_trim_leaves_copies_another_user_sealed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = make_archive(tmp_path / "a", version="3.12.7")
    store = UnpackedStore(tmp_path / "unpacked")
    monkeypatch.setenv(STATE_ENV, str(tmp_path / "user-a"))
    store.add(spec.path, spec.sha256)
    assert store.plan_trim(0) == [store.path_for(spec.sha256)]  # its owner may trim it
    monkeypatch.setenv(STATE_ENV, str(tmp_path / "user-b"))
    assert store.plan_trim(0) == []
    assert store.trim(0) == 0 and store.get(spec.sha256) is not None

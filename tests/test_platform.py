"""The platform layer on this system, and the fallbacks other systems take (simulated)."""

from __future__ import annotations

import errno
import os
import sys
import tarfile
from pathlib import Path

import pytest

from tests.test_extract import BASE, info, write_tar
from tui.engine.archives.extract import Written, extract_archive
from tui.engine.platform import locks
from tui.engine.platform.links import link_or_copy
from tui.engine.platform.swap import exchange_paths


def test_a_lock_excludes_another_descriptor_until_it_is_let_go(tmp_path: Path) -> None:
    (tmp_path / ".lock").touch()
    first, second = (os.open(tmp_path / ".lock", os.O_RDWR) for _ in range(2))
    try:
        assert locks.try_lock(first)
        assert not locks.try_lock(second)
        assert not locks.try_lock(second, shared=True)
        if sys.platform.startswith("linux"):
            assert locks.holders(first) == [os.getpid()]
        locks.unlock(first)
        assert locks.try_lock(second, shared=True)
        assert locks.try_lock(first, shared=True)  # shared with shared
    finally:
        os.close(first)
        os.close(second)


def _no_link_without_following(
    src: object, dst: object, *, follow_symlinks: bool = True, **kwargs: object
) -> None:
    """Windows' os.link: NotImplementedError for follow_symlinks=False; here no hard links
    at all (a FAT disk), as EPERM."""
    if not follow_symlinks:
        raise NotImplementedError("link: follow_symlinks unavailable on this platform")
    raise PermissionError(errno.EPERM, "Operation not permitted")


def test_link_or_copy_copies_where_no_link_can_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "a"
    source.write_bytes(b"\x00\r\n bytes")
    os.utime(source, (1_700_000_000, 1_700_000_000))
    assert link_or_copy(str(source), str(tmp_path / "linked"))
    assert (tmp_path / "linked").stat().st_ino == source.stat().st_ino
    monkeypatch.setattr(os, "link", _no_link_without_following)
    assert not link_or_copy(str(source), str(tmp_path / "copied"))
    copied = tmp_path / "copied"
    assert copied.read_bytes() == source.read_bytes() and copied.stat().st_mtime == 1_700_000_000


def test_link_or_copy_passes_other_errors_on(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        link_or_copy(str(tmp_path / "missing"), str(tmp_path / "b"))


def test_a_hard_link_member_is_copied_where_links_cannot_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = (info("python/bin/python3", tarfile.LNKTYPE, link="python/bin/python3.12"), None)
    archive = write_tar(tmp_path / "h.tar.gz", [*BASE, link])
    monkeypatch.setattr(os, "link", _no_link_without_following)
    record = Written()
    extract_archive(archive, tmp_path / "dest", record=record)
    a, b = tmp_path / "dest/bin/python3.12", tmp_path / "dest/bin/python3"
    assert a.read_bytes() == b.read_bytes() and a.stat().st_ino != b.stat().st_ino
    assert record.files["bin/python3"][0].st_ino == b.stat().st_ino
    assert record.files["bin/python3"][1] == record.files["bin/python3.12"][1]


@pytest.mark.skipif(sys.platform not in ("linux", "darwin"), reason="renameat2 / renamex_np")
def test_two_folders_swap_in_one_step(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "from-a").touch()
    (tmp_path / "b").mkdir()
    assert exchange_paths(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "b" / "from-a").exists() and not (tmp_path / "a" / "from-a").exists()
    assert not exchange_paths(tmp_path / "a", tmp_path / "missing")  # nothing moved
    assert (tmp_path / "a").is_dir()

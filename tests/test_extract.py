"""Archive extraction: layouts, modes, formats, hostile members, cancellation and progress."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import sys
import tarfile
from pathlib import Path

import pytest

from tests.pbs_fixtures import MTIME, make_archive
from tests.recording import Recording
from tui.engine.archives.extract import extract_archive
from tui.engine.errors import ArchiveError, Cancelled, ChecksumError

Member = tuple[tarfile.TarInfo, bytes | None]


def info(
    name: str, kind: bytes = tarfile.REGTYPE, *, mode: int = 0o644, link: str = ""
) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.linkname, ti.mtime = kind, mode, link, MTIME
    return ti


def file(name: str, data: bytes = b"data\n", mode: int = 0o644) -> Member:
    return info(name, mode=mode), data


def write_tar(path: Path, members: list[Member], fmt: str = "gz") -> Path:
    with tarfile.open(path, f"w:{fmt}") as tar:
        for ti, data in members:
            if data is not None:
                ti.size = len(data)
            tar.addfile(ti, io.BytesIO(data) if data is not None else None)
    return path


BASE: list[Member] = [
    (info("python/", tarfile.DIRTYPE, mode=0o755), None),
    (info("python/bin", tarfile.DIRTYPE, mode=0o755), None),
    file("python/bin/python3.12", b"#!/bin/sh\necho hi\n", 0o755),
]


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory hostile members aim at: it must stay empty."""
    path = tmp_path / "outside"
    path.mkdir()
    return path


def test_extracts_fixture_archive_stripping_top_dir(tmp_path: Path) -> None:
    spec = make_archive(tmp_path / "a", version="3.12.7")
    dest = tmp_path / "dest"
    extract_archive(spec.path, dest)
    exe = dest / "bin" / "python3.12"
    assert exe.is_file() and os.access(exe, os.X_OK)
    assert (dest / "bin" / "python3").is_symlink()
    assert os.readlink(dest / "bin" / "python3") == "python3.12"
    assert (dest / "lib" / "python3.12" / "os.py").read_bytes() == b"# fake os module\n"
    assert exe.stat().st_mtime == MTIME  # kept, so .pyc caches stay valid
    assert not (dest / "python").exists()


@pytest.mark.parametrize("fmt", ["gz", "bz2", "xz"])
def test_each_compression(tmp_path: Path, fmt: str) -> None:
    spec = make_archive(tmp_path / "a", version="3.13.1", variant="freethreaded", fmt=fmt)
    extract_archive(spec.path, tmp_path / "dest")
    assert (tmp_path / "dest" / "bin" / "python3.13t").is_file()


def test_pypy_top_dir_is_stripped(tmp_path: Path) -> None:
    spec = make_archive(tmp_path / "a", implementation="pypy", version="3.10.14")
    extract_archive(spec.path, tmp_path / "dest")
    assert (tmp_path / "dest" / "bin" / "pypy3.10").is_file()


def test_modes_follow_the_data_filter_but_keep_exec_bits(tmp_path: Path) -> None:
    archive = write_tar(
        tmp_path / "m.tar.gz",
        [
            *BASE,
            file("python/bin/suid", mode=0o4777),
            file("python/bin/noexec", mode=0o066),
            file("python/bin/tool", mode=0o750),
        ],
    )
    dest = tmp_path / "dest"
    extract_archive(archive, dest)
    mode = {n: stat.S_IMODE((dest / "bin" / n).stat().st_mode) for n in ("suid", "noexec", "tool")}
    umask = os.umask(0)
    os.umask(umask)
    assert mode["suid"] == 0o755 & ~umask  # no setuid, no group/other write
    assert mode["noexec"] == 0o644 & ~umask  # owner can always read and write
    assert mode["tool"] == 0o750 & ~umask


def test_hard_link_to_an_earlier_member(tmp_path: Path) -> None:
    archive = write_tar(
        tmp_path / "h.tar.gz",
        [*BASE, (info("python/bin/python3", tarfile.LNKTYPE, link="python/bin/python3.12"), None)],
    )
    extract_archive(archive, tmp_path / "dest")
    a, b = tmp_path / "dest/bin/python3.12", tmp_path / "dest/bin/python3"
    assert a.stat().st_ino == b.stat().st_ino


def hostile_cases(outside: Path) -> dict[str, list[Member]]:
    evil = str(outside / "evil")
    return {
        "absolute path": [*BASE, file(evil)],
        "dotdot": [*BASE, file("python/../outside/evil")],
        "dotdot deep": [*BASE, file("python/lib/../../outside/evil")],
        "symlink escapes": [*BASE, (info("python/x", tarfile.SYMTYPE, link="../outside"), None)],
        "symlink absolute": [*BASE, (info("python/x", tarfile.SYMTYPE, link=evil), None)],
        "symlink then write through it": [
            *BASE,
            (info("python/lib", tarfile.SYMTYPE, link="bin"), None),
            file("python/lib/evil"),
        ],
        "symlink through a link to .": [
            *BASE,
            (info("python/a", tarfile.SYMTYPE, link="."), None),
            (info("python/b", tarfile.SYMTYPE, link="a/../.."), None),
        ],
        "symlink made escaping by a later link": [
            *BASE,
            (info("python/s", tarfile.SYMTYPE, link="a/b/../../outside"), None),
            (info("python/a/b", tarfile.SYMTYPE, link="."), None),
        ],
        "hard link absolute": [*BASE, (info("python/h", tarfile.LNKTYPE, link=evil), None)],
        "hard link dotdot": [*BASE, (info("python/h", tarfile.LNKTYPE, link="../x"), None)],
        "hard link to a later member": [
            *BASE,
            (info("python/h", tarfile.LNKTYPE, link="python/later"), None),
            file("python/later"),
        ],
        "hard link to a symlink": [
            *BASE,
            (info("python/s", tarfile.SYMTYPE, link="bin/python3.12"), None),
            (info("python/h", tarfile.LNKTYPE, link="python/s"), None),
        ],
        "char device": [*BASE, (info("python/dev", tarfile.CHRTYPE), None)],
        "block device": [*BASE, (info("python/dev", tarfile.BLKTYPE), None)],
        "fifo": [*BASE, (info("python/fifo", tarfile.FIFOTYPE), None)],
        "second top-level dir": [*BASE, file("other/evil")],
        "duplicate member": [*BASE, file("python/bin/python3.12")],
    }


@pytest.mark.parametrize("case", list(hostile_cases(Path("/x"))))
def test_hostile_archives_are_rejected(tmp_path: Path, outside: Path, case: str) -> None:
    members = hostile_cases(outside)[case]
    archive = write_tar(tmp_path / "hostile.tar.gz", members)
    dest = tmp_path / "dest"
    with pytest.raises(ArchiveError) as excinfo:
        extract_archive(archive, dest)
    assert "hostile.tar.gz" in str(excinfo.value)
    assert "member" in str(excinfo.value)
    assert list(outside.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest", "hostile.tar.gz", "outside"]
    for path in dest.rglob("*"):  # whatever was written stayed inside, and links stay inside
        assert Path(os.path.realpath(path)).is_relative_to(os.path.realpath(dest)) or (
            path.is_symlink() and not path.exists()
        )


def test_member_name_appears_in_the_error(tmp_path: Path) -> None:
    archive = write_tar(tmp_path / "n.tar.gz", [*BASE, file("python/../sneaky")])
    with pytest.raises(ArchiveError, match=r"n\.tar\.gz.*python/\.\./sneaky"):
        extract_archive(archive, tmp_path / "dest")


def test_truncated_archive(tmp_path: Path) -> None:
    spec = make_archive(tmp_path / "a", payload_kib=256)
    data = spec.path.read_bytes()
    spec.path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArchiveError, match="corrupt or truncated"):
        extract_archive(spec.path, tmp_path / "dest")


def test_not_an_archive(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"<html>not found</html>")
    with pytest.raises(ArchiveError, match=r"junk\.tar\.gz"):
        extract_archive(junk, tmp_path / "dest")


def test_zstd_without_a_decoder_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "zstandard", None)  # import fails
    monkeypatch.setitem(sys.modules, "compression", None)
    archive = tmp_path / "x.tar.zst"
    archive.write_bytes(b"\x28\xb5\x2f\xfd" + b"\0" * 32)
    with pytest.raises(ArchiveError, match="zstandard"):
        extract_archive(archive, tmp_path / "dest")


def test_dest_must_be_new_or_empty(tmp_path: Path) -> None:
    spec = make_archive(tmp_path / "a")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "x").write_text("x")
    with pytest.raises(FileExistsError):
        extract_archive(spec.path, dest)
    empty = tmp_path / "empty"
    empty.mkdir()
    extract_archive(spec.path, empty)
    assert (empty / "bin").is_dir()


def test_progress_counts_compressed_bytes(tmp_path: Path) -> None:
    spec = make_archive(tmp_path / "a", payload_kib=2048)
    reporter = Recording()
    extract_archive(spec.path, tmp_path / "dest", reporter=reporter)
    calls = reporter.calls
    assert calls[-1] == (spec.size, spec.size)
    done = [d for d, _ in calls]
    assert done == sorted(done)
    assert all(t == spec.size for _, t in calls)


def test_cancel_between_members(tmp_path: Path) -> None:
    spec = make_archive(tmp_path / "a")
    reporter = Recording()
    reporter.on_progress = lambda done, total: reporter.cancel()  # after the first member
    with pytest.raises(Cancelled):
        extract_archive(spec.path, tmp_path / "dest", reporter=reporter)
    assert not (tmp_path / "dest" / "lib" / "python3.12" / "payload.bin").exists()


def test_the_same_pass_checks_the_archive_sha256(tmp_path: Path) -> None:
    """Hashing happens beside the extraction (between members, not as bytes are read), so
    every chunk must still be hashed once: a payload spanning many reads checks out, and a
    digest of other bytes is a ChecksumError after a complete extraction."""
    payload = os.urandom(3 << 20)  # incompressible: several 1 MiB reads of the archive
    archive = write_tar(tmp_path / "big.tar.gz", [*BASE, file("python/lib/blob", payload)])
    right = hashlib.sha256(archive.read_bytes()).hexdigest()
    extract_archive(archive, tmp_path / "ok", sha256=right)
    assert (tmp_path / "ok" / "lib" / "blob").read_bytes() == payload
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        extract_archive(archive, tmp_path / "bad", sha256=hashlib.sha256(b"other").hexdigest())

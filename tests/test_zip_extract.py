""".zip interpreter archives (python-build-standalone's Windows builds): byte-exact, with the
checks, caps and sha256 verification a tar gets. Every archive is built here."""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from tui.engine.archives import zipread
from tui.engine.archives.extract import Written, extract_archive
from tui.engine.errors import ArchiveError, ChecksumError

# Every byte value, and line ends a text-mode write would turn into "\r\n".
BINARY = bytes(range(256)) * 64 + b"a\nb\r\nc\n"
WHEN = (2024, 10, 7, 12, 30, 40)


def entry(name: str, *, mode: int | None = None, when: tuple[int, ...] = WHEN) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, when)  # type: ignore[arg-type]
    info.compress_type = zipfile.ZIP_DEFLATED
    if mode is not None:
        info.create_system, info.external_attr = 3, mode << 16
    else:
        info.create_system = 0  # made on Windows: no Unix mode
    return info


def write_zip(path: Path, members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in members:
            archive.writestr(entry(info) if isinstance(info, str) else info, data)
    return path


WINDOWS_BUILD: list[tuple[zipfile.ZipInfo | str, bytes]] = [
    ("python/python.exe", b"MZ\x90\x00" + BINARY),
    ("python/python313.dll", BINARY[::-1]),
    ("python/Lib/os.py", b"import abc\r\n\nx = 1\n"),
    ("python/Lib/site-packages/README.txt", b"This is site-packages.\n"),
    ("python/DLLs/", b""),
]


def test_a_windows_build_extracts_byte_exact(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "cpython-3.13.2-windows.zip", WINDOWS_BUILD)
    dest, record = tmp_path / "dest", Written()
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    extract_archive(archive, dest, record=record, sha256=digest)
    for name, data in WINDOWS_BUILD:
        rel = str(name).removeprefix("python/")
        if rel.endswith("/"):
            assert (dest / rel).is_dir()
        else:
            assert (dest / rel).read_bytes() == data, rel
    files = ["Lib/os.py", "Lib/site-packages/README.txt", "python.exe", "python313.dll"]
    assert sorted(record.files) == files
    assert {"", "Lib", "Lib/site-packages", "DLLs"} <= record.dirs
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((dest / "python.exe").stat().st_mode) == 0o644 & ~umask


def test_unix_modes_keep_the_executable_bits_and_nothing_dangerous(tmp_path: Path) -> None:
    archive = write_zip(
        tmp_path / "a.zip",
        [
            (entry("python/bin/python3", mode=stat.S_IFREG | 0o4777), b"#!"),
            (entry("python/lib/x.py", mode=stat.S_IFREG | 0o600), b"x"),
        ],
    )
    extract_archive(archive, tmp_path / "dest")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "dest/bin/python3").stat().st_mode) == 0o755 & ~umask
    assert stat.S_IMODE((tmp_path / "dest/lib/x.py").stat().st_mode) == 0o600 & ~umask


def test_mtimes_come_from_the_unix_field_or_the_dos_time(tmp_path: Path) -> None:
    exact = entry("python/a.py")
    exact.extra = struct.pack("<HHBi", 0x5455, 5, 1, 1_700_000_123)
    archive = write_zip(tmp_path / "t.zip", [(exact, b"a"), ("python/b.py", b"b")])
    extract_archive(archive, tmp_path / "dest")
    assert (tmp_path / "dest/a.py").stat().st_mtime == 1_700_000_123
    assert (tmp_path / "dest/b.py").stat().st_mtime == 1728304240  # WHEN, read as UTC


def test_a_wrong_sha256_is_a_checksum_error_before_anything_is_written(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "a.zip", WINDOWS_BUILD)
    with pytest.raises(ChecksumError, match=r"a\.zip: checksum mismatch"):
        extract_archive(archive, tmp_path / "dest", sha256="0" * 64)
    assert not (tmp_path / "dest").exists()


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("python/a\\..\\..\\ESCAPED.txt", "backslash"),
        ("python/../ESCAPED.txt", "'..' in path"),
        ("/python/ESCAPED.txt", "absolute path"),
        ("python/C:x", "colon"),
        ("python/Lib/NUL.py", "reserved device name"),
        ("python/Lib/x.", "ending in a dot"),
        ("other/x", "outside the top-level directory"),
    ],
)
def test_hostile_names_in_a_zip_are_refused(tmp_path: Path, name: str, why: str) -> None:
    archive = write_zip(tmp_path / "h.zip", [("python/ok", b"ok"), (name, b"evil")])
    with pytest.raises(ArchiveError, match="member") as excinfo:
        extract_archive(archive, tmp_path / "dest")
    assert why in str(excinfo.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest", "h.zip"]


def test_a_duplicate_member_is_refused(tmp_path: Path) -> None:
    members: list[tuple[zipfile.ZipInfo | str, bytes]] = [("python/a", b"1"), ("python/a", b"2")]
    with pytest.warns(UserWarning, match="Duplicate name"):
        archive = write_zip(tmp_path / "d.zip", members)
    with pytest.raises(ArchiveError, match="duplicate member"):
        extract_archive(archive, tmp_path / "dest")


def test_a_symlink_member_gets_the_tar_checks(tmp_path: Path) -> None:
    link = entry("python/lib/evil", mode=stat.S_IFLNK | 0o777)
    archive = write_zip(tmp_path / "l.zip", [("python/ok", b"ok"), (link, b"../../outside")])
    with pytest.raises(ArchiveError, match="escapes the target directory"):
        extract_archive(archive, tmp_path / "dest")


def test_damaged_bytes_are_an_archive_error(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "c.zip", [("python/a", BINARY)])
    data = bytearray(archive.read_bytes())
    data[60] ^= 0xFF  # inside the deflated data of the one member
    archive.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="corrupt or truncated"):
        extract_archive(archive, tmp_path / "dest")


def test_a_truncated_zip_is_an_archive_error(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "t.zip", WINDOWS_BUILD)
    archive.write_bytes(archive.read_bytes()[:-30])  # the central directory's end is gone
    with pytest.raises(ArchiveError, match="corrupt or truncated"):
        extract_archive(archive, tmp_path / "dest")


def test_a_member_over_the_size_cap_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(zipread, "MAX_SIZE", 1000)
    archive = write_zip(tmp_path / "big.zip", [("python/big", bytes(2000))])
    with pytest.raises(ArchiveError, match="more than any"):
        extract_archive(archive, tmp_path / "dest")
    assert not (tmp_path / "dest" / "big").exists()

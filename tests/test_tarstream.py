"""The tar reader against tarfile: every format tar writers use for interpreter archives reads
the same, and malformed headers are refused with TarFormatError, never guessed at."""

from __future__ import annotations

import io
import random
import tarfile

import pytest

from tui.engine.archives.tarstream import (
    DIRECTORY,
    HARDLINK,
    REGULAR,
    SYMLINK,
    TarFormatError,
    TarReader,
    _byte_sum,
)

LONG_DIR = "python/lib/python3.12/site-packages/" + "a-rather-long-directory-name/" * 4
ENTRIES = [
    ("python", tarfile.DIRTYPE, b"", ""),
    ("python/bin/python3.12", tarfile.REGTYPE, b"\x7fELF" + bytes(5000), ""),
    ("python/bin/python3", tarfile.SYMTYPE, b"", "python3.12"),
    ("python/lib/empty.txt", tarfile.REGTYPE, b"", ""),
    ("python/lib/hard", tarfile.LNKTYPE, b"", "python/bin/python3.12"),
    (LONG_DIR + "module.py", tarfile.REGTYPE, b"x = 1\n" * 300, ""),  # > 100: prefix or long name
    ("python/lib/" + "n" * 120, tarfile.REGTYPE, b"long name", ""),  # no prefix split possible
    ("python/lib/link-long", tarfile.SYMTYPE, b"", "../" + "t" * 150),  # long link target
    ("python/lib/ünïcode.py", tarfile.REGTYPE, "é".encode(), ""),
]


def build(fmt: int, *, mtime: float = 1_700_000_000, pax: dict[str, str] | None = None) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt, pax_headers=pax or {}) as tar:
        for name, kind, data, link in ENTRIES:
            if fmt == tarfile.USTAR_FORMAT and (len(link) > 100 or name.endswith("n" * 120)):
                continue  # ustar cannot hold these
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.mtime = kind, link, mtime
            info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return out.getvalue()


def ours(raw: bytes, *, whole: bool = False) -> list[tuple[str, str, int, float, bytes, str]]:
    """What the reader yields; with ``whole``, data is read in one slice where it fits, as
    extraction does."""
    reader = TarReader(io.BytesIO(raw), bufsize=1024)  # small: members straddle refills
    found = []
    for m in reader:
        data = b""
        if m.type == REGULAR:
            one = reader.whole() if whole else None
            data = bytes(one) if one is not None else b"".join(bytes(c) for c in reader.data())
        found.append((m.name, m.type, m.mode, m.mtime, data, m.linkname))
    return found


def theirs(raw: bytes) -> list[tuple[str, str, int, float, bytes, str]]:
    kinds = {tarfile.REGTYPE: REGULAR, tarfile.DIRTYPE: DIRECTORY}
    kinds |= {tarfile.SYMTYPE: SYMLINK, tarfile.LNKTYPE: HARDLINK}
    found = []
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r|") as tar:
        for m in tar:
            handle = tar.extractfile(m) if m.isreg() else None
            data = handle.read() if handle else b""
            found.append((m.name, kinds[m.type], m.mode, float(m.mtime), data, m.linkname))
    return found


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_reads_what_tarfile_reads(fmt: int) -> None:
    raw = build(fmt)
    assert ours(raw) == theirs(raw)
    assert ours(raw, whole=True) == theirs(raw)
    assert len(ours(raw)) >= 7


def test_header_checksums_are_summed_exactly() -> None:
    """The fast sum is exact for every header, including all-0xff bytes (the largest sum)."""
    rng = random.Random(7)
    blocks = [bytes([255]) * 512, bytes(512), *(rng.randbytes(512) for _ in range(200))]
    assert all(_byte_sum(block) == sum(block) for block in blocks)


def test_pax_mtime_fractions_and_global_headers() -> None:
    raw = build(tarfile.PAX_FORMAT, mtime=1_700_000_000.25, pax={"comment": "made by a test"})
    assert ours(raw) == theirs(raw)
    assert ours(raw)[1][3] == 1_700_000_000.25


def test_unread_data_is_skipped() -> None:
    reader = TarReader(io.BytesIO(build(tarfile.PAX_FORMAT)), bufsize=700)
    assert [m.name for m in reader] == [e[0] for e in ENTRIES]


def header(**fields: object) -> bytes:
    info = tarfile.TarInfo(str(fields.pop("name", "python/f")))
    for key, value in fields.items():
        setattr(info, key, value)
    return info.tobuf(tarfile.USTAR_FORMAT)


def with_pax(records: bytes) -> io.BytesIO:
    """A pax header holding ``records``, then one member."""
    block = header(name="././@PaxHeader", type=tarfile.XHDTYPE, size=len(records))
    padded = records + bytes(-len(records) % 512)
    return io.BytesIO(block + padded + header(size=0))


def test_bad_checksum_is_refused() -> None:
    block = bytearray(header(size=0))
    block[0:1] = b"q"  # the name changes, the stored checksum does not
    with pytest.raises(TarFormatError, match="checksum"):
        list(TarReader(io.BytesIO(bytes(block) + bytes(1024))))


def test_truncated_data_is_refused() -> None:
    raw = header(size=5000) + b"x" * 100
    reader = TarReader(io.BytesIO(raw))
    with pytest.raises(TarFormatError, match="truncated"):
        for _ in reader:
            for _ in reader.data():
                pass


def test_truncated_header_is_refused() -> None:
    with pytest.raises(TarFormatError, match="truncated header"):
        list(TarReader(io.BytesIO(header(size=0) + b"\x01" * 100)))


def test_a_stream_ending_at_a_member_boundary_just_ends() -> None:
    assert [m.name for m in TarReader(io.BytesIO(header(size=0)))] == ["python/f"]


def test_huge_extended_header_is_refused() -> None:
    block = header(name="././@PaxHeader", type=tarfile.XHDTYPE, size=1 << 30)
    with pytest.raises(TarFormatError, match="extended header"):
        list(TarReader(io.BytesIO(block)))


@pytest.mark.parametrize(
    "records",
    [b"99999 path=x\n", b"abc path=x\n", b"12 path=x\n", b"9 pathx\n"],
    ids=["past-end", "not-a-number", "no-newline", "no-equals"],
)
def test_malformed_pax_records_are_refused(records: bytes) -> None:
    with pytest.raises(TarFormatError, match="pax"):
        list(TarReader(with_pax(records)))


def test_endless_pax_mtime_is_refused() -> None:
    with pytest.raises(TarFormatError, match="endless mtime"):
        list(TarReader(with_pax(b"13 mtime=nan\n")))


def test_sparse_files_are_refused() -> None:
    with pytest.raises(TarFormatError, match="sparse"):
        list(TarReader(with_pax(b"22 GNU.sparse.major=1\n")))


def test_base256_sizes_are_read() -> None:
    block = bytearray(header(size=0))
    block[124:136] = b"\x80" + (3).to_bytes(11, "big")
    block[148:156] = b" " * 8
    block[148:155] = f"{sum(block):06o}\x00".encode()
    reader = TarReader(io.BytesIO(bytes(block) + b"abc" + bytes(509)))
    member = next(iter(reader))
    assert member.size == 3
    assert b"".join(bytes(c) for c in reader.data()) == b"abc"

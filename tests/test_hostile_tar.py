"""Hostile tar headers: every number the reader cannot trust ends in one archive error, never
in a spin. A negative size in a GNU long name or a pax header once moved the reader back one
block onto the header it had just read, at 100 % CPU, out of reach of a cancel.

Every read here runs under a hang guard: a thread joined with a timeout, failing as "hung"."""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import World
from tests.pbs_fixtures import catalog_json, make_archive
from tests.recording import Recording
from tui.engine.archives.extract import _Source, extract_archive, extract_stream
from tui.engine.archives.tarstream import REGULAR, TarFormatError, TarReader
from tui.engine.errors import ArchiveError, Cancelled

T = TypeVar("T")
HANG_GUARD = 60.0  # seconds: only a read that spins gets near it
NEGATIVE = b"-0000001000\x00"  # what int(..., 8) reads as -512
BASE256_NEGATIVE = b"\xff" * 12  # -1 in GNU base-256
BASE256_HUGE = b"\x80" + (1 << 80).to_bytes(11, "big")


def guarded(run: Callable[[], T], timeout: float = HANG_GUARD) -> T:
    """``run()`` in a thread; the test fails as hung if it has not returned by ``timeout``."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = run()
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        pytest.fail(f"hung: the read did not end within {timeout:.0f} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def sealed(block: bytes | bytearray) -> bytes:
    """The header with its checksum recomputed, so the reader gets past that check."""
    block = bytearray(block)
    block[148:156] = b" " * 8
    block[148:155] = f"{sum(block):06o}\x00".encode()
    return bytes(block)


def header(
    name: str = "python/f",
    kind: bytes = tarfile.REGTYPE,
    size: int = 0,
    *,
    field: tuple[int, bytes] | None = None,
) -> bytes:
    """One ustar header block; ``field`` overwrites raw bytes at an offset (then resealed)."""
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mtime, info.mode = kind, size, 1_700_000_000, 0o644
    block = bytearray(info.tobuf(tarfile.USTAR_FORMAT))
    if field is not None:
        offset, raw = field
        block[offset : offset + len(raw)] = raw
    return sealed(block)


def padded(data: bytes) -> bytes:
    return data + bytes(-len(data) % 512)


def extended(kind: bytes, payload: bytes, *, size: bytes | None = None) -> bytes:
    """An ``x``/``g``/``L``/``K`` header and its payload; ``size`` replaces its size field."""
    name = "././@LongLink" if kind in (b"L", b"K") else "././@PaxHeader"
    field = None if size is None else (124, size)
    return header(name, kind, len(payload), field=field) + padded(payload)


def record(body: bytes, off: int = 0) -> bytes:
    """One pax record; its length counts itself, the space and the newline (plus ``off``)."""
    n = len(body) + 2
    length = n + len(str(n))
    length += len(str(length)) - len(str(n))
    return b"%d %s\n" % (length + off, body)


def pax(*bodies: bytes) -> bytes:
    return b"".join(record(body) for body in bodies)


PROLOGUE = header("python/", tarfile.DIRTYPE) + header("python/bin/", tarfile.DIRTYPE)
END = bytes(1024)


def archive(*parts: bytes) -> bytes:
    """A tar stream: a valid start, ``parts``, one last member, the end blocks."""
    return (
        PROLOGUE + b"".join(parts) + header("python/bin/python3.12", size=3) + padded(b"hi\n") + END
    )


# Each header kind, with a number the reader cannot trust: the bytes and the error they give.
HOSTILE: dict[str, tuple[bytes, str]] = {
    "ustar-octal-negative-size": (
        archive(header(field=(124, NEGATIVE)) + padded(b"x")),
        "negative number",
    ),
    "v7-octal-negative-size": (  # no ustar magic: a v7 header
        archive(sealed(header(field=(124, NEGATIVE)).replace(b"ustar\x0000", bytes(8)))),
        "negative number",
    ),
    "octal-not-a-number": (archive(header(field=(124, b"1_000\x00"))), "bad number"),
    "octal-negative-mtime": (archive(header(field=(136, NEGATIVE))), "negative number"),
    "octal-negative-mode": (archive(header(field=(100, b"-000644\x00"))), "negative number"),
    "base256-negative-size": (archive(header(field=(124, BASE256_NEGATIVE))), "negative number"),
    "base256-huge-size": (archive(header(field=(124, BASE256_HUGE))), "more than any"),
    "base256-bad-marker": (archive(header(field=(124, b"\x81" + bytes(11)))), "base-256"),
    "pax-size-negative": (archive(extended(b"x", pax(b"size=-1000")), header()), "bad size"),
    "pax-size-not-digits": (archive(extended(b"x", pax(b"size=1_0")), header()), "bad size"),
    "pax-size-huge": (
        archive(extended(b"x", pax(b"size=99999999999999999999")), header()),
        "more than any",
    ),
    "pax-record-length-zero": (archive(extended(b"x", b"0 path=x\n"), header()), "pax"),
    "pax-record-length-backwards": (archive(extended(b"x", b"3 path=x\n"), header()), "pax"),
    "pax-x-header-negative-size": (
        archive(extended(b"x", pax(b"path=python/a"), size=NEGATIVE), header()),
        "negative number",
    ),
    "pax-g-header-negative-size": (
        archive(extended(b"g", pax(b"comment=c"), size=NEGATIVE), header()),
        "negative number",
    ),
    "pax-x-header-base256-negative-size": (
        archive(extended(b"x", pax(b"path=python/a"), size=BASE256_NEGATIVE), header()),
        "negative number",
    ),
    "gnu-long-name-negative-size": (
        archive(extended(b"L", b"python/" + b"n" * 120 + b"\x00", size=NEGATIVE), header()),
        "negative number",
    ),
    "gnu-long-link-negative-size": (
        archive(extended(b"K", b"t" * 120 + b"\x00", size=NEGATIVE), header()),
        "negative number",
    ),
    "gnu-long-name-base256-negative-size": (
        archive(extended(b"L", b"python/long\x00", size=BASE256_NEGATIVE), header()),
        "negative number",
    ),
    "gnu-long-name-huge-size": (
        archive(extended(b"L", b"python/long\x00", size=BASE256_HUGE), header()),
        "more than any",
    ),
    "extended-headers-without-end": (  # 2,100 empty pax headers in front of one member
        archive(extended(b"x", b"") * 2100, header()),
        "extended headers",
    ),
    "global-headers-past-the-limit": (  # each under the limit, with a member between them
        archive(
            *(extended(b"g", pax(b"c=" + b"c" * 400_000)) + header(f"python/{i}") for i in "abc")
        ),
        "extended headers",
    ),
    "gnu-sparse-member": (archive(header(kind=b"S", size=512) + bytes(512)), "sparse"),
    "pax-sparse-member": (archive(extended(b"x", pax(b"GNU.sparse.size=9")), header()), "sparse"),
    "multi-volume-part": (archive(header(kind=b"M", size=512) + bytes(512)), "multi-volume"),
}


def read_all(raw: bytes) -> int:
    """Read every member and its data as extraction does; the number of members."""
    reader = TarReader(io.BytesIO(raw), bufsize=4096)
    count = 0
    for count, member in enumerate(reader, 1):  # noqa: B007
        if member.type == REGULAR and reader.whole() is None:
            for _ in reader.data():
                pass
    return count


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_an_untrusted_number_is_one_archive_error(tmp_path: Path, case: str) -> None:
    raw, reason = HOSTILE[case]
    with pytest.raises(TarFormatError, match=reason):
        guarded(lambda: read_all(raw))
    path = tmp_path / "hostile.tar.gz"
    path.write_bytes(gzip.compress(raw, mtime=0))
    with pytest.raises(ArchiveError, match=rf"^hostile\.tar\.gz: corrupt .*{reason}") as caught:
        guarded(lambda: extract_archive(path, tmp_path / "dest"))
    assert "\n" not in str(caught.value)


def test_the_valid_start_reads_without_the_hostile_part() -> None:
    assert read_all(archive()) == 3  # the cases fail on their hostile part, nothing else


def test_a_cancel_stops_a_long_member_midway(tmp_path: Path) -> None:
    """The cancel is seen inside a 24 MiB member, not only once it has been read."""
    spec = make_archive(tmp_path / "a", payload_kib=24 << 10)
    reporter = Recording()
    pulled: list[int] = []
    with spec.path.open("rb") as raw:

        def next_chunk() -> bytes:
            chunk = raw.read(1 << 20)
            pulled.append(len(chunk))
            if sum(pulled) > 4 << 20:  # well inside the payload, the archive's bulk
                reporter.cancel()
            return chunk

        with pytest.raises(Cancelled):
            guarded(
                lambda: extract_stream(
                    _Source(next_chunk), spec.filename, tmp_path / "dest", reporter=reporter
                )
            )
    assert sum(pulled) < spec.size // 2  # the read stopped, far from the member's end


# -- fuzzing: mutated headers end in an error or a finished read -------------------------


def _valid_archive() -> bytes:
    """Every header kind the reader knows, in one small archive: ustar, a GNU long name and
    long link, a pax global and local header, a base-256 size."""
    parts = [tarfile.TarInfo.create_pax_global_header({"comment": "g"})]
    for name, kind, data, link, fmt in [
        ("python", tarfile.DIRTYPE, b"", "", tarfile.USTAR_FORMAT),
        ("python/bin/python3.12", tarfile.REGTYPE, b"#!/bin/sh\n" * 50, "", tarfile.USTAR_FORMAT),
        ("python/lib/" + "n" * 120, tarfile.REGTYPE, b"long", "", tarfile.GNU_FORMAT),
        ("python/lib/l", tarfile.SYMTYPE, b"", "t" * 150, tarfile.GNU_FORMAT),
        ("python/lib/ü" + "p" * 110, tarfile.REGTYPE, b"hello", "", tarfile.PAX_FORMAT),
    ]:
        info = tarfile.TarInfo(name)
        info.type, info.linkname, info.size, info.mtime = kind, link, len(data), 1.5
        parts.append(info.tobuf(fmt, "utf-8", "surrogateescape") + padded(data))
    base256 = header("python/lib/b", field=(124, b"\x80" + (3).to_bytes(11, "big")))
    return b"".join(parts) + base256 + padded(b"abc") + END


VALID = _valid_archive()


def _header_offsets(raw: bytes) -> list[int]:
    offsets, pos = [], 0
    while raw[pos : pos + 512] != bytes(512):
        offsets.append(pos)
        size = tarfile.nti(raw[pos + 124 : pos + 136])  # octal or base-256
        pos += 512 + size + (-size % 512)
    return offsets


HEADERS = _header_offsets(VALID)
FIELDS = {"size": (124, 12), "mode": (100, 8), "mtime": (136, 12), "type": (156, 1)}
NUMBERS = st.one_of(
    st.sampled_from(
        [
            *(NEGATIVE, b"-1", b"-0", b"+1", b"1_0", b"0o17", b"   ", b"8", b"77777777777"),
            *(BASE256_NEGATIVE, BASE256_HUGE, b"\x80" + bytes(11), b"\x80" + b"\xff" * 11),
        ]
    ),
    st.integers(-(10**12), 10**12).map(lambda n: b"%o" % n if n >= 0 else b"-%o" % -n),
    st.integers(-64, 64).map(lambda n: b"%o" % (n * 512) if n >= 0 else b"-%o" % (-n * 512)),
    st.binary(min_size=1, max_size=12),
)
TYPES = st.sampled_from([b"0", b"1", b"2", b"5", b"x", b"g", b"L", b"K", b"S", b"M", b"\x00", b"7"])
PAX_RECORDS = st.lists(
    st.tuples(
        st.sampled_from([b"size", b"path", b"linkpath", b"mtime", b"GNU.sparse.size", b"x"]),
        st.one_of(st.sampled_from([b"-1000", b"-1", b"nan", b"1e400", b"9" * 30]), st.binary()),
        st.integers(-12, 12),  # a record length off by this much
    ),
    max_size=4,
)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    raw = bytearray(VALID)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.sampled_from(HEADERS))
        name = draw(st.sampled_from(["size", "size", *FIELDS]))  # sizes twice as often
        offset, width = FIELDS[name]
        value = draw(TYPES if name == "type" else NUMBERS)[:width].ljust(width, b"\x00")
        raw[at + offset : at + offset + width] = value
        if draw(st.integers(0, 9)) < 9:  # mostly resealed, or the checksum stops every read
            raw[at : at + 512] = sealed(raw[at : at + 512])
    records = draw(PAX_RECORDS)
    if records:
        body = b"".join(record(key + b"=" + value, off) for key, value, off in records)
        raw[:0] = extended(b"x", body)
    if draw(st.booleans()):
        raw = raw[: draw(st.integers(0, len(raw)))]  # cut short too
    return bytes(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=mutated())
def test_mutated_headers_end_in_an_error_or_a_finished_read(raw: bytes) -> None:
    with contextlib.suppress(TarFormatError):
        guarded(lambda: read_all(raw), timeout=30)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.tar.gz"
        path.write_bytes(gzip.compress(raw, compresslevel=1, mtime=0))
        try:
            guarded(lambda: extract_archive(path, Path(folder) / "dest"), timeout=30)
        except ArchiveError as exc:
            assert "\n" not in str(exc)


# -- end to end: the CLI says one line -----------------------------------------------------


def pyshelf(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a process (a spin cannot be stopped in-process), failing as hung when it
    does not end."""
    where = [
        "--cache-dir", str(world.root / "cache"), "--install-dir", str(world.root / "installs"),
        "--bin-dir", str(world.root / "bin"), "--catalog", str(world.catalog_path),
    ]  # fmt: skip
    script = "import sys, tui.cli.main; sys.exit(tui.cli.main.main())"
    try:
        return subprocess.run(
            [sys.executable, "-c", script, *where, *args],
            capture_output=True, text=True, timeout=HANG_GUARD, cwd=world.root,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"hung: pyshelf {' '.join(args)} did not end within {HANG_GUARD:.0f} s")


@pytest.mark.parametrize("offline", [True, False], ids=["from-the-cache", "as-it-downloads"])
def test_install_of_a_spinning_archive_fails_in_one_line(world: World, offline: bool) -> None:
    """The reported archive: its sha256 matches the catalog, so only the reader stands in its
    way; installed from the cache (offline) and as it downloads."""
    key = "cpython-3.12.7-linux-x86_64-gnu"
    spec = world.spec(key)
    raw = archive(extended(b"L", b"python/long\x00", size=NEGATIVE), header())
    spec.path.write_bytes(gzip.compress(raw, mtime=0))
    data = spec.path.read_bytes()
    hostile = dataclasses.replace(spec, sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    specs = [hostile if s.key == key else s for s in world.specs]
    world.catalog_path.write_text(json.dumps(catalog_json(specs, world.server.url)))
    if offline:
        assert world.cli("fetch", "3.12.7")[0] == 0
    done = pyshelf(world, *(["--offline"] if offline else []), "install", "3.12.7")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "unexpected" not in done.stderr
    (failed,) = [line for line in done.stderr.splitlines() if "failed" in line]
    assert failed.startswith(f"install   {key}  failed: ")
    assert failed.endswith(".tar.gz: corrupt or truncated (negative number in a header)")
    assert not (world.root / "installs" / key).exists()

"""pyshelf on Windows: what runs in the Windows interpreter (.ci/windows runs this module under
wine with the embeddable CPython; skipped on every other system).

Wine cannot judge everything: its locks are wineserver's, not NTFS's, its folders can be
renamed with files open in them, it makes no junctions, and its disk is the host's
case-sensitive one. So this module checks imports, bytes, names and the platform layer's
fallbacks; the locks and swaps are left to a real Windows machine.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import os
import pkgutil
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "win32", reason="Windows only")

# Every byte value, and line ends a text-mode write would turn into "\r\n".
BINARY = bytes(range(256)) * 16 + b"a\nb\r\nc\n\x1a\x00end"


# Modules that still import fcntl or read an os.O_* flag Windows lacks, until their owners
# move them onto tui.engine.platform (tests/test_platform_boundary.py lists them too); every
# module that imports one of them fails with it.
NOT_CONVERTED_YET: tuple[str, ...] = ()  # modules that still wait for the platform layer


def test_every_module_imports() -> None:
    """Every module imports, but those that wait for a module not converted yet."""
    import tui

    failed, waiting = {}, {}
    modules = [
        m.name for m in pkgutil.walk_packages(tui.__path__, "tui.") if m.name != "tui.__main__"
    ]
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # every failure listed at once, not the first
            where = exc.__traceback__
            while where is not None and where.tb_next is not None:
                where = where.tb_next
            culprit = "" if where is None else Path(where.tb_frame.f_code.co_filename).as_posix()
            if any(culprit.endswith(module) for module in NOT_CONVERTED_YET):
                waiting[name] = culprit.rpartition("tui/engine/")[2]
            else:
                failed[name] = f"{type(exc).__name__}: {exc} ({culprit})"
    assert not failed, f"{len(failed)} of {len(modules)} modules fail: {failed}"
    print(f"{len(modules) - len(waiting)} of {len(modules)} modules import;", end=" ")
    print(f"{len(waiting)} wait for {sorted(set(waiting.values()))}")


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1_700_000_000, 0o644
            archive.addfile(info, io.BytesIO(data))
    return path


def test_a_tar_extracts_byte_exact(tmp_path: Path) -> None:
    from tui.engine.archives.extract import Written, extract_archive

    members = {"python/python.exe": b"MZ" + BINARY, "python/Lib/os.py": b"x = 1\n\r\n"}
    archive = _tar(tmp_path / "a.tar.gz", members)
    record = Written()
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    extract_archive(archive, tmp_path / "dest", record=record, sha256=sha)
    for name, data in members.items():
        assert (tmp_path / "dest" / name.removeprefix("python/")).read_bytes() == data
    assert int((tmp_path / "dest" / "Lib" / "os.py").stat().st_mtime) == 1_700_000_000
    assert sorted(record.files) == ["Lib/os.py", "python.exe"]


def test_a_zip_extracts_byte_exact(tmp_path: Path) -> None:
    from tui.engine.archives.extract import extract_archive

    members = {"python/python.exe": BINARY, "python/DLLs/x.pyd": BINARY[::-1]}
    archive = tmp_path / "cpython-windows.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, data)
    extract_archive(
        archive, tmp_path / "dest", sha256=hashlib.sha256(archive.read_bytes()).hexdigest()
    )
    for name, data in members.items():
        assert (tmp_path / "dest" / name.removeprefix("python/")).read_bytes() == data


@pytest.mark.parametrize("name", ["python/a\\..\\..\\ESCAPED.txt", "python/C:x", "python/CON"])
def test_names_unsafe_on_windows_are_refused(tmp_path: Path, name: str) -> None:
    from tui.engine.archives.extract import extract_archive
    from tui.engine.errors import ArchiveError

    archive = _tar(tmp_path / "h.tar.gz", {"python/ok": b"ok", name: b"evil"})
    (tmp_path / "inside").mkdir()
    with pytest.raises(ArchiveError, match="member"):
        extract_archive(archive, tmp_path / "inside" / "dest")
    assert not list(tmp_path.rglob("ESCAPED*"))


def test_the_platform_layer_falls_back(tmp_path: Path) -> None:
    from tui.engine.platform import flags, locks
    from tui.engine.platform.links import link_or_copy
    from tui.engine.platform.swap import exchange_paths

    assert flags.O_BINARY and not flags.FOLDER_FDS and not flags.UTIME_FD
    source = tmp_path / "a"
    source.write_bytes(BINARY)
    link_or_copy(str(source), str(tmp_path / "b"))  # NotImplementedError is not the end
    assert (tmp_path / "b").read_bytes() == BINARY
    assert exchange_paths(source, tmp_path / "b") is False  # rename-aside instead
    fd = os.open(source, os.O_RDWR)
    try:
        assert locks.try_lock(fd)
        locks.unlock(fd)
        assert locks.holders(fd) == []
    finally:
        os.close(fd)


def test_files_are_read_and_written_and_trees_removed(tmp_path: Path) -> None:
    from tui.engine import fsutil

    target = tmp_path / "state" / "f.json"
    fsutil.atomic_write_bytes(target, BINARY)
    assert fsutil.read_small(target, 1 << 20) == BINARY  # no os.set_blocking on a file
    with fsutil.open_regular(target) as handle:  # type: ignore[union-attr]
        assert handle.read() == BINARY
    (tmp_path / "state" / "deep" / "er").mkdir(parents=True)
    fsutil.remove_tree(tmp_path / "state")
    assert not (tmp_path / "state").exists()

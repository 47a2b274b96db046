"""Member names that are safe on every system, checked on every system: an archive made on
one machine is installed on another. Each hostile archive here was installed (exit 0) before
these checks, on Linux too."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from tests.conftest import World
from tests.pbs_fixtures import catalog_json, make_archive
from tests.test_extract import BASE, Member, file, info, write_tar
from tui.engine.archives.extract import extract_archive
from tui.engine.archives.names import split_member, unsafe_reason
from tui.engine.errors import ArchiveError


def link(name: str, target: str) -> Member:
    return info(name, tarfile.SYMTYPE, link=target), None


def folder(name: str) -> Member:
    return info(name, tarfile.DIRTYPE, mode=0o755), None


HOSTILE: dict[str, tuple[list[Member], str]] = {
    # Windows reads "\" as a separator: this one landed one level above the install.
    "backslash climbs": ([file("python/a\\..\\..\\ESCAPED.txt")], "backslash"),
    "drive prefix": ([file("python/C:x")], "colon"),
    "drive at the top": ([file("C:/python/x")], "colon"),
    "stream": ([file("python/bin/python3.12:evil")], "colon"),
    "device": ([file("python/lib/CON")], "reserved device name 'CON'"),
    "device with extension": ([file("python/nul.txt")], "reserved device name 'nul.txt'"),
    "device as a folder": ([file("python/Com1.py/x")], "reserved device name 'Com1.py'"),
    "device with a space": ([file("python/aux .c")], "reserved device name"),
    "superscript port": ([file("python/lpt\u00b9")], "reserved device name"),
    "trailing dot": ([file("python/lib.")], "ending in a dot"),
    "control character": ([file("python/lib/a\nb")], "control character"),
    "trailing space in a folder": ([file("python/lib /x")], "ending in a dot or a space"),
    "symlink target with a backslash": (
        [link("python/x", "..\\..\\outside")],
        "backslash",
    ),
    "symlink target with a drive": ([link("python/x", "C:/outside")], "colon"),
    # On a case-insensitive disk (APFS, NTFS) "A" is the link "a": d/s -> d/a/../.. climbs.
    "symlink escape through another case": (
        [folder("python/d"), link("python/d/a", ".."), link("python/d/s", "A/../..")],
        "escapes",
    ),
    "write through a link in another case": (
        [link("python/lib2", "bin"), file("python/LIB2/evil")],
        "non-directory",
    ),
    "link over a folder in another case": (
        [folder("python/lib"), link("python/LIB", "bin")],
        "differs only in case",
    ),
    "folder over a file in another case": (
        [file("python/x"), folder("python/X")],
        "differs only in case",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_names_unsafe_on_some_system_are_refused(tmp_path: Path, case: str) -> None:
    members, why = HOSTILE[case]
    archive = write_tar(tmp_path / "hostile.tar.gz", [*BASE, *members])
    with pytest.raises(ArchiveError, match="member") as excinfo:
        extract_archive(archive, tmp_path / "dest")
    assert why in str(excinfo.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest", "hostile.tar.gz"]


@pytest.mark.parametrize(
    "name",
    [
        "python/lib/console.py",  # starts like a device, is not one
        "python/lib/con_x",
        "python/lib/auxiliary",
        "python/lib/.hidden",
        "python/lib/...x",
        "python/lib/a.b.c",
        "python/share/terminfo/N/NCR260VT300WPP",
        "python/lib/python3.12/site-packages/pip-24.0.dist-info/RECORD",
        "python/lib/ünïcode.txt",
    ],
)
def test_ordinary_names_pass(name: str) -> None:
    assert unsafe_reason(name) is None
    assert split_member(name) == name.split("/")


def test_names_differing_in_case_alone_are_kept_where_no_link_is_involved(
    tmp_path: Path,
) -> None:
    """ncurses' terminfo keeps "N/" and "n/" side by side: a case-sensitive disk holds both,
    and a case-insensitive one merges the folders (two files there stop at O_EXCL)."""
    members = [
        folder("python/share"),
        file("python/share/terminfo/N/NCR"),
        file("python/share/terminfo/n/ncr"),
    ]
    extract_archive(write_tar(tmp_path / "t.tar.gz", [*BASE, *members]), tmp_path / "dest")
    assert (tmp_path / "dest/share/terminfo/N/NCR").read_bytes() == b"data\n"
    assert (tmp_path / "dest/share/terminfo/n/ncr").read_bytes() == b"data\n"


def test_install_of_an_archive_with_a_backslash_member_fails_in_one_line(world: World) -> None:
    """End to end through the CLI: the catalog vouches for the archive (its sha256 matches),
    so only the member check stands in the way."""
    key = "cpython-3.12.7-linux-x86_64-gnu"
    original = world.spec(key)
    hostile = make_archive(
        original.path.parent,
        version="3.12.7",
        payload_kib=16,
        extra_members=[file("python/a\\..\\..\\ESCAPED.txt")],
    )
    assert hostile.path == original.path
    specs = [hostile if s.key == key else s for s in world.specs]
    world.catalog_path.write_text(json.dumps(catalog_json(specs, world.server.url)))
    code, _, err = world.cli("install", "3.12.7")
    assert code == 1 and "Traceback" not in err, err
    (failed,) = [line for line in err.splitlines() if "failed" in line]
    assert failed.startswith(f"install   {key}  failed: ")
    assert "a backslash in a name" in failed
    assert not (world.root / "installs" / key).exists()
    assert not list(world.root.rglob("*ESCAPED*"))

"""Unpacked copies: checked before reuse, repaired from the archive, dropped with their install
unless hot copies are kept, and scratch of killed unpacks swept without touching live ones."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tarfile
import textwrap
import threading
from pathlib import Path

import pytest

from tests.conftest import World
from tests.pbs_fixtures import make_archive
from tui.engine.du import freed_size, tree_size
from tui.engine.installs.unpacked import _UNSEALED as UNSEALED
from tui.engine.installs.unpacked import CopyDiffers, UnpackedStore
from tui.engine.settings import Settings
from tui.engine.shelf import Entry, Shelf
from tui.format import human_size

K127 = "cpython-3.12.7-linux-x86_64-gnu"
K126 = "cpython-3.12.6-linux-x86_64-gnu"
K119 = "cpython-3.11.9-linux-x86_64-gnu"
OS_PY = "lib/python3.12/os.py"
PAYLOAD = "lib/python3.12/payload.bin"


def archived(world: World, key: str, member: str) -> bytes:
    """A file's bytes as the archive has them."""
    with tarfile.open(world.spec(key).path) as tar:
        handle = tar.extractfile(f"python/{member}")
        assert handle is not None
        return handle.read()


def installed(world: World, key: str, member: str) -> Path:
    return world.root / "installs" / key / member


def copy_of(world: World, key: str) -> Path:
    return world.root / "cache" / ".pyshelf" / "unpacked" / world.spec(key).sha256[:16]


def append_line(path: Path) -> None:
    with path.open("a") as handle:  # an edit in place: the same inode as the unpacked copy
        handle.write("raise SystemExit('broken')\n")


def entry_of(shelf: Shelf, key: str) -> Entry:
    return next(e for e in shelf.entries() if e.key == key)


# -- the corruption scenario, end to end -------------------------------------------------


def test_reinstall_repairs_a_file_edited_in_the_install(world: World) -> None:
    code, _, err = world.cli("install", "3.12.7")
    assert code == 0, err
    target = installed(world, K127, OS_PY)
    pristine = archived(world, K127, OS_PY)
    append_line(target)
    # Hard links: the edit reached the unpacked copy too. That is what must not come back.
    assert (copy_of(world, K127) / "tree" / OS_PY).read_bytes() != pristine

    code, _, err = world.cli("--offline", "reinstall", "3.12.7")
    assert code == 1 and "1 file edited (lib/python3.12/os.py)" in err  # named, not dropped
    code, _, err = world.cli("--offline", "reinstall", "3.12.7", "--yes")
    assert code == 0, err
    assert target.read_bytes() == pristine
    assert (copy_of(world, K127) / "tree" / OS_PY).read_bytes() == pristine

    # Uninstall + install, with the copy kept as a hot copy: it is checked before reuse.
    append_line(target)
    for args in (["uninstall", "3.12.7"], ["--offline", "install", "3.12.7"]):
        code, _, err = world.cli("--keep-unpacked", "1G", *args)
        assert code == 0, err
    assert target.read_bytes() == pristine

    # Fetch + reinstall: the fetch verifies the archive; the copy is still checked.
    append_line(target)
    for args in (["fetch", "3.12.7"], ["reinstall", "3.12.7", "--yes"]):
        code, _, err = world.cli(*args)
        assert code == 0, err
    assert target.read_bytes() == pristine


def test_an_intact_copy_is_reused_not_unpacked_again(world: World) -> None:
    shelf = world.shelf()
    shelf.install(entry_of(shelf, K127))
    tree = copy_of(world, K127) / "tree"
    before = os.lstat(tree / PAYLOAD).st_ino
    shelf.install(entry_of(shelf, K127))  # a reinstall
    assert os.lstat(tree / PAYLOAD).st_ino == before
    assert os.lstat(installed(world, K127, PAYLOAD)).st_ino == before


def test_a_damaged_copy_without_its_archive_says_to_fetch(world: World) -> None:
    assert world.cli("install", "3.12.7")[0] == 0
    shelf = world.shelf()
    entry = entry_of(shelf, K127)
    assert entry.cached is not None
    entry.cached.path.unlink()
    append_line(installed(world, K127, OS_PY))
    code, _, err = world.cli("--offline", "reinstall", "3.12.7", "--yes")
    lines = err.strip().splitlines()
    assert code == 1 and "os.py changed" in lines[-1] and "pyshelf fetch" in lines[-1]
    assert not copy_of(world, K127).exists()  # dropped: never reused as it is
    # Online, the same reinstall downloads the archive again and repairs the install.
    assert world.cli("reinstall", "3.12.7", "--yes")[0] == 0  # no copy: cannot tell
    assert installed(world, K127, OS_PY).read_bytes() == archived(world, K127, OS_PY)


# -- the cheap check ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "damage, found",
    [
        (lambda t: append_line(t / OS_PY), "os.py changed (size"),
        (lambda t: os.chmod(t / OS_PY, 0o600), "os.py changed (mode 600"),
        (lambda t: os.utime(t / OS_PY, (0, 0)), "os.py changed (modification time)"),
        (lambda t: (t / "lib" / "extra.py").write_text(""), "lib/extra.py was added"),
        (lambda t: (t / PAYLOAD).unlink(), "payload.bin is missing"),
        (lambda t: (t / "bin" / "python3").unlink() or (t / "bin" / "python3").symlink_to("x"),
         "bin/python3 changed (link target)"),
        (lambda t: (t / "bin" / "python3").unlink() or (t / "bin" / "python3").write_text(""),
         "bin/python3 changed (file type)"),
    ],
)  # fmt: skip
def test_the_manifest_check_finds_each_kind_of_change(tmp_path: Path, damage, found) -> None:
    spec = make_archive(tmp_path / "a", version="3.12.7")
    store = UnpackedStore(tmp_path / "unpacked")
    tree = store.add(spec.path, spec.sha256)
    assert store.check(spec.sha256) is None
    damage(tree)
    problem = store.check(spec.sha256)
    assert problem is not None and found in problem
    assert store.usable(spec.sha256) == (None, problem)
    assert not tree.parent.exists()  # dropped, so the next add unpacks it again
    assert store.add(spec.path, spec.sha256) == tree and store.check(spec.sha256) is None


@pytest.mark.parametrize(
    "damage, found",
    [
        (lambda t: append_line(t / OS_PY), "os.py changed (size"),
        (lambda t: os.chmod(t / "lib", 0o700), "lib changed (mode 700"),
        (lambda t: (t / "lib" / "extra.py").write_text(""), "lib/extra.py was added"),
        (lambda t: (t / PAYLOAD).unlink(), "payload.bin is missing"),
        (lambda t: (t / "bin" / "python3").unlink() or (t / "bin" / "python3").symlink_to("x"),
         "bin/python3 changed (link target)"),
    ],
)  # fmt: skip
def test_linking_a_copy_checks_it_in_the_same_pass(
    tmp_path: Path, world: World, damage, found
) -> None:
    spec = make_archive(tmp_path / "a", version="3.12.7")
    store = UnpackedStore(tmp_path / "unpacked")
    tree = store.add(spec.path, spec.sha256)
    store.link_into(spec.sha256, tmp_path / "linked")
    assert store.check(spec.sha256) is None  # the links add no difference
    assert os.lstat(tmp_path / "linked" / PAYLOAD).st_ino == os.lstat(tree / PAYLOAD).st_ino
    assert os.readlink(tmp_path / "linked" / "bin" / "python3") == "python3.12"
    assert (tmp_path / "linked" / "lib").stat().st_mode == (tree / "lib").stat().st_mode
    damage(tree)
    with pytest.raises(CopyDiffers, match=re.escape(found)):
        store.link_into(spec.sha256, tmp_path / "again")
    # End to end: a reinstall over a copy damaged so drops it and unpacks the archive again.
    assert world.cli("install", "3.12.7")[0] == 0
    damage(copy_of(world, K127) / "tree")
    code, _, err = world.cli("--offline", "reinstall", "3.12.7", "--yes")
    assert code == 0, err
    assert installed(world, K127, OS_PY).read_bytes() == archived(world, K127, OS_PY)
    assert installed(world, K127, PAYLOAD).read_bytes() == archived(world, K127, PAYLOAD)
    assert not (installed(world, K127, "lib") / "extra.py").exists()
    assert os.readlink(installed(world, K127, "bin/python3")) == "python3.12"
    assert world.shelf().unpacked.check(world.spec(K127).sha256) is None
    assert os.listdir(world.root / "installs" / ".temp") == []


def test_a_copy_without_a_manifest_is_rebuilt(tmp_path: Path) -> None:
    spec = make_archive(tmp_path / "a", version="3.12.7")
    store = UnpackedStore(tmp_path / "unpacked")
    tree = store.add(spec.path, spec.sha256)
    manifest = tree.parent / "manifest"
    manifest.write_bytes(manifest.read_bytes()[:-40])  # truncated: never taken for a tree
    assert store.check(spec.sha256) == UNSEALED
    # An unpacked copy in the old layout (the tree itself, no manifest) is replaced too.
    old = tmp_path / "unpacked" / spec.sha256[:16]
    store.remove(spec.sha256)
    (old / "bin").mkdir(parents=True)
    assert store.add(spec.path, spec.sha256) == tree and store.check(spec.sha256) is None


# -- verify -----------------------------------------------------------------------------------


def test_verify_finds_an_edit_that_kept_size_and_mtime(world: World) -> None:
    assert world.cli("install", "3.12.7")[0] == 0
    assert world.cli("fetch", "3.11.9")[0] == 0
    code, out, err = world.cli("verify")
    assert code == 0 and out == "" and "2 archives and 1 unpacked copy: all match" in err

    target = installed(world, K127, PAYLOAD)
    st = target.stat()
    with target.open("r+b") as handle:  # same size, and the mtime put back
        first = handle.read(1)
        handle.seek(0)
        handle.write(bytes([first[0] ^ 0xFF]))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    store = world.shelf().unpacked
    assert store.check(world.spec(K127).sha256) is None  # the cheap check cannot see it

    code, out, err = world.cli("verify", "3.12")
    assert code == 1 and "1 problem" in err
    lines = out.splitlines()
    bad = copy_of(world, K127) / "tree" / PAYLOAD
    assert lines[0].startswith(f"{bad}: content differs from the archive's")
    assert lines[1].startswith(f"dropped the unpacked copy of {K127}")
    assert f"pyshelf reinstall {K127}" in lines[1] and len(lines) == 2
    assert not copy_of(world, K127).exists()
    assert world.cli("--offline", "reinstall", "3.12.7", "--yes")[0] == 0  # no copy: --yes
    assert target.read_bytes() == archived(world, K127, PAYLOAD)
    assert world.cli("verify")[0] == 0


def test_verify_reports_a_damaged_archive_and_leaves_it_to_fetch(world: World) -> None:
    assert world.cli("fetch", "3.11.9")[0] == 0
    archive = entry_of(world.shelf(), K119).cached
    assert archive is not None
    with archive.path.open("r+b") as handle:
        handle.seek(100)
        handle.write(b"\0" * 8)
    code, out, err = world.cli("verify", "3.11")
    assert code == 1 and "1 problem" in err
    assert out.splitlines()[0].startswith(f"{archive.path}: sha256 ")
    assert f"`pyshelf fetch {K119}`" in out
    assert world.cli("fetch", "3.11.9")[0] == 0 and world.cli("verify")[0] == 0


# -- the cache policy ---------------------------------------------------------------------


def test_uninstall_frees_the_unpacked_copy_and_offline_reinstall_still_works(
    world: World,
) -> None:
    assert world.cli("install", "3.12.7")[0] == 0
    copy = copy_of(world, K127)
    unpacked = tree_size(copy)
    freed_before = freed_size(world.root / "installs" / K127, copy)
    code, _, err = world.cli("uninstall", "3.12.7")
    assert code == 0 and not copy.exists()
    # The unpacked copy was most of what the install cost: the freed figure includes it.
    assert err.strip().splitlines()[-1] == f"freed {human_size(freed_before)}"
    assert freed_before > unpacked > world.spec(K127).size
    assert entry_of(world.shelf(), K127).cached is not None  # the archive stays
    assert world.cli("--offline", "install", "3.12.7")[0] == 0
    assert installed(world, K127, OS_PY).read_bytes() == archived(world, K127, OS_PY)


def test_uninstall_reports_the_bytes_that_really_came_free(world: World) -> None:
    shelf = world.shelf()
    shelf.install(entry_of(shelf, K127))
    install = world.root / "installs" / K127
    expected = freed_size(install, copy_of(world, K127))
    assert shelf.uninstall(entry_of(shelf, K127)) == expected > tree_size(copy_of(world, K127))


def test_the_hot_copy_cap_keeps_the_most_recent_within_it(world: World) -> None:
    shelf = world.shelf()
    keys = [K119, K126, K127]
    for key in keys:
        shelf.install(entry_of(shelf, key))
    sizes = {key: tree_size(copy_of(world, key)) for key in keys}
    # Room for the two largest copies but not for all three: the oldest goes, small as it is.
    shelf.settings.keep_unpacked = sizes[K127] + sizes[K126] + 100
    for key in keys:  # 3.11.9 first: the oldest use
        shelf.uninstall(entry_of(shelf, key))
    assert [copy_of(world, k).exists() for k in keys] == [False, True, True]
    assert tree_size(shelf.unpacked.root) <= shelf.settings.keep_unpacked + 4096
    # A cap of 0 (the default) keeps none once another uninstall trims the store.
    shelf.install(entry_of(shelf, K119))
    shelf.settings.keep_unpacked = 0
    shelf.uninstall(entry_of(shelf, K119))
    assert not any(copy_of(world, k).exists() for k in keys)
    assert entry_of(shelf, K127).cached is not None  # archives always stay


def test_keep_unpacked_setting_reads_sizes(monkeypatch: pytest.MonkeyPatch, world: World) -> None:
    assert Settings().keep_unpacked == 0
    monkeypatch.setenv("PYSHELF_KEEP_UNPACKED", "2G")
    assert Settings().keep_unpacked == 2 << 30
    monkeypatch.setenv("PYSHELF_KEEP_UNPACKED", "lots")
    code, _, err = world.cli("list")
    assert code == 2 and err.count("\n") == 1 and "PYSHELF_KEEP_UNPACKED" in err
    monkeypatch.delenv("PYSHELF_KEEP_UNPACKED")
    code, _, err = world.cli("--keep-unpacked", "1.5x", "list")
    assert code == 2 and "not a size" in err


# -- scratch of killed unpacks ---------------------------------------------------------------

_SLOW_UNPACK = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import tui.engine.archives.extract as extract
    import tui.engine.installs.unpacked as unpacked

    def stuck(archive, dest, **kwargs):
        dest.mkdir()
        (dest / "half").write_bytes(b"x" * 100_000)
        print("unpacking", flush=True)
        time.sleep(120)

    extract.extract_archive = stuck
    unpacked.UnpackedStore(Path(sys.argv[1])).add(Path(sys.argv[2]), sys.argv[3])
    """
)


def test_a_killed_unpack_is_swept_next_run_but_a_live_one_never(tmp_path: Path) -> None:
    spec = make_archive(tmp_path / "a", version="3.12.7")
    other = make_archive(tmp_path / "a", version="3.11.9")
    root = tmp_path / "unpacked"
    store = UnpackedStore(root)
    repo = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [sys.executable, "-c", _SLOW_UNPACK, str(root), str(spec.path), spec.sha256],
        stdout=subprocess.PIPE, text=True, cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )  # fmt: skip
    try:
        assert process.stdout is not None and process.stdout.readline() == "unpacking\n"
        [live] = store.leftovers()
        assert live.name.startswith(".tmp-") and tree_size(live) >= 100_000
        # Another run writes the store while that unpack is under way: it stays.
        store.add(other.path, other.sha256)
        assert store.sweep() == 0 and live.exists()
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert store.leftovers() == [live]  # counted until swept
    store.remove(other.sha256)  # the next run that writes the store sweeps it
    assert store.leftovers() == [] and not live.exists()


def test_an_unpack_in_another_thread_is_not_swept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.engine.archives import extract

    spec = make_archive(tmp_path / "a", version="3.12.7")
    other = make_archive(tmp_path / "a", version="3.11.9")
    store = UnpackedStore(tmp_path / "unpacked")
    started, release = threading.Event(), threading.Event()
    real = extract.extract_archive

    def slow(archive: Path, dest: Path, **kwargs: object) -> None:
        if archive == spec.path:
            started.set()
            assert release.wait(10)
        real(archive, dest, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(extract, "extract_archive", slow)
    result: list[Path] = []
    thread = threading.Thread(target=lambda: result.append(store.add(spec.path, spec.sha256)))
    thread.start()
    try:
        assert started.wait(10)
        store.add(other.path, other.sha256)  # sweeps, but must leave the unpack under way
    finally:
        release.set()
        thread.join(10)
    assert result == [store.get(spec.sha256)] and store.check(spec.sha256) is None

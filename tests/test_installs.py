"""Installs in uv's layout: keys, atomic (re)installs, links, uninstall, the lock, uv interop."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import pytest

from tests.pbs_fixtures import ArchiveSpec, _file, catalog_json, make_archive
from tests.recording import Recording
from tests.uvtool import run_uv, uv_binary
from tui.engine.builds import Build
from tui.engine.du import Tally, freed_size, tree_size
from tui.engine.errors import (
    ArchiveError,
    Cancelled,
    ChecksumError,
    LockTimeout,
    NotAnInterpreter,
    PyshelfError,
)
from tui.engine.installs import installdir as installdir_module
from tui.engine.installs.installdir import InstallDir, scan_installations
from tui.engine.installs.keys import parse_key
from tui.engine.installs.unpacked import UnpackedStore
from tui.engine.names import cache_file_name

KEY_12_7 = "cpython-3.12.7-linux-x86_64-gnu"
MINOR_12 = "cpython-3.12-linux-x86_64-gnu"


def build_of(spec: ArchiveSpec) -> Build:
    return Build(
        spec.implementation, spec.major, spec.minor, spec.patch, spec.prerelease, spec.variant,
        spec.os, spec.arch, spec.libc, spec.build, url=None, sha256=spec.sha256,
    )  # fmt: skip


@pytest.fixture
def idir(tmp_path: Path) -> InstallDir:
    return InstallDir(tmp_path / "python", tmp_path / "bin", lock_timeout=10)


def archive(tmp_path: Path, **kwargs: object) -> ArchiveSpec:
    return make_archive(tmp_path / "archives", **kwargs)  # type: ignore[arg-type]


def run_exe(path: Path) -> str:
    return subprocess.run([path], capture_output=True, text=True, check=True).stdout.strip()


def leftovers(idir: InstallDir) -> list[str]:
    return sorted(os.listdir(idir.temp_dir)) if idir.temp_dir.exists() else []


# -- keys and scanning --------------------------------------------------------------------


def test_parse_key() -> None:
    parts = parse_key("cpython-3.13.1+freethreaded-linux-x86_64_v3-gnu")
    assert parts is not None
    assert (parts.implementation, parts.version, parts.variant) == (
        "cpython",
        "3.13.1",
        "freethreaded",
    )
    assert (parts.os, parts.arch, parts.libc) == ("linux", "x86_64_v3", "gnu")
    assert parts.minor_key == "cpython-3.13+freethreaded-linux-x86_64_v3-gnu"
    assert parts.executable_name == "python3.13t"
    assert parts.key == "cpython-3.13.1+freethreaded-linux-x86_64_v3-gnu"
    pre = parse_key("cpython-3.14.0rc2-macos-aarch64-none")
    assert pre is not None and pre.prerelease == "rc2" and pre.patch == 0
    assert parse_key("cpython-3.12.7+debug-linux-x86_64-gnu").executable_name == "python3.12d"  # type: ignore[union-attr]
    pypy = parse_key("pypy-3.10.14-linux-x86_64-gnu")
    assert pypy is not None and pypy.executable_name == "pypy3.10" and not pypy.has_minor_link
    for junk in (MINOR_12, ".temp", ".lock", "cpython-3.12.7", "notes", "cpython-3.12.x-linux-a-b"):
        assert parse_key(junk) is None


def test_scan_skips_links_dot_entries_and_strangers(tmp_path: Path) -> None:
    root = tmp_path / "python"
    (root / KEY_12_7).mkdir(parents=True)
    (root / KEY_12_7 / "BUILD").write_text("20991231")
    (root / "pypy-3.10.14-linux-x86_64-gnu").mkdir()
    (root / MINOR_12).symlink_to(root / KEY_12_7)
    (root / ".temp" / KEY_12_7).mkdir(parents=True)
    (root / ".cpython-3.11.1-linux-x86_64-gnu").mkdir()
    (root / "my-notes").mkdir()
    (root / "cpython-3.11.1-linux-x86_64-gnu").write_text("a file, not an install")
    found = scan_installations(root)
    assert [i.key for i in found] == [KEY_12_7, "pypy-3.10.14-linux-x86_64-gnu"]
    assert found[0].build == "20991231" and found[1].build == ""
    assert found[0].minor_link_name == MINOR_12
    assert (found[0].parts.implementation, found[0].version, found[0].parts.variant) == (
        "cpython",
        "3.12.7",
        None,
    )
    assert scan_installations(tmp_path / "missing") == []


# -- installing ---------------------------------------------------------------------------


def test_install_makes_uv_layout(tmp_path: Path, idir: InstallDir) -> None:
    spec = archive(tmp_path, version="3.12.7")
    reporter = Recording()
    result = idir.install(spec.path, build_of(spec), reporter=reporter)
    assert reporter.phases == ["extracting", "linking"]
    assert not result.replaced and result.warnings == ()
    root = idir.root
    assert (root / KEY_12_7 / "BUILD").read_text() == "20991231"  # no newline, like uv
    assert (root / ".gitignore").read_text() == "*"
    assert (root / ".lock").exists()
    assert os.readlink(root / MINOR_12) == str(root / KEY_12_7)  # absolute, like uv
    link = idir.bin_dir / "python3.12"  # type: ignore[operator]
    assert result.bin_link == link
    assert os.readlink(link) == str(root / MINOR_12 / "bin" / "python3.12")
    assert run_exe(link) == "fake-cpython-3.12.7"
    assert leftovers(idir) == []
    assert [i.key for i in idir.installations()] == [KEY_12_7]


def test_minor_link_follows_the_newest_patch(tmp_path: Path, idir: InstallDir) -> None:
    new, old = archive(tmp_path, version="3.12.7"), archive(tmp_path, version="3.12.6")
    idir.install(new.path, build_of(new))
    idir.install(old.path, build_of(old))  # older: the link stays on 3.12.7
    assert os.readlink(idir.root / MINOR_12) == str(idir.root / KEY_12_7)
    assert run_exe(idir.bin_dir / "python3.12") == "fake-cpython-3.12.7"  # type: ignore[operator]


def test_variants_and_pypy_links(tmp_path: Path, idir: InstallDir) -> None:
    ft = archive(tmp_path, version="3.13.1", variant="freethreaded")
    pypy = archive(tmp_path, implementation="pypy", version="3.10.14")  # .tar.bz2
    idir.install(ft.path, build_of(ft))
    idir.install(pypy.path, build_of(pypy))
    minor = idir.root / "cpython-3.13+freethreaded-linux-x86_64-gnu"
    assert os.readlink(minor) == str(idir.root / ft.key)
    bin_dir = idir.bin_dir
    assert bin_dir is not None
    assert os.readlink(bin_dir / "python3.13t") == str(minor / "bin" / "python3.13t")
    # uv makes no minor link for PyPy and points the bin link at the patch directory.
    assert not (idir.root / "pypy-3.10-linux-x86_64-gnu").exists()
    assert os.readlink(bin_dir / "pypy3.10") == str(idir.root / pypy.key / "bin" / "pypy3.10")
    assert run_exe(bin_dir / "pypy3.10") == "fake-pypy-3.10.14"


def test_no_bin_link_when_asked_and_foreign_bin_entries_stay(
    tmp_path: Path, idir: InstallDir
) -> None:
    spec = archive(tmp_path, version="3.12.7")
    result = idir.install(spec.path, build_of(spec), link_bin=False)
    assert result.bin_link is None and not (tmp_path / "bin").exists()
    foreign = tmp_path / "pyenv-python3.12"
    foreign.write_text("#!/bin/sh\necho pyenv\n")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python3.12").symlink_to(foreign)
    result = idir.install(spec.path, build_of(spec))
    assert result.bin_link is None
    assert "not managed by uv" in result.warnings[0]
    assert os.readlink(tmp_path / "bin" / "python3.12") == str(foreign)
    idir.uninstall(KEY_12_7)
    assert os.readlink(tmp_path / "bin" / "python3.12") == str(foreign)


def test_reinstall_swaps_atomically(tmp_path: Path, idir: InstallDir) -> None:
    spec = archive(tmp_path, version="3.12.7")
    idir.install(spec.path, build_of(spec))
    marker = idir.root / KEY_12_7 / "marker"
    marker.write_text("old")
    result = idir.install(spec.path, build_of(spec))
    assert result.replaced and not marker.exists()
    assert run_exe(idir.root / KEY_12_7 / "bin" / "python3.12") == "fake-cpython-3.12.7"
    assert leftovers(idir) == []


def test_failed_reinstall_keeps_the_old_install(tmp_path: Path, idir: InstallDir) -> None:
    spec = archive(tmp_path, version="3.12.7", payload_kib=512)
    idir.install(spec.path, build_of(spec))
    marker = idir.root / KEY_12_7 / "marker"
    marker.write_text("old")
    exe = idir.bin_dir / "python3.12"  # type: ignore[operator]

    def midway(done: int, total: int | None) -> None:
        # Mid-extraction of the new copy the old one is still complete and working.
        assert marker.read_text() == "old" and run_exe(exe) == "fake-cpython-3.12.7"
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        idir.install(spec.path, build_of(spec), reporter=Recording(midway))
    assert marker.read_text() == "old" and run_exe(exe) == "fake-cpython-3.12.7"
    assert leftovers(idir) == []

    corrupt = tmp_path / "corrupt" / spec.filename
    corrupt.parent.mkdir()
    corrupt.write_bytes(spec.path.read_bytes()[: spec.size // 2])
    with pytest.raises(ArchiveError):
        idir.install(corrupt, build_of(spec))
    assert marker.read_text() == "old" and run_exe(exe) == "fake-cpython-3.12.7"
    assert leftovers(idir) == []


def test_cancel_mid_extract_leaves_nothing(tmp_path: Path, idir: InstallDir) -> None:
    spec = archive(tmp_path, version="3.12.7")
    reporter = Recording()
    reporter.on_progress = lambda done, total: reporter.cancel()
    with pytest.raises(Cancelled):
        idir.install(spec.path, build_of(spec), reporter=reporter)
    assert idir.installations() == [] and leftovers(idir) == []
    assert not os.path.lexists(idir.root / MINOR_12)
    assert not os.path.lexists(tmp_path / "bin" / "python3.12")


@pytest.mark.parametrize(
    "member",
    [
        ("python/../../escaped", tarfile.REGTYPE, ""),
        ("python/bin/evil", tarfile.SYMTYPE, "../../../escaped"),
        ("python/bin/dev", tarfile.CHRTYPE, ""),
    ],
)
def test_hostile_archive_installs_nothing(
    tmp_path: Path, idir: InstallDir, member: tuple[str, bytes, str]
) -> None:
    name, kind, link = member
    ti = tarfile.TarInfo(name)
    ti.type, ti.linkname = kind, link
    spec = archive(
        tmp_path, version="3.12.7", extra_members=[(ti, b"" if kind == tarfile.REGTYPE else None)]
    )
    with pytest.raises(ArchiveError, match="member"):
        idir.install(spec.path, build_of(spec))
    assert idir.installations() == [] and leftovers(idir) == []
    assert not (tmp_path / "escaped").exists() and not (idir.root / "escaped").exists()


def test_two_installs_of_one_build_at_once(tmp_path: Path, idir: InstallDir) -> None:
    spec = archive(tmp_path, version="3.12.7", payload_kib=1024)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        start.wait()
        try:
            idir.install(spec.path, build_of(spec))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert [i.key for i in idir.installations()] == [KEY_12_7]
    assert run_exe(idir.bin_dir / "python3.12") == "fake-cpython-3.12.7"  # type: ignore[operator]
    assert leftovers(idir) == []


# -- uninstalling -------------------------------------------------------------------------


def test_uninstall_repoints_then_removes_links(tmp_path: Path, idir: InstallDir) -> None:
    new, old = archive(tmp_path, version="3.12.7"), archive(tmp_path, version="3.12.6")
    idir.install(old.path, build_of(old))
    idir.install(new.path, build_of(new))
    exe = idir.bin_dir / "python3.12"  # type: ignore[operator]
    size = tree_size(idir.root / KEY_12_7)
    assert idir.uninstall(KEY_12_7) == size
    assert not (idir.root / KEY_12_7).exists()
    assert os.readlink(idir.root / MINOR_12) == str(idir.root / old.key)
    assert run_exe(exe) == "fake-cpython-3.12.6"  # through the repointed minor link
    idir.uninstall(old.key)
    assert not os.path.lexists(idir.root / MINOR_12) and not os.path.lexists(exe)
    assert idir.installations() == [] and leftovers(idir) == []
    assert (idir.root / ".lock").exists()  # uv shares it: never deleted
    with pytest.raises(PyshelfError, match="not installed"):
        idir.uninstall(KEY_12_7)


def test_uninstall_removes_a_direct_bin_link(tmp_path: Path, idir: InstallDir) -> None:
    pypy = archive(tmp_path, implementation="pypy", version="3.10.14")
    idir.install(pypy.path, build_of(pypy))
    idir.uninstall(pypy.key)
    assert os.listdir(tmp_path / "bin") == []


# -- the lock -----------------------------------------------------------------------------

HOLDER = (
    "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o666); "
    "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.read()"
)


def test_lock_waits_for_another_holder(tmp_path: Path, idir: InstallDir) -> None:
    idir.root.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(idir.lock_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(LockTimeout) as excinfo, idir.lock(timeout=0.3):
            pass
        message = str(excinfo.value)
        assert str(idir.lock_path) in message
        if Path("/proc/locks").exists():
            assert f"pid {holder.pid}" in message
        reporter = Recording()
        threading.Timer(0.1, reporter.cancel).start()
        with pytest.raises(Cancelled), idir.lock(timeout=30, reporter=reporter):
            pass
        spec = archive(tmp_path, version="3.12.7")
        with pytest.raises(LockTimeout):
            InstallDir(idir.root, lock_timeout=0.2).install(spec.path, build_of(spec))
        assert idir.installations() == []
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(10)
    with idir.lock(timeout=5), idir.lock():  # free again, and re-entrant
        pass
    assert idir.lock_path.exists()


def test_lock_excludes_other_threads(idir: InstallDir) -> None:
    inside = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with idir.lock():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert inside.wait(10)
        with pytest.raises(LockTimeout), idir.lock(timeout=0.2):
            pass
    finally:
        release.set()
        thread.join(10)


# -- unpacked trees -----------------------------------------------------------------------


def test_install_from_tree_hard_links_the_store(tmp_path: Path, idir: InstallDir) -> None:
    spec = archive(tmp_path, version="3.12.7")
    store = UnpackedStore(tmp_path / "unpacked")
    tree = store.add(spec.path, spec.sha256)
    assert tree == tmp_path / "unpacked" / spec.sha256[:16] / "tree"
    assert store.add(spec.path, spec.sha256) == tree and store.get(spec.sha256) == tree
    assert sorted(os.listdir(tmp_path / "unpacked")) == [".lock", spec.sha256[:16]]
    assert sorted(os.listdir(tree.parent)) == ["manifest", "tree"]
    reporter = Recording()
    idir.install_from_tree(tree, build_of(spec), reporter=reporter)
    result = idir.install_from_tree(tree, build_of(spec))  # a reinstall
    assert result.replaced and reporter.phases == ["linking"]  # linking is all it does
    installed = idir.root / KEY_12_7
    payload = Path("lib/python3.12/payload.bin")
    assert (installed / payload).stat().st_ino == (tree / payload).stat().st_ino
    assert (installed / "BUILD").read_text() == "20991231" and not (tree / "BUILD").exists()
    assert run_exe(idir.bin_dir / "python3.12") == "fake-cpython-3.12.7"  # type: ignore[operator]
    # Shared inodes count once when measured together.
    tally = Tally()
    assert tally.size(tree) == tree_size(tree) and tally.size(installed) < tree_size(installed)
    assert leftovers(idir) == []
    # Removing the store frees only what no install shares; then the install frees the rest.
    assert 0 < store.remove(spec.sha256) < tree_size(installed)
    assert store.get(spec.sha256) is None and (installed / payload).is_file()
    assert idir.uninstall(KEY_12_7) > spec.size


def test_install_from_tree_copies_across_filesystems(
    tmp_path: Path, idir: InstallDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = archive(tmp_path, version="3.12.7")
    tree = UnpackedStore(tmp_path / "unpacked").add(spec.path, spec.sha256)

    def no_links(*args: object, **kwargs: object) -> None:
        raise OSError(18, "Invalid cross-device link")  # EXDEV

    monkeypatch.setattr(os, "link", no_links)
    idir.install_from_tree(tree, build_of(spec))
    exe = idir.root / KEY_12_7 / "bin" / "python3.12"
    assert exe.stat().st_ino != (tree / "bin" / "python3.12").stat().st_ino
    assert os.access(exe, os.X_OK) and run_exe(exe) == "fake-cpython-3.12.7"
    assert (idir.root / KEY_12_7 / "bin" / "python3").is_symlink()


def test_store_add_failure_leaves_nothing(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"nope")
    store = UnpackedStore(tmp_path / "unpacked")
    with pytest.raises(ArchiveError, match="not a gzip"):
        store.add(junk, hashlib.sha256(b"nope").hexdigest())
    assert os.listdir(tmp_path / "unpacked") == [".lock"]
    # Bytes that are not the archive the digest names: the hash of the same pass says so.
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        store.add(junk, "ab" * 32)
    assert os.listdir(tmp_path / "unpacked") == [".lock"]


# -- disk usage ---------------------------------------------------------------------------


def test_tree_size_matches_du(tmp_path: Path) -> None:
    root = tmp_path / "t"
    (root / "d" / "e").mkdir(parents=True)
    (root / "d" / "f").write_bytes(b"x" * 1000)
    (root / "d" / "e" / "g").write_bytes(b"y" * 123)
    os.link(root / "d" / "f", root / "hard")
    (root / "link").symlink_to("d/e/g")
    (root / "dangling").symlink_to("/nonexistent/target")
    got = tree_size(root)
    assert got == 1000 + 123 + sum(
        os.lstat(p).st_size
        for p in (root, root / "d", root / "d" / "e", root / "link", root / "dangling")
    )
    if shutil.which("du"):
        du = subprocess.run(["du", "-sb", root], capture_output=True, text=True, check=True)
        assert got == int(du.stdout.split()[0])
    assert tree_size(root / "d" / "f") == 1000 and tree_size(tmp_path / "missing") == 0
    # "hard" shares d/f's inode inside the tree: deleting the tree frees it...
    assert freed_size(root) == got
    # ...but deleting d alone does not, while "hard" keeps the inode alive.
    assert freed_size(root / "d") == tree_size(root / "d") - 1000


# -- uv interop (the real interpreter, packaged the pbs way) --------------------------------


def uv_env(tmp_path: Path, idir: InstallDir, catalog: Path) -> dict[str, str]:
    return {
        "UV_PYTHON_INSTALL_DIR": str(idir.root),
        "UV_PYTHON_BIN_DIR": str(idir.bin_dir),
        "UV_PYTHON_DOWNLOADS_JSON_URL": str(catalog),
        "UV_PYTHON_CACHE_DIR": str(tmp_path / "uv-cache"),
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
    }


def uv_installed(env: dict[str, str]) -> dict[str, str]:
    out = run_uv(
        "python", "list", "--only-installed", "--managed-python", "--output-format", "json",
        env={**env, "UV_PYTHON_DOWNLOADS": "never"},
    ).stdout  # fmt: skip
    return {item["key"]: item["path"] for item in json.loads(out)}


def test_uv_sees_our_installs_and_we_see_uvs(
    tmp_path: Path, idir: InstallDir, real_pbs_archive: ArchiveSpec
) -> None:
    real = real_pbs_archive
    # uv installs this one itself from its cache: uv insists on a sysconfigdata with a header.
    sysconfig = (
        b"# system configuration generated and used by the sysconfig module\nbuild_time_vars = {}\n"
    )
    ti = tarfile.TarInfo("python/lib/python3.12/_sysconfigdata__linux_x86_64-linux-gnu.py")
    ti.size = len(sysconfig)
    fake = archive(tmp_path, version="3.12.7", extra_members=[(ti, sysconfig)])
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(catalog_json([real, fake], "https://example.invalid/pbs")))
    env = uv_env(tmp_path, idir, catalog)

    result = idir.install(real.path, build_of(real))
    listed = uv_installed(env)
    assert list(listed) == [real.key]
    # uv may print the path relative to the working directory
    assert Path(os.path.abspath(listed[real.key])).is_relative_to(idir.root)
    mm = f"{real.major}.{real.minor}"
    # run_uv sets UV_PYTHON_PREFERENCE=only-managed, which is what --managed-python means.
    found = run_uv("python", "find", "--managed-python", mm, env=env).stdout.strip()
    assert Path(found).is_relative_to(idir.root)
    prefix = subprocess.run(
        [found, "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert Path(prefix).resolve() == (idir.root / real.key).resolve()
    assert result.bin_link is not None and run_exe_version(result.bin_link) == real.version

    cache = tmp_path / "uv-cache"
    cache.mkdir(exist_ok=True)
    shutil.copyfile(fake.path, cache / cache_file_name(fake.sha256, fake.filename))
    with idir.lock():  # uv takes the same lock, so it waits for us: it says so with -v
        uv = subprocess.Popen(
            [uv_binary(), "-v", "python", "install", "--offline", "3.12.7"],
            env={**os.environ, "UV_NO_CONFIG": "1", **env},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        guard = threading.Timer(120, uv.kill)  # a hang guard: a killed uv ends the read
        guard.start()
        assert uv.stdout is not None
        said = ""
        while "Waiting to acquire" not in said and (line := uv.stdout.readline()):
            said += line
        guard.cancel()
        assert "Waiting to acquire" in said, said  # uv ended without waiting (or hung)
        assert not (idir.root / KEY_12_7).exists()
    output = said + uv.communicate(timeout=60)[0]
    assert uv.returncode == 0, output
    ours = {i.key: i for i in scan_installations(idir.root)}
    assert set(ours) == {real.key, KEY_12_7}
    assert ours[KEY_12_7].build == "20991231"

    idir.uninstall(real.key)
    assert uv_installed(env) == {}  # (uv cannot run the fake 3.12.7, so never lists it)
    assert os.listdir(idir.bin_dir) == ["python3.12"]  # type: ignore[arg-type]
    idir.uninstall(KEY_12_7)  # one uv made: its links go too
    assert os.listdir(idir.bin_dir) == []  # type: ignore[arg-type]
    assert [p for p in os.listdir(idir.root) if not p.startswith(".")] == []


def run_exe_version(path: Path) -> str:
    code = "import platform; print(platform.python_version())"
    return subprocess.run(
        [path, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_install_applies_uvs_fixups_without_touching_the_shared_tree(tmp_path: Path) -> None:
    pc = b"# See: man pkg-config\nprefix=/install\nexec_prefix=${prefix}\n"
    spec = make_archive(
        tmp_path / "a", version="3.12.7",
        extra_members=[_file("python/lib/pkgconfig/python-3.12.pc", pc)],
    )  # fmt: skip
    store = UnpackedStore(tmp_path / "store")
    tree = store.add(spec.path, spec.sha256)
    installs = InstallDir(tmp_path / "installs", tmp_path / "bin")
    build = build_of(spec)
    installs.install_from_tree(tree, build)
    final = tmp_path / "installs" / spec.key
    lib = final / "lib" / "python3.12"
    data = (lib / "_sysconfigdata__linux_x86_64-linux-gnu.py").read_text()
    assert f'"prefix": "{final}"' in data and '"LIBDIR": "' + str(final / "lib") in data
    assert '"PYTHON_BUILD_STANDALONE": 1' in data
    assert (
        (final / "lib" / "pkgconfig" / "python-3.12.pc")
        .read_bytes()
        .startswith(b"# See: man pkg-config\nprefix=${pcfiledir}/../..\n")
    )
    assert "externally-managed" in (lib / "EXTERNALLY-MANAGED").read_text()
    sysconfigdata = lib / "_sysconfigdata__linux_x86_64-linux-gnu.py"
    assert sysconfigdata.stat().st_mode & 0o777 == 0o644
    # The unpacked copy keeps the pristine files: the install replaced, never edited, them.
    pristine = tree / "lib" / "python3.12" / "_sysconfigdata__linux_x86_64-linux-gnu.py"
    assert "/install" in pristine.read_text()
    assert b"prefix=/install" in (tree / "lib" / "pkgconfig" / "python-3.12.pc").read_bytes()


def test_reinstall_swaps_in_one_atomic_step(
    tmp_path: Path, idir: InstallDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With renameat2 the install path never stops existing; without it the fallback works."""
    from tui.engine.installs import installdir as installs_module

    spec = archive(tmp_path)
    target = idir
    target.install(spec.path, build_of(spec))
    calls: list[tuple[Path, Path]] = []
    real = installs_module.exchange_paths

    def spy(a: Path, b: Path) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(installs_module, "exchange_paths", spy)
    assert target.install(spec.path, build_of(spec)).replaced
    assert calls and calls[0][1] == target.root / spec.key
    monkeypatch.setattr(installs_module, "exchange_paths", lambda a, b: False)
    assert target.install(spec.path, build_of(spec)).replaced
    assert (target.root / spec.key / "bin").is_dir()
    assert leftovers(target) == []


# -- an install holds a runnable interpreter of its version ---------------------------------


def assert_untouched_since(idir: InstallDir, before: dict[str, str]) -> None:
    """The installs and every link are as they were, and no scratch is left."""
    assert links_of(idir) == before
    assert leftovers(idir) == []


def links_of(idir: InstallDir) -> dict[str, str]:
    out = {p.name: "dir" for p in idir.root.iterdir() if p.is_dir() and not p.is_symlink()}
    for folder in (idir.root, idir.bin_dir):
        for p in folder.iterdir():  # type: ignore[union-attr]
            if p.is_symlink():
                out[p.name] = os.readlink(p)
    return out


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"interpreter": ""}, "it has no bin/python3.12"),
        ({"interpreter_mode": 0o644}, "bin/python3.12 is not executable"),
        ({"interpreter": "#!/bin/sh\necho 3.12.6\n"}, "bin/python3.12 is not Python 3.12.7"),
        ({"interpreter": "#!/bin/sh\nexit 3\n"}, "bin/python3.12 does not run: exit 3"),
        ({"interpreter": "#!/nonexistent/sh\n"}, "bin/python3.12 does not run:"),
        # Still starting while the fix-ups run: its answer decides before anything moves.
        (
            {"interpreter": "#!/bin/sh\nsleep 0.5\necho 3.12.6\n"},
            "bin/python3.12 is not Python 3.12.7",
        ),
    ],
)
def test_an_archive_without_a_runnable_interpreter_is_refused(
    tmp_path: Path, idir: InstallDir, kwargs: dict[str, object], problem: str
) -> None:
    older = archive(tmp_path, version="3.12.6")
    idir.install(older.path, build_of(older))
    before = links_of(idir)
    spec = make_archive(tmp_path / "broken", version="3.12.7", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(NotAnInterpreter) as excinfo:
        idir.install(spec.path, build_of(spec))
    message = str(excinfo.value)
    assert message.startswith(f"cannot install {KEY_12_7} from {spec.filename}: {problem}")
    assert "\n" not in message
    assert_untouched_since(idir, before)  # no link moved to the refused 3.12.7
    assert run_exe(idir.bin_dir / "python3.12") == "fake-cpython-3.12.6"  # type: ignore[operator]
    assert leftovers(idir) == []


def test_fixups_that_fail_beside_a_broken_interpreter_report_the_interpreter(
    tmp_path: Path, idir: InstallDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(tree: Path, final: Path, implementation: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(installdir_module, "patch_installation", failing)
    broken = make_archive(tmp_path / "broken", version="3.12.7", interpreter="#!/bin/sh\nexit 3\n")
    with pytest.raises(NotAnInterpreter, match="does not run: exit 3"):
        idir.install(broken.path, build_of(broken))
    good = archive(tmp_path, version="3.12.7")
    with pytest.raises(OSError, match="No space left"):
        idir.install(good.path, build_of(good))
    assert idir.installations() == [] and leftovers(idir) == []


def test_a_reinstall_that_is_refused_keeps_the_old_install(
    tmp_path: Path, idir: InstallDir
) -> None:
    good = archive(tmp_path, version="3.12.7")
    idir.install(good.path, build_of(good))
    before = links_of(idir)
    broken = make_archive(tmp_path / "broken", version="3.12.7", interpreter="")
    with pytest.raises(NotAnInterpreter, match=r"it has no bin/python3\.12"):
        idir.install(broken.path, build_of(broken))
    assert_untouched_since(idir, before)
    assert run_exe(idir.bin_dir / "python3.12") == "fake-cpython-3.12.7"  # type: ignore[operator]


def test_the_variant_must_match_too(tmp_path: Path, idir: InstallDir) -> None:
    # A free-threaded key whose interpreter has the GIL (no "t" in sys.abiflags).
    spec = make_archive(
        tmp_path / "a", version="3.13.1", variant="freethreaded",
        interpreter='#!/bin/sh\necho "3.13.1 "\n',
    )  # fmt: skip
    with pytest.raises(NotAnInterpreter, match=r"bin/python3\.13t is not Python 3\.13\.1t"):
        idir.install(spec.path, build_of(spec))
    assert idir.installations() == [] and leftovers(idir) == []


def test_an_interpreter_link_must_stay_inside_the_install(tmp_path: Path, idir: InstallDir) -> None:
    spec = archive(tmp_path, version="3.12.7")
    tree = tmp_path / "tree"
    shutil.copytree(UnpackedStore(tmp_path / "u").add(spec.path, spec.sha256), tree, symlinks=True)
    exe = tree / "bin" / "python3.12"
    for target, problem in [
        ("/bin/sh", r"bin/python3\.12 links outside the install"),
        ("python-missing", r"bin/python3\.12 is a broken link"),
        ("../lib/python3.12/os.py", r"bin/python3\.12 is not executable"),  # inside, no program
    ]:
        exe.unlink()
        exe.symlink_to(target)
        with pytest.raises(NotAnInterpreter, match=problem):
            idir.install_from_tree(tree, build_of(spec))
    assert idir.installations() == [] and leftovers(idir) == []


def test_run_check_false_checks_the_structure_only(
    tmp_path: Path, idir: InstallDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tree an earlier install already ran is not started again: reinstalls stay fast."""
    import subprocess

    spec = archive(tmp_path, version="3.12.7")
    tree = UnpackedStore(tmp_path / "u").add(spec.path, spec.sha256)
    runs: list[object] = []
    real_popen = subprocess.Popen

    def counting_popen(*args: object, **kwargs: object) -> object:
        runs.append(args)
        return real_popen(*args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(subprocess, "Popen", counting_popen)
    idir.install_from_tree(tree, build_of(spec))
    assert len(runs) == 1
    idir.install_from_tree(tree, build_of(spec), run_check=False)
    assert len(runs) == 1
    (tree / "bin" / "python3.12").unlink()
    with pytest.raises(NotAnInterpreter, match=r"it has no bin/python3\.12"):
        idir.install_from_tree(tree, build_of(spec), run_check=False)


def test_a_real_interpreter_passes_the_check(
    tmp_path: Path, idir: InstallDir, real_pbs_archive: ArchiveSpec
) -> None:
    result = idir.install(real_pbs_archive.path, build_of(real_pbs_archive))
    assert result.installation.executable.is_file()
    assert not list(result.installation.path.rglob("__pycache__"))  # -B: the probe wrote none

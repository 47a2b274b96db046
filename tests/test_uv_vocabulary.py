"""uv's whole catalog vocabulary, judged by uv: the words of its download-metadata.json are
read, and every build gets the key uv gives it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import World
from tests.uv_catalogs import entry, uv_env, uv_listed, write_catalog
from tests.uvtool import run_uv
from tui.engine.archives.catalog import load_catalog
from tui.engine.builds import Build
from tui.engine.host import Host, float_abi, hard_float, host_libc, machine_arch

# Every word of uv's catalog (crates/uv-python/download-metadata.json in uv's repository): the
# implementations, the platforms it has builds for (os, arch family and level, libc, as its
# entries write them), and the build variants.
NAMES = ("cpython", "pypy", "graalpy")
PLATFORMS = (
    ("linux", "x86_64", None, "gnu"), ("linux", "x86_64", "v2", "gnu"),
    ("linux", "x86_64", "v3", "gnu"), ("linux", "x86_64", "v4", "gnu"),
    ("linux", "x86_64", None, "musl"), ("linux", "x86_64", "v2", "musl"),
    ("linux", "x86_64", "v3", "musl"), ("linux", "x86_64", "v4", "musl"),
    ("linux", "aarch64", None, "gnu"), ("linux", "aarch64", None, "musl"),
    ("linux", "i686", None, "gnu"), ("linux", "armv7", None, "gnueabi"),
    ("linux", "armv7", None, "gnueabihf"), ("linux", "powerpc64le", None, "gnu"),
    ("linux", "riscv64", None, "gnu"), ("linux", "s390x", None, "gnu"),
    ("darwin", "x86_64", None, "none"), ("darwin", "aarch64", None, "none"),
    ("windows", "x86_64", None, "none"), ("windows", "i686", None, "none"),
    ("windows", "aarch64", None, "none"), ("emscripten", "wasm32", None, "musl"),
)  # fmt: skip
VARIANTS = (None, "freethreaded", "debug", "freethreaded+debug")


def _entries() -> list[tuple[str, dict]]:
    return [
        entry(name, "3.13.2", os, family, libc, level=level, variant=variant)
        for name in NAMES
        for os, family, level, libc in PLATFORMS
        for variant in VARIANTS
        if name == "cpython" or os != "emscripten"  # uv calls every Emscripten build Pyodide
    ]


@pytest.fixture
def uv_words(tmp_path: Path) -> Path:
    return write_catalog(tmp_path / "uv-words.json", _entries())


def _builds(catalog: Path, root: Path) -> list[Build]:
    loaded = load_catalog(str(catalog), store=root / "store")
    assert loaded.warnings == []  # every word is one pyshelf knows
    assert len(loaded.builds) == len(_entries())
    return loaded.builds


def test_every_build_is_keyed_as_uv_keys_it(uv_words: Path, tmp_path: Path) -> None:
    builds = _builds(uv_words, tmp_path)
    flags = ("--all-platforms", "--all-arches", "--all-versions")
    uv_keys = uv_listed(uv_words, tmp_path, *flags)
    ours = {b.key for b in builds if "debug" not in (b.variant or "")}  # uv lists no debug build
    assert ours == uv_keys
    assert len(uv_keys) == len(_entries()) // 2  # one key per build: none merged
    for word in ("x86", "riscv64gc", "powerpc64le", "macos", "pyodide-3.13.2"):
        assert any(word in key for key in ours), word


def test_debug_builds_are_keyed_as_uv_keys_them(uv_words: Path, tmp_path: Path) -> None:
    # uv lists no debug build, but names the one a request resolves to when it cannot install
    # it: offline, with an empty archive cache, each request fails naming uv's key.
    debug = [
        b for b in _builds(uv_words, tmp_path)
        if "debug" in (b.variant or "") and b.os != "emscripten"
    ]  # fmt: skip
    result = run_uv(
        "python", "install", "--offline", "--python-downloads-json-url", str(uv_words),
        *(b.key for b in debug), env=uv_env(tmp_path), check=False,
    )  # fmt: skip
    named = set(re.findall(r"Failed to install (\S+)", result.stderr))
    assert named == {b.key for b in debug}, result.stderr[-2000:]


def test_uv_catalog_words_print_no_warning(world: World, uv_words: Path) -> None:
    code, out, err = world.cli("--catalog", str(uv_words), "list", "--all-platforms", "--all")
    assert code == 0 and err == ""
    assert "cpython-3.13.2-linux-riscv64gc-gnu" in out and "pypy-3.13.2-windows-x86-none" in out


def test_a_catalog_newer_than_pyshelf_is_one_summary_line(world: World, tmp_path: Path) -> None:
    known = _entries()[:3]
    newer = [
        entry("cpython", "3.13.2", "freebsd", "x86_64", "none"),
        entry("cpython", "3.13.2", "linux", "loongarch32", "gnu"),
        entry("cpython", "3.13.2", "linux", "x86_64", "gnu", level="v5"),
        entry("cpython", "3.13.2", "linux", "x86_64", "gnux32"),
        entry("cpython", "3.13.2", "linux", "x86_64", "gnu", variant="jit"),
        entry("jython", "3.13.2", "linux", "x86_64", "gnu"),
    ] * 50  # fmt: skip
    newer = [(f"{key}-{i}", fields) for i, (key, fields) in enumerate(newer)]
    catalog = write_catalog(tmp_path / "newer.json", known + newer)
    for args in (["list", "--all-platforms"], ["list"], ["du"]):
        code, _, err = world.cli("--catalog", str(catalog), *args)
        assert code == 0
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert "300 build(s)" in lines[0] and "not listed" in lines[0]


@pytest.mark.parametrize(
    ("machine", "bits", "arch"),
    [("x86_64", 64, "x86_64"), ("AMD64", 64, "x86_64"), ("x86_64", 32, "x86"),
     ("i686", 32, "x86"), ("i386", 32, "x86"), ("aarch64", 64, "aarch64"),
     ("arm64", 64, "aarch64"), ("aarch64", 32, "armv7"), ("armv7l", 32, "armv7"),
     ("ppc64le", 64, "powerpc64le"), ("riscv64", 64, "riscv64gc"), ("s390x", 64, "s390x"),
     ("loongarch64", 64, "loongarch64")],
)  # fmt: skip
def test_this_machine_is_named_as_uv_names_it(machine: str, bits: int, arch: str) -> None:
    assert machine_arch(machine, bits) == arch


def test_an_i686_machine_runs_the_i686_builds(uv_words: Path, tmp_path: Path) -> None:
    builds = _builds(uv_words, tmp_path)
    here = {b.key for b in builds if b.runs_on(Host("linux", "x86", "gnu"))}
    assert "cpython-3.13.2-linux-x86-gnu" in here and len(here) == len(NAMES) * len(VARIANTS)
    windows = {b.platform for b in builds if b.runs_on(Host("windows", "x86_64", "none"))}
    assert windows == {"windows-x86_64-none", "windows-x86-none"}  # as uv: x86 runs on x86_64
    arm = {b.platform for b in builds if b.runs_on(Host("linux", "armv7", "gnueabihf"))}
    assert arm == {"linux-armv7-gnueabihf"}


def test_armv7_libc_names_its_float_abi(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nFeatures\t: half thumb fastmult vfp edsp neon\n")
    assert float_abi("gnu", "armv7", hard_float(str(cpuinfo))) == "gnueabihf"
    cpuinfo.write_text("processor\t: 0\nFeatures\t: half thumb fastmult edsp\n")
    assert float_abi("musl", "armv7", hard_float(str(cpuinfo))) == "musleabi"
    cpuinfo.write_text("Features\t: fp asimd evtstrm\n")  # an AArch64 kernel, 32-bit userspace
    assert float_abi("gnu", "armv7", hard_float(str(cpuinfo))) == "gnueabihf"
    assert float_abi("gnu", "armv7", hard_float(str(tmp_path / "none"))) == "gnu"  # as uv
    assert float_abi("gnu", "x86_64", True) == "gnu"


def test_uv_libc_names_the_libc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UV_LIBC", "musl")
    assert host_libc("x86_64", "linux") == "musl"
    assert host_libc("x86_64", "darwin") == "none"  # uv reads it on Linux only
    monkeypatch.setenv("UV_LIBC", "")
    assert host_libc("x86_64", "linux") in ("gnu", "musl")

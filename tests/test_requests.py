"""Requests in uv's grammar: the examples of uv's documentation, and every catalog key."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import World
from tests.uv_catalogs import entry, uv_listed, write_catalog
from tui.engine.archives.catalog import Catalog, load_catalog
from tui.engine.builds import Build, InstallKey
from tui.engine.errors import RequestError
from tui.engine.host import current_host
from tui.engine.installs.keys import parse_key
from tui.engine.requests.resolve import no_match_message, parse_request, resolve


def _build(key: str) -> Build:
    """A build from its key, the way a catalog would list it."""
    parts = parse_key(key)
    assert parts is not None, key
    fields = {name: getattr(parts, name) for name in InstallKey._fields}
    return Build(**fields, build="20991231", url=f"https://h.invalid/{key}.tar.gz", sha256="a" * 64)


POOL = [
    _build(k)
    for k in [
        "cpython-3.14.0rc1-linux-x86_64-gnu", "cpython-3.13.2-linux-x86_64-gnu",
        "cpython-3.13.2+freethreaded-linux-x86_64-gnu", "cpython-3.13.2+debug-linux-x86_64-gnu",
        "cpython-3.13.2+freethreaded+debug-linux-x86_64-gnu", "cpython-3.12.9-linux-x86_64-gnu",
        "cpython-3.12.7-linux-x86_64-gnu", "cpython-3.11.11-linux-x86_64-gnu",
        "cpython-3.12.9-macos-aarch64-none", "cpython-3.12.9-linux-x86_64-musl",
        "pypy-3.11.13-linux-x86_64-gnu", "pypy-3.10.16-linux-x86_64-gnu",
        "graalpy-3.11.0-linux-x86_64-gnu",
    ]
]  # fmt: skip

# uv's documented request forms, and what each picks from POOL (newest stable match first).
TABLE = [
    ("3", "cpython-3.13.2-linux-x86_64-gnu"),  # <version>
    ("3.12", "cpython-3.12.9-linux-x86_64-gnu"),
    ("3.12.7", "cpython-3.12.7-linux-x86_64-gnu"),
    (">=3.12,<3.13", "cpython-3.12.9-linux-x86_64-gnu"),  # <version-specifier>
    ("==3.12.*", "cpython-3.12.9-linux-x86_64-gnu"),
    ("<3.12", "cpython-3.11.11-linux-x86_64-gnu"),
    ("3.13t", "cpython-3.13.2+freethreaded-linux-x86_64-gnu"),  # <version><short-variant>
    ("3.13d", "cpython-3.13.2+debug-linux-x86_64-gnu"),
    ("3.13td", "cpython-3.13.2+freethreaded+debug-linux-x86_64-gnu"),
    ("3.13+freethreaded", "cpython-3.13.2+freethreaded-linux-x86_64-gnu"),  # <version>+<variant>
    ("3.13+debug", "cpython-3.13.2+debug-linux-x86_64-gnu"),
    ("3.13+gil", "cpython-3.13.2-linux-x86_64-gnu"),
    ("cpython", "cpython-3.13.2-linux-x86_64-gnu"),  # <implementation>
    ("cp", "cpython-3.13.2-linux-x86_64-gnu"),
    ("pypy", "pypy-3.11.13-linux-x86_64-gnu"),
    ("graalpy", "graalpy-3.11.0-linux-x86_64-gnu"),
    ("cpython@3.12", "cpython-3.12.9-linux-x86_64-gnu"),  # <implementation>@<version>
    ("pypy@3.10", "pypy-3.10.16-linux-x86_64-gnu"),
    ("cpython3.12", "cpython-3.12.9-linux-x86_64-gnu"),  # <implementation><version>
    ("cp312", "cpython-3.12.9-linux-x86_64-gnu"),
    ("pypy3.10", "pypy-3.10.16-linux-x86_64-gnu"),
    ("pp310", "pypy-3.10.16-linux-x86_64-gnu"),
    ("cpython>=3.12,<3.13", "cpython-3.12.9-linux-x86_64-gnu"),
    ("cpython-3.12.7-linux-x86_64-gnu", "cpython-3.12.7-linux-x86_64-gnu"),  # a key
    ("cpython-3.12.9-macos-aarch64-none", "cpython-3.12.9-macos-aarch64-none"),
    ("cpython-3.12-linux-x86_64-musl", "cpython-3.12.9-linux-x86_64-musl"),  # part of a key
    ("cpython-3.12-darwin", "cpython-3.12.9-macos-aarch64-none"),
    ("pypy-3.10", "pypy-3.10.16-linux-x86_64-gnu"),
    ("any-3.11-linux-any-gnu", "cpython-3.11.11-linux-x86_64-gnu"),  # CPython first, as uv
    ("any", "cpython-3.13.2-linux-x86_64-gnu"),
    ("default", "cpython-3.13.2-linux-x86_64-gnu"),
    ("3.14", "cpython-3.14.0rc1-linux-x86_64-gnu"),  # only a pre-release: it is taken
    ("3.14.0rc1", "cpython-3.14.0rc1-linux-x86_64-gnu"),
    ("3.14rc1", "cpython-3.14.0rc1-linux-x86_64-gnu"),
    ("  CPython@3.12  ", "cpython-3.12.9-linux-x86_64-gnu"),
]


@pytest.mark.parametrize(("text", "key"), TABLE, ids=[t for t, _ in TABLE])
def test_uv_request_forms_pick_the_build_uv_would(text: str, key: str) -> None:
    assert resolve(text, POOL).key == key


@pytest.mark.parametrize(
    "text",
    ["banana", "3.13x", "3.13+nogil", "cpython-3.12-linux-x86_64-gnu-extra-parts",
     "3.13+gil+freethreaded", ">=3.12,<<3.13", "3..12", "jython@3.12", "3.12.7.1", "rc1"],
)  # fmt: skip
def test_unreadable_requests_are_one_line_errors(text: str) -> None:
    with pytest.raises(RequestError) as info:
        parse_request(text)
    assert "\n" not in str(info.value)


def test_suggestions_are_the_nearest_of_the_same_kind() -> None:
    assert no_match_message("3.12.99", POOL).endswith("nearest available: 3.12.9, 3.12.7")
    assert no_match_message("pypy@3.13", POOL).endswith("pypy@3.11, pypy@3.10")
    assert no_match_message("3.99t", POOL).endswith("nearest available: 3.13+freethreaded")
    assert no_match_message("3.10d", POOL).endswith("3.13+debug")
    message = no_match_message("cpython-3.12-windows", POOL)  # nothing for that platform
    assert message.endswith("try --all-platforms or --catalog")


def test_a_request_that_matches_nothing_is_exit_1(world: World) -> None:
    code, _, err = world.cli("list", "3.99")
    assert code == 1 and "no build matches '3.99'" in err and "nearest available: 3.13" in err
    code, out, _ = world.cli("list", ">=3.12,<3.13")
    assert code == 0 and "cpython-3.12.7" in out and "3.13" not in out


def _round_trips(catalog: Catalog) -> None:
    for build in catalog.builds:
        request = parse_request(build.key)
        assert request.matches(build), build.key
        same_key = [b for b in catalog.builds if request.matches(b)]
        assert {b.key for b in same_key} == {build.key}, build.key


def test_every_key_of_the_builtin_index_parses_back_to_itself() -> None:
    catalog = load_catalog(None, store=Path("/nonexistent"))
    keys = [b.key for b in catalog.builds]
    assert len(keys) == len(set(keys))  # macOS free-threaded builds have keys of their own
    _round_trips(catalog)


def test_every_key_of_a_uv_catalog_parses_back_to_itself(world: World) -> None:
    _round_trips(load_catalog(str(world.catalog_path), store=world.root))


versions = st.tuples(st.integers(0, 99), st.integers(0, 99), st.integers(0, 99))


@settings(max_examples=200, deadline=None)
@given(
    version=versions,
    pre=st.sampled_from(["", "a1", "b2", "rc3"]),
    impl=st.sampled_from(["cpython", "pypy", "graalpy"]),
    variant=st.sampled_from([None, "freethreaded", "debug", "freethreaded+debug"]),
    platform=st.sampled_from(
        [("linux", "x86_64", "gnu"), ("macos", "aarch64", "none"), ("linux", "x86_64_v3", "musl")]
    ),
)
def test_any_key_parses_back_to_its_build(
    version: tuple[int, int, int], pre: str, impl: str, variant: str | None, platform: tuple
) -> None:
    build = Build(impl, *version, pre, variant, *platform, "1", url=None, sha256=None)
    assert parse_request(build.key).matches(build)
    other = Build(impl, version[0], version[1], version[2] + 1, pre, variant, *platform, "1",
                  url=None, sha256=None)  # fmt: skip
    assert not parse_request(build.key).matches(other)


# The request forms of uv's documentation ("Requesting a version"), and the others pyshelf
# documents, listed by pyshelf as by `uv python list` on one catalog, with each of its flags.
UV_FORMS = [
    "3", "3.12", "3.12.3", ">=3.12,<3.13", "3.13t", "3.13+freethreaded", "cpython", "cp",
    "cpython@3.12", "cpython3.12", "cp312", "cpython>=3.12,<3.13",
    "cpython-3.12.3-macos-aarch64-none", "any", "default", "312", "3.14.0rc1", "3.13.0",
    "3.14", "pypy", "pypy3.10", "pypy@3.10", "pp310", "graalpy", "python3.12", "pyodide",
    "cpython-3.12-linux", "any-3.11-linux-any-gnu", "cpython-3.12-darwin-arm64",
    "cpython-any-windows-x86", "any-any-any-x86_64_v3",
]  # fmt: skip
FLAGS = [((), ()), (("--all",), ("--all-versions",)),
         (("--all-platforms",), ("--all-platforms", "--all-arches")),
         (("--all-versions", "--all-platforms"), ("--all-versions", "--all-platforms",
                                                   "--all-arches"))]  # fmt: skip


def _forms_catalog(path: Path) -> Path:
    """Patches, pre-releases, variants, implementations and platforms, this machine's too."""
    here = current_host()
    platforms = {
        ("linux", "x86_64", None, "gnu"), ("linux", "x86_64", "v3", "gnu"),
        ("linux", "x86_64", None, "musl"), ("linux", "aarch64", None, "gnu"),
        ("darwin", "aarch64", None, "none"), ("darwin", "x86_64", None, "none"),
        ("windows", "x86_64", None, "none"), ("windows", "i686", None, "none"),
        (here.os, here.arch, None, here.libc),
    }  # fmt: skip
    entries = []
    for os, family, level, libc in sorted(platforms, key=str):
        for version in ("3.11.11", "3.12.3", "3.12.7", "3.13.0rc1", "3.13.0", "3.13.1",
                        "3.14.0rc1"):  # fmt: skip
            variants = [None, "debug"]
            if version >= "3.13":
                variants += ["freethreaded", "freethreaded+debug"]
            for variant in variants:
                entries.append(entry("cpython", version, os, family, libc, level=level,
                                     variant=variant))  # fmt: skip
        for name, version in (("pypy", "3.10.14"), ("pypy", "3.11.13"), ("graalpy", "3.11.0"),
                              ("graalpy", "3.12.0")):  # fmt: skip
            entries.append(entry(name, version, os, family, libc, level=level))
    for version in ("3.12.1", "3.12.7", "3.13.2"):  # no sha256 published, as uv's catalog has
        entries.append(entry("cpython", version, "emscripten", "wasm32", "musl", sha=False))
    return write_catalog(path, entries)


def _pyshelf_listed(world: World, catalog: Path, *args: str) -> set[str]:
    code, out, err = world.cli("--catalog", str(catalog), "--offline", "list", "--json", *args)
    assert code == 0, err
    return {row["key"] for row in json.loads(out)}


@pytest.mark.parametrize(("ours", "theirs"), FLAGS, ids=["", "all", "platforms", "both"])
def test_requests_list_what_uv_lists(
    world: World, tmp_path: Path, ours: tuple[str, ...], theirs: tuple[str, ...]
) -> None:
    catalog = _forms_catalog(tmp_path / "forms.json")
    for text in ["", *UV_FORMS]:
        request = [text] if text else []
        expected = uv_listed(catalog, tmp_path, *theirs, *request)
        assert _pyshelf_listed(world, catalog, *ours, *request) == expected, text or "(none)"


def test_a_bare_version_lists_every_implementation(world: World, tmp_path: Path) -> None:
    # Listed as uv lists them: GraalPy 3.12 for 3.12, each patch once, no debug build.
    catalog = _forms_catalog(tmp_path / "forms.json")
    here = current_host()
    suffix = f"{here.os}-{here.arch}-{here.libc}"
    for text in ("3.12", ">=3.12,<3.13"):
        assert _pyshelf_listed(world, catalog, text) == {
            f"cpython-3.12.7-{suffix}",
            f"graalpy-3.12.0-{suffix}",
        }
    listed = _pyshelf_listed(world, catalog, "--all", "any")
    assert f"cpython-3.13.0rc1-{suffix}" not in listed and f"cpython-3.13.0-{suffix}" in listed
    assert f"pypy-3.10.14-{suffix}" in listed and not any("debug" in k for k in listed)


def test_debug_and_gil_requests_list_what_they_name(world: World, tmp_path: Path) -> None:
    # uv lists nothing for these (it lists no debug build, and no build is "+gil"); pyshelf
    # lists the builds they install.
    catalog = _forms_catalog(tmp_path / "forms.json")
    here = current_host()
    suffix = f"{here.os}-{here.arch}-{here.libc}"
    assert _pyshelf_listed(world, catalog, "3.13d") == {f"cpython-3.13.1+debug-{suffix}"}
    assert _pyshelf_listed(world, catalog, "3.12.3+debug") == {f"cpython-3.12.3+debug-{suffix}"}
    assert _pyshelf_listed(world, catalog, "3.13+gil") == {f"cpython-3.13.1-{suffix}"}
    assert resolve("3.13+gil", POOL).key == "cpython-3.13.2-linux-x86_64-gnu"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uv reads UV_LIBC on Linux")
def test_uv_libc_lists_as_in_uv(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _forms_catalog(tmp_path / "forms.json")
    other = "gnu" if current_host().libc == "musl" else "musl"
    monkeypatch.setenv("UV_LIBC", other)
    current_host.cache_clear()
    try:
        expected = uv_listed(catalog, tmp_path, "3.12", env={"UV_LIBC": other})
        assert _pyshelf_listed(world, catalog, "3.12") == expected
        assert expected and all(key.endswith(f"-{other}") for key in expected)
    finally:
        current_host.cache_clear()

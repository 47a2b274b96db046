"""Catalog sources, mirrors, requests and download sizes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import World
from tests.special_files import SPECIAL_KINDS, finishes, make_special
from tui.engine.archives import catalog as catalog_module
from tui.engine.archives import schema
from tui.engine.archives.catalog import builtin_catalog, load_catalog, stale_note
from tui.engine.errors import CatalogError, RequestError
from tui.engine.host import Host
from tui.engine.names import cache_file_name, parse_archive_name, rewrite_mirror
from tui.engine.requests.resolve import parse_request, resolve

LINUX = Host("linux", "x86_64", "gnu")


def test_builtin_catalog_is_the_shipped_index_and_works_offline() -> None:
    catalog = builtin_catalog()
    here = [b for b in catalog.builds if b.runs_on(LINUX)]
    assert len(here) > 50
    assert all(b.sha256 is None or len(b.sha256) == 64 for b in here)
    assert any(b.implementation == "pypy" for b in here)
    assert any(b.variant == "freethreaded" for b in here)
    newest = resolve("3.12", here)
    assert newest.key.startswith("cpython-3.12.") and newest.key.endswith("-linux-x86_64-gnu")
    assert "install_only" in newest.filename


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("3.12", "cpython-3.12.7-linux-x86_64-gnu"),
        ("3.12.6", "cpython-3.12.6-linux-x86_64-gnu"),
        ("3", "cpython-3.13.1-linux-x86_64-gnu"),
        ("3.13t", "cpython-3.13.1+freethreaded-linux-x86_64-gnu"),
        ("3.13+freethreaded", "cpython-3.13.1+freethreaded-linux-x86_64-gnu"),
        ("pypy@3.10", "pypy-3.10.14-linux-x86_64-gnu"),
        ("cpython@3.11", "cpython-3.11.9-linux-x86_64-gnu"),
        ("cpython-3.12.6-linux-x86_64-gnu", "cpython-3.12.6-linux-x86_64-gnu"),
    ],
)
def test_requests_resolve_to_the_newest_match(world: World, text: str, key: str) -> None:
    assert resolve(text, world.shelf().builds()).key == key


def test_unknown_version_names_the_nearest(world: World) -> None:
    with pytest.raises(RequestError, match=r"nearest available: .*3\.12"):
        resolve("3.14", world.shelf().builds())
    with pytest.raises(RequestError, match="cannot read 'banana'"):
        parse_request("banana")


def test_unreadable_catalog_names_the_file(tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CatalogError, match=str(bad)):
        load_catalog(str(bad), store=tmp_path)
    with pytest.raises(CatalogError, match="cannot read catalog"):
        load_catalog(str(tmp_path / "missing.json"), store=tmp_path)
    bad.write_text(json.dumps({"x": {"name": "cpython"}}))
    catalog = load_catalog(str(bad), store=tmp_path)
    assert catalog.builds == []
    assert catalog.warnings == [f"catalog {bad}: skipped entry 'x': unknown arch None"]


def test_remote_catalog_is_kept_and_revalidated_with_etag(world: World, tmp_path) -> None:
    (world.server.root / "catalog.json").write_bytes(world.catalog_path.read_bytes())
    url = f"{world.server.url}/catalog.json"
    first = load_catalog(url, store=tmp_path)
    second = load_catalog(url, store=tmp_path)
    assert len(first.builds) == len(second.builds) == len(world.specs)
    gets = [r for r in world.server.requests if r.path.endswith("catalog.json")]
    assert "If-None-Match" in gets[1].headers
    world.server.stop()
    stale = load_catalog(url, store=tmp_path)
    assert len(stale.builds) == len(world.specs)
    assert stale.warnings and "using the copy" in stale.warnings[0]
    offline = load_catalog(url, store=tmp_path, offline=True)
    assert len(offline.builds) == len(world.specs)
    with pytest.raises(CatalogError, match="cannot fetch catalog"):
        load_catalog(url, store=tmp_path / "elsewhere")


def test_mirrors_rewrite_the_published_prefixes() -> None:
    pbs = "https://github.com/astral-sh/python-build-standalone/releases/download/2024/x.tar.gz"
    pypy = "https://downloads.python.org/pypy/pypy3.10-v7.3.17-linux64.tar.bz2"
    assert rewrite_mirror(pbs, "http://m/pbs/", None) == "http://m/pbs/2024/x.tar.gz"
    assert rewrite_mirror(pypy, "http://m/pbs", "file:///srv/pypy") == (
        "file:///srv/pypy/pypy3.10-v7.3.17-linux64.tar.bz2"
    )
    assert rewrite_mirror("https://example.invalid/x", "http://m", "http://p") == (
        "https://example.invalid/x"
    )


def test_uv_cache_names_round_trip() -> None:
    name = (
        "cpython-3.13.1+20241206-x86_64-unknown-linux-gnu-freethreaded-install_only_stripped.tar.gz"
    )
    cached = cache_file_name("0123456789abcdef", name)
    assert cached == (
        "012345678-cpython-3.13.1-20241206-x86_64-unknown-linux-gnu-"
        "freethreaded-install_only_stripped.tar.gz"
    )
    parsed = parse_archive_name(cached[10:])
    assert parsed is not None
    assert (parsed.version, parsed.build, parsed.variant, parsed.libc) == (
        "3.13.1",
        "20241206",
        "freethreaded",
        "gnu",
    )


def test_download_sizes_come_from_head_and_are_remembered(world: World) -> None:
    shelf = world.shelf()
    entries = shelf.entries()
    entries = shelf.probe_download_sizes(entries)
    spec = world.spec("cpython-3.12.7-linux-x86_64-gnu")
    entry = next(e for e in entries if e.key == spec.key)
    assert entry.download_size == spec.size
    world.server.stop()
    again = world.shelf()
    fresh = next(e for e in again.entries() if e.key == spec.key)
    assert fresh.download_size == spec.size  # remembered on disk, no network needed


def test_unknown_download_size_stays_unknown(world: World) -> None:
    world.server.stop()
    shelf = world.shelf()
    entries = shelf.entries()
    entries = shelf.probe_download_sizes(entries)
    assert all(e.download_size is None for e in entries)


def test_builds_without_a_checksum_are_listed_but_never_fetched(world: World) -> None:
    catalog = json.loads(world.catalog_path.read_text())
    catalog["cpython-3.11.9-linux-x86_64-gnu"]["sha256"] = None
    world.catalog_path.write_text(json.dumps(catalog))
    code, out, _ = world.cli("list", "--all")
    assert code == 0
    line = next(row for row in out.splitlines() if row.startswith("cpython-3.11.9"))
    assert "unverifiable" in line
    code, _, err = world.cli("fetch", "3.11.9")
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "has no published sha256" in err


def test_an_old_copy_used_offline_is_called_stale_by_the_cli(world: World) -> None:
    (world.server.root / "catalog.json").write_bytes(world.catalog_path.read_bytes())
    url = f"{world.server.url}/catalog.json"
    assert world.cli("list", "--catalog", url)[0] == 0  # keeps a copy, fetched now
    code, _, err = world.cli("list", "--catalog", url, "--offline")
    assert code == 0 and "days old" not in err  # a fresh copy is no news
    (meta,) = (world.root / "cache").rglob("*.meta.json")
    data = json.loads(meta.read_text())
    month_ago = datetime.now(UTC) - timedelta(days=30)
    data["fetched_at"] = month_ago.strftime("%Y-%m-%d %H:%M UTC")
    meta.write_text(json.dumps(data))
    code, _, err = world.cli("list", "--catalog", url, "--offline")
    assert code == 0
    assert "pyshelf: warning: offline: the catalog copy is 30 days old" in err
    assert stale_note({"fetched_at": "garbage"}) is None


def _index_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped index that the built-in catalog reads instead."""
    shipped = catalog_module._builtin_index_path()
    assert shipped is not None
    copy = tmp_path / "versions.json"
    copy.write_bytes(shipped.read_bytes())
    monkeypatch.setattr(catalog_module, "_builtin_index_path", lambda: copy)
    return copy


def test_the_checked_builtin_index_is_kept_and_read_back_while_it_is_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = _index_copy(tmp_path, monkeypatch)
    store = tmp_path / "store"
    first = builtin_catalog(("http://mirror.test/pbs", None), store=store)
    kept = store / catalog_module.BUILTIN_CHECKED
    assert kept.is_file() and kept.stat().st_mode & 0o777 == 0o600  # it holds mirror URLs

    def unchecked(*args: object, **kwargs: object) -> object:
        raise AssertionError("the index was checked again")

    with monkeypatch.context() as patch:
        patch.setattr(schema, "builds_from_uv_json", unchecked)
        again = builtin_catalog(("http://mirror.test/pbs", None), store=store)
    assert again.builds == first.builds and again.warnings == first.warnings
    assert again.source == first.source == "built-in index (pbs-installer)"
    assert all(
        b.url.startswith("http://mirror.test/pbs/") for b in again.builds if "pypy" not in b.key
    )

    # Other mirrors, or another index (a pbs-installer upgrade): checked again, kept anew.
    other = builtin_catalog(("http://other.test", None), store=store)
    assert other.builds != first.builds
    entries = json.loads(index.read_text())
    entries[0]["files"] = []  # the newest release gone
    index.write_text(json.dumps(entries))
    fewer = builtin_catalog(("http://other.test", None), store=store)
    assert len(fewer.builds) < len(other.builds)


@pytest.mark.parametrize("kept", ["{not json", '{"stamp": 1}', '{"stamp": [], "builds": 5}', ""])
def test_a_damaged_checked_index_is_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept: str
) -> None:
    _index_copy(tmp_path, monkeypatch)
    fresh = builtin_catalog()
    (tmp_path / catalog_module.BUILTIN_CHECKED).write_text(kept)
    assert builtin_catalog(store=tmp_path).builds == fresh.builds
    assert builtin_catalog(store=tmp_path).builds == fresh.builds  # rewritten, then read back


_FIELD = {name: i for i, name in enumerate(schema.Build._fields)}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("major", "3"),  # a string where a number goes: every sort compared str to int
        ("patch", 10**6),
        ("implementation", ["cpython"]),
        ("arch", "x86_64_v9"),
        ("os", None),
        ("url", "file:///dev/zero/cpython-3.12.7.tar.gz"),  # never a scheme the index has
        ("url", "https://example.invalid/../../x"),
        ("sha256", "z" * 64),
        ("prerelease", "rc1; rm -rf"),
        (None, None),  # a row one field short
    ],
)
def test_a_kept_index_with_a_bad_row_is_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, field: str | None, value: object
) -> None:
    """The kept index passes the catalog check: the store is in the cache, which may be
    shared, and a row that does not pass means pyshelf did not write it as it is."""
    _index_copy(tmp_path, monkeypatch)
    fresh = builtin_catalog(store=tmp_path)
    path = tmp_path / catalog_module.BUILTIN_CHECKED
    kept = json.loads(path.read_text())
    row = kept["builds"][0]
    if field is None:
        row.pop()
    else:
        row[_FIELD[field]] = value
    path.write_text(json.dumps(kept))
    assert builtin_catalog(store=tmp_path) == fresh
    assert json.loads(path.read_text())["builds"][0] != row  # kept anew


@pytest.mark.parametrize("kind", [*SPECIAL_KINDS, "link"])
def test_a_kept_index_that_is_not_a_plain_file_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    _index_copy(tmp_path, monkeypatch)
    fresh = builtin_catalog(store=tmp_path)
    path = tmp_path / catalog_module.BUILTIN_CHECKED
    if kind == "link":  # pyshelf never makes one; this one leads to a good copy
        good = tmp_path / "elsewhere.json"
        path.rename(good)
        path.symlink_to(good)
    else:
        make_special(path, kind, huge=catalog_module.MAX_CATALOG_BYTES + 1)

    def unchecked(*args: object, **kwargs: object) -> object:
        raise AssertionError("the kept file was read")

    monkeypatch.setattr(schema, "build_from_row", unchecked)
    assert finishes(lambda: builtin_catalog(store=tmp_path)) == fresh


def test_a_store_that_cannot_be_written_still_lists(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert builtin_catalog(store=blocked / "store").builds == builtin_catalog().builds

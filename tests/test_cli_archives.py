"""The archive half of the CLI: list, fetch, evict; exit codes; uv reading our cache."""

from __future__ import annotations

import json

from tests.conftest import World
from tests.uvtool import run_uv
from tui.format import human_size


def test_list_shows_newest_patch_per_minor_with_sizes(world: World) -> None:
    code, out, err = world.cli("list")
    assert code == 0, err
    keys = [line.split()[0] for line in out.splitlines()[1:]]
    assert "cpython-3.12.7-linux-x86_64-gnu" in keys
    assert "cpython-3.12.6-linux-x86_64-gnu" not in keys  # an older patch of a listed minor
    assert "pypy-3.10.14-linux-x86_64-gnu" in keys
    assert human_size(world.spec("cpython-3.12.7-linux-x86_64-gnu").size) in out
    code, out, _ = world.cli("list", "--all")
    assert "cpython-3.12.6-linux-x86_64-gnu" in out


def test_list_json_rows_carry_state_and_sizes(world: World) -> None:
    assert world.cli("fetch", "3.12")[0] == 0
    code, out, _ = world.cli("list", "--json")
    assert code == 0
    rows = {row["key"]: row for row in json.loads(out)}
    row = rows["cpython-3.12.7-linux-x86_64-gnu"]
    spec = world.spec(row["key"])
    for field in ("key", "version", "implementation", "variant", "build", "url", "available",
                  "cached", "installed", "download_size", "cache_path", "cache_size",
                  "install_path", "install_size"):  # fmt: skip
        assert field in row
    assert row["cached"] is True and row["cache_size"] == spec.size == row["download_size"]
    assert row["build"] == "20991231" and row["version"] == "3.12.7"
    assert rows["cpython-3.11.9-linux-x86_64-gnu"]["cached"] is False


def test_fetch_several_in_parallel_with_plain_progress(world: World) -> None:
    code, _, err = world.cli("fetch", "3.12", "3.13", "3.13t", "pypy@3.10", "--parallel", "4")
    assert code == 0, err
    assert "downloading" in err and "cached" in err
    cached = {p.name for p in (world.root / "cache").iterdir() if p.is_file()}
    assert len(cached) == 4


def test_evict_says_how_much_was_freed(world: World) -> None:
    world.cli("fetch", "3.12")
    code, _, err = world.cli("evict", "3.12")
    assert code == 0
    assert f"freed {human_size(world.spec('cpython-3.12.7-linux-x86_64-gnu').size)}" in err
    assert not [p for p in (world.root / "cache").iterdir() if p.is_file()]
    code, _, err = world.cli("evict", "3.12")
    assert code == 1 and err.startswith("pyshelf: error: no build matches '3.12'")


def test_errors_are_one_line_without_traceback(world: World, tmp_path) -> None:
    code, _, err = world.cli("fetch", "3.99")
    assert code == 1 and "nearest available" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = world.cli("--offline", "fetch", "3.12")
    assert code == 1 and "offline" in err and "Traceback" not in err
    world.server.stop()
    code, _, err = world.cli("fetch", "3.11")
    assert code == 1 and "cannot reach" in err and "Traceback" not in err
    bad = tmp_path / "broken.json"
    bad.write_text("[")
    code, _, err = world.cli("list", "--catalog", str(bad))
    assert code == 1 and str(bad) in err and len(err.strip().splitlines()) == 1


def test_uv_installs_offline_from_the_cache_pyshelf_filled(world: World) -> None:
    assert world.cli("fetch", "3.12")[0] == 0
    world.server.stop()  # prove uv needs no network
    env = {
        "UV_PYTHON_CACHE_DIR": str(world.root / "cache"),
        "UV_PYTHON_DOWNLOADS_JSON_URL": str(world.catalog_path),
        "UV_PYTHON_INSTALL_DIR": str(world.root / "uv-installs"),
        "UV_PYTHON_BIN_DIR": str(world.root / "uv-bin"),
    }
    run_uv("python", "install", "--offline", "3.12", env=env)
    assert (world.root / "uv-installs" / "cpython-3.12.7-linux-x86_64-gnu" / "bin").is_dir()


def test_pyshelf_lists_what_uv_cached(world: World) -> None:
    env = {
        "UV_PYTHON_CACHE_DIR": str(world.root / "cache"),
        "UV_PYTHON_DOWNLOADS_JSON_URL": str(world.catalog_path),
        "UV_PYTHON_INSTALL_DIR": str(world.root / "uv-installs"),
        "UV_PYTHON_BIN_DIR": str(world.root / "uv-bin"),
    }
    run_uv("python", "install", "3.11", env=env)
    _, out, _ = world.cli("list", "--json", "3.11")
    row = json.loads(out)[0]
    assert row["cached"] is True and row["cache_size"] == world.spec(row["key"]).size
    world.server.clear_requests()
    assert world.cli("fetch", "3.11")[0] == 0
    assert not [r for r in world.server.requests if r.method == "GET"]

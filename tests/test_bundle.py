"""Offline bundles: export, carry, import; and uv installing from one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import World
from tests.loopback import LoopbackServer
from tests.special_files import SPECIAL_KINDS, finishes, make_special
from tests.test_cli_input import one_line
from tests.uvtool import run_uv
from tui.engine.archives.catalog import parse_uv_catalog
from tui.engine.bundle import CATALOG_NAME, SUMS_NAME

K312 = "cpython-3.12.7-linux-x86_64-gnu"
K313T = "cpython-3.13.1+freethreaded-linux-x86_64-gnu"
PYPY = "pypy-3.10.14-linux-x86_64-gnu"


def _cached(world: World, cache: Path) -> set[str]:
    return {p.name for p in cache.glob("*.tar.*")}


def test_export_then_import_round_trip(world: World, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    code, _, err = world.cli("export", str(bundle), "3.12", "3.13t", "pypy@3.10")
    assert code == 0, err
    assert err.count("added ") == 3
    spec = world.spec(K312)
    assert (bundle / spec.build / spec.filename).is_file()
    assert (bundle / world.spec(PYPY).filename).is_file()  # PyPy's mirror has no release dir
    catalog = json.loads((bundle / CATALOG_NAME).read_text())
    assert set(catalog) == {K312, K313T, PYPY}
    assert catalog[K312]["url"].startswith("https://github.com/astral-sh/python-build-standalone/")
    sums = (bundle / SUMS_NAME).read_text().splitlines()
    assert f"{spec.sha256}  {spec.build}/{spec.filename}" in sums

    fresh = tmp_path / "fresh-cache"
    code, _, err = world.cli("--cache-dir", str(fresh), "import", str(bundle))
    assert code == 0, err
    assert err.count("added ") == 3
    assert len(_cached(world, fresh)) == 3
    code, _, err = world.cli("--cache-dir", str(fresh), "import", str(bundle))
    assert code == 0 and err.count("already in the cache") == 3
    # What the README's Dockerfile does: import, then install with no network at all.
    code, _, err = world.cli("--cache-dir", str(fresh), "--offline", "install", "3.12")
    assert code == 0, err

    # The bundle is a mirror: installs from it need nothing else.
    world.server.stop()
    url = bundle.as_uri()
    code, _, err = world.cli(
        "--cache-dir", str(tmp_path / "other-cache"), "--mirror", url, "--pypy-mirror", url,
        "--catalog", str(bundle / CATALOG_NAME), "install", "3.12",
    )  # fmt: skip
    assert code == 0, err


def test_exporting_again_adds_without_duplicates(world: World, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    assert world.cli("export", str(bundle), "3.12")[0] == 0
    code, _, err = world.cli("export", str(bundle), "3.12", "3.11")
    assert code == 0, err
    assert f"already in the bundle: {K312}" in err and "added cpython-3.11.9" in err
    sums = (bundle / SUMS_NAME).read_text().splitlines()
    assert len(sums) == len(set(sums)) == 2
    data = json.loads((bundle / CATALOG_NAME).read_text())
    catalog = parse_uv_catalog(data, "bundle")
    assert {b.key for b in catalog.builds} == {K312, "cpython-3.11.9-linux-x86_64-gnu"}
    assert catalog.warnings == []


def test_import_refuses_a_tampered_archive(world: World, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    assert world.cli("export", str(bundle), "3.12", "3.11")[0] == 0
    spec = world.spec(K312)
    archive = bundle / spec.build / spec.filename
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    fresh = tmp_path / "fresh-cache"
    code, _, err = world.cli("--cache-dir", str(fresh), "import", str(bundle))
    assert code == 1
    assert f"failed: {K312}: {spec.filename}: sha256" in err
    assert "added cpython-3.11.9" in err
    assert not any(spec.filename.replace("+", "-") in p for p in _cached(world, fresh))
    assert not list(fresh.rglob("*.pyshelf-copy"))


def test_a_hand_downloaded_archive_is_verified_against_the_catalog(
    world: World, tmp_path: Path
) -> None:
    spec = world.spec(K312)
    lone = tmp_path / "downloads" / spec.filename
    lone.parent.mkdir()
    lone.write_bytes(spec.path.read_bytes())
    stray = tmp_path / "downloads" / "cpython-3.99.0+20991231-x86_64-unknown-linux-gnu.tar.gz"
    stray.write_bytes(b"who knows")
    code, _, err = world.cli("import", str(lone), str(stray))
    assert code == 1
    assert f"added {K312}" in err
    assert f"failed: {stray}: no catalog lists {stray.name}; cannot verify it" in err


def test_a_hostile_sums_file_writes_nothing_outside(world: World, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / SUMS_NAME).write_text(f"{'a' * 64}  ../../escape.tar.gz\n")
    code, _, err = world.cli("import", str(bundle))
    assert code == 1 and "Traceback" not in err
    assert not (tmp_path.parent / "escape.tar.gz").exists()


@pytest.mark.parametrize("kind", [*SPECIAL_KINDS, "not-utf8"])
@pytest.mark.parametrize("name", [SUMS_NAME, CATALOG_NAME])
def test_a_bundle_file_that_is_not_a_small_text_file_is_one_line(
    world: World, tmp_path: Path, name: str, kind: str
) -> None:
    """A fifo hung the import, ``/dev/zero`` grew memory until killed, binary bytes were an
    unexpected UnicodeDecodeError: each is now refused by type, size or content."""
    bundle = tmp_path / "bundle"
    assert world.cli("export", str(bundle), "3.12")[0] == 0
    if kind == "not-utf8":
        (bundle / name).write_bytes(b"\xff\xfe" + os.urandom(64) + b"  x.tar.gz\n")
    else:
        make_special(bundle / name, kind)
    fresh = tmp_path / "fresh-cache"
    code, out, err = finishes(lambda: world.cli("--cache-dir", str(fresh), "import", str(bundle)))
    assert code == 1 and not out
    line = one_line(err)
    assert str(bundle / name) in line and "unexpected" not in line
    # Export checks its archive first (its job's lines), then reads the bundle to merge.
    code, out, err = finishes(lambda: world.cli("export", str(bundle), "3.12"))
    assert code == 1 and "unexpected" not in err and "Traceback" not in err
    assert err.splitlines()[-1] == line
    assert not list(fresh.glob("*.tar.*"))


def test_an_archive_in_a_bundle_that_is_a_fifo_is_refused(world: World, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    assert world.cli("export", str(bundle), "3.12", "3.11")[0] == 0
    spec = world.spec(K312)
    make_special(bundle / spec.build / spec.filename, "fifo")
    code, _, err = finishes(
        lambda: world.cli("--cache-dir", str(tmp_path / "c"), "import", str(bundle))
    )
    assert code == 1 and f"failed: {K312}: " in err and "not a regular file" in err
    assert "added cpython-3.11.9" in err


@pytest.mark.parametrize("over", ["file", "http"])
def test_uv_installs_from_an_exported_bundle(real_world: World, tmp_path: Path, over: str) -> None:
    spec = real_world.specs[-1]
    bundle = tmp_path / "bundle"
    code, _, err = real_world.cli("export", str(bundle), spec.key)
    assert code == 0, err
    real_world.server.stop()  # only the bundle is left
    env = {
        "UV_PYTHON_INSTALL_DIR": str(tmp_path / "uv-installs"),
        "UV_PYTHON_CACHE_DIR": str(tmp_path / "uv-cache"),
        "PATH": "/nonexistent",
    }
    with LoopbackServer(bundle) as server:
        mirror = bundle.as_uri() if over == "file" else server.url
        run_uv(
            "python", "install", "--mirror", mirror,
            "--python-downloads-json-url", str(bundle / CATALOG_NAME), spec.key, env=env,
        )  # fmt: skip
    python = tmp_path / "uv-installs" / spec.key / "bin" / f"python{spec.major}.{spec.minor}"
    assert os.access(python, os.X_OK)

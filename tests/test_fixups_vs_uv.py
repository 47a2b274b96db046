"""pyshelf's fix-ups leave an install whose sysconfig is uv's, prefix aside."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import World, world_serving
from tests.loopback import LoopbackServer
from tests.pbs_fixtures import ArchiveSpec
from tests.uvtool import run_uv

DUMP = "import json, sysconfig; print(json.dumps(sysconfig.get_config_vars(), default=repr))"


def config_vars(prefix: Path, executable: str) -> dict[str, object]:
    """The install's ``sysconfig.get_config_vars()``, its own prefix written ``<PREFIX>`` and
    runs of whitespace as one space."""
    out = subprocess.run(
        [prefix / "bin" / executable, "-E", "-c", DUMP],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip

    def normal(value: object) -> object:
        if not isinstance(value, str):
            return value
        return " ".join(value.replace(str(prefix), "<PREFIX>").split())

    return {key: normal(value) for key, value in json.loads(out).items()}


@pytest.fixture
def prefix_world(
    tmp_path: Path, loopback_server: LoopbackServer, build_prefix_archive: ArchiveSpec
) -> World:
    return world_serving(tmp_path, loopback_server, build_prefix_archive)


def test_sysconfig_of_our_install_is_uvs(prefix_world: World) -> None:
    spec = prefix_world.specs[-1]
    minor = f"{spec.major}.{spec.minor}"
    root = prefix_world.root
    code, _, err = prefix_world.cli("install", minor)
    assert code == 0, err
    run_uv(
        "python", "install", minor,
        env={
            "UV_PYTHON_INSTALL_DIR": str(root / "uv-installs"),
            "UV_PYTHON_BIN_DIR": str(root / "uv-bin"),
            "UV_PYTHON_DOWNLOADS_JSON_URL": str(prefix_world.catalog_path),
            "UV_PYTHON_CACHE_DIR": str(root / "uv-cache"),
            "UV_CACHE_DIR": str(root / "uv-cache"),
        },
    )  # fmt: skip
    exe = f"python{minor}"
    ours = config_vars(root / "installs" / spec.key, exe)
    uvs = config_vars(root / "uv-installs" / spec.key, exe)
    differ = {
        k: (ours.get(k), uvs.get(k)) for k in ours.keys() | uvs.keys() if ours.get(k) != uvs.get(k)
    }
    assert differ == {}
    # The comparison had something to compare: the fix-ups ran, and left INSTALL alone.
    assert ours["INSTALL"] == "/usr/bin/install -c"
    assert ours["LIBDIR"] == "<PREFIX>/lib" and ours["BINDIR"] == "<PREFIX>/bin"
    assert ours["CC"] == "cc -pthread" and ours["AR"] == "ar"
    assert ours["LDSHARED"] == "cc -pthread -shared -L/tools/deps/lib -L/install/lib"
    assert ours["PYTHON_BUILD_STANDALONE"] == 1
    marker = Path("lib") / f"python{minor}" / "EXTERNALLY-MANAGED"
    uv_marker = (root / "uv-installs" / spec.key / marker).read_bytes()
    assert (root / "installs" / spec.key / marker).read_bytes() == uv_marker

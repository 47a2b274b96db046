"""The ``pyshelf`` command leaves without the interpreter's teardown: what it printed still
arrives whole, its exit status is kept, and a reader that leaves early gets no noise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A scratch home for the command; offline, so the built-in catalog is all it lists."""
    dirs = {
        "HOME": "home",
        "UV_PYTHON_INSTALL_DIR": "installs",
        "UV_PYTHON_CACHE_DIR": "cache",
        "XDG_CONFIG_HOME": "config",
        "XDG_CACHE_HOME": "xcache",
        "XDG_STATE_HOME": "state",
    }
    scratch = {name: str(tmp_path / sub) for name, sub in dirs.items()}
    return {"PATH": os.environ.get("PATH", ""), "UV_NO_CONFIG": "1", **scratch}


def _pyshelf(env: dict[str, str], *args: str, **kw: object) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "tui", "--offline", *args]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)  # type: ignore[call-overload]


def test_a_long_listing_arrives_whole_through_a_pipe(env: dict[str, str]) -> None:
    """Far more than a pipe holds, so the last bytes are still buffered when main returns."""
    proc = _pyshelf(env, "list", "--all", "--all-platforms", "--json")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert len(out) > 256 * 1024
    rows = json.loads(out)
    assert len(rows) > 100 and all("key" in row for row in rows)


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        (["install", "9.9"], 1, "no build matches '9.9'"),
        (["--parallel", "0", "list"], 2, "pyshelf: error:"),
    ],
)
def test_a_failure_keeps_its_status_and_its_one_line(
    env: dict[str, str], args: list[str], status: int, says: str
) -> None:
    proc = _pyshelf(env, *args)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == status
    assert err.decode().count("\n") == 1 and says in err.decode()


def test_a_reader_that_leaves_early_gets_no_noise(env: dict[str, str]) -> None:
    proc = _pyshelf(env, "list", "--all", "--all-platforms", "--json")
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(100)
    proc.stdout.close()  # as `| head -c 100` does
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 1
    assert err == b""

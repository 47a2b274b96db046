"""Caches this user cannot write: a CI volume mounted read-only, another user's cache.

The read-only cache is a real read-only bind mount, made in a private mount namespace
(``unshare -m``, which needs root or CAP_SYS_ADMIN: skipped elsewhere); pyshelf runs in it
as its own process.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import World

K127 = "cpython-3.12.7-linux-x86_64-gnu"
REPO = Path(__file__).resolve().parent.parent


def _can_mount_read_only(tmp: Path) -> bool:
    if not shutil.which("unshare") or sys.platform != "linux":
        return False
    probe = tmp / "probe"
    probe.mkdir(exist_ok=True)
    script = f"mount --bind -o ro {probe} {probe} && ! touch {probe}/x 2>/dev/null"
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True)
    return done.returncode == 0


def run_read_only(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    """``pyshelf ARGS`` in its own process, with the world's cache mounted read-only."""
    cache = world.root / "cache"
    command = shlex.join(
        [
            sys.executable, "-m", "tui",
            "--cache-dir", str(cache), "--install-dir", str(world.root / "installs"),
            "--bin-dir", str(world.root / "bin"), "--catalog", str(world.catalog_path),
            *args,
        ]
    )  # fmt: skip
    script = f"mount --bind -o ro {shlex.quote(str(cache))} {shlex.quote(str(cache))} && {command}"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, env=env, cwd=REPO
    )


def listing(root: Path) -> dict[str, tuple[int, int]]:
    """Every entry below ``root``: its size and mtime, to see that nothing changed."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            st = os.lstat(os.path.join(dirpath, name))
            found[os.path.relpath(os.path.join(dirpath, name), root)] = (st.st_size, st.st_mtime_ns)
    return found


@pytest.fixture
def read_only(world: World, tmp_path: Path) -> World:
    if not _can_mount_read_only(tmp_path):
        pytest.skip("needs unshare -m and mount (root or CAP_SYS_ADMIN)")
    assert world.cli("fetch", "3.12.7")[0] == 0
    return world


def test_a_read_only_cache_installs_and_reinstalls_writing_nothing_to_it(
    read_only: World,
) -> None:
    cache = read_only.root / "cache"
    before = listing(cache)
    done = run_read_only(read_only, "--offline", "install", "3.12.7")
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stderr.splitlines() if "read-only for you" in line]
    assert len(notes) == 1 and "straight from the archive" in notes[0]
    python = read_only.root / "installs" / K127 / "bin" / "python3.12"
    assert python.is_file()
    done = run_read_only(read_only, "--offline", "reinstall", "3.12.7")
    assert done.returncode == 0, done.stderr
    assert python.is_file()
    assert listing(cache) == before
    assert os.listdir(read_only.root / "installs" / ".temp") == []


def test_fetching_into_a_read_only_cache_is_one_line(read_only: World) -> None:
    done = run_read_only(read_only, "fetch", "3.11.9")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert "read-only for you" in lines[-1] and "--cache-dir" in lines[-1]
    assert not [line for line in lines if "Traceback" in line or "unexpected" in line]

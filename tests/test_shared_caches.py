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
    # No unpacked copy to tell what a reinstall would discard: a script says --yes.
    done = run_read_only(read_only, "--offline", "reinstall", "3.12.7")
    assert done.returncode == 1 and "pass --yes" in done.stderr.strip().splitlines()[-1]
    done = run_read_only(read_only, "--offline", "reinstall", "--yes", "3.12.7")
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


# -- two users, one cache ------------------------------------------------------------------
#
# Real users, made with useradd (CI runs as root). They run pyshelf with one capability,
# CAP_DAC_READ_SEARCH, because the interpreter running the tests may sit in a folder only
# root can enter (/root/.pyenv): it lets them read and search anything, but every write is
# checked as theirs. So what one user's files let the other read is checked by their modes.

GROUP, USERS = "pyshelfshare", ("pyshelfa", "pyshelfb")


def _have_users() -> bool:
    if sys.platform != "linux" or os.geteuid() != 0:
        return False
    if not all(shutil.which(tool) for tool in ("setpriv", "useradd", "groupadd")):
        return False
    import grp
    import pwd

    try:
        grp.getgrnam(GROUP)
    except KeyError:
        subprocess.run(["groupadd", GROUP], check=True, capture_output=True)
    for user in USERS:
        try:
            pwd.getpwnam(user)
        except KeyError:
            args = ["useradd", "-M", "-N", "-g", GROUP, "-s", "/usr/sbin/nologin", user]
            subprocess.run(args, check=True, capture_output=True)
    probe = subprocess.run(
        ["setpriv", f"--reuid={USERS[0]}", f"--regid={GROUP}", "--clear-groups",
         "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search", sys.executable,
         "-c", "import os; print(os.geteuid())"],
        capture_output=True, text=True,
    )  # fmt: skip
    return probe.returncode == 0 and probe.stdout.strip() != "0"


class Team:
    """A world whose cache is shared by the group, and one install dir and home per user."""

    def __init__(self, world: World) -> None:
        import grp
        import pwd

        self.world = world
        self.gid = grp.getgrnam(GROUP).gr_gid
        self.cache = world.root / "team-cache"
        self.cache.mkdir()
        os.chown(self.cache, 0, self.gid)
        self.cache.chmod(0o2775)  # the team's folder: group-writable, setgid
        for user in USERS:
            uid = pwd.getpwnam(user).pw_uid
            for name in ("home", "installs", "bin"):
                path = world.root / f"{name}-{user}"
                path.mkdir()
                os.chown(path, uid, self.gid)

    def command(self, user: str, *args: str) -> list[str]:
        root = self.world.root
        return [
            "setpriv", f"--reuid={user}", f"--regid={GROUP}", "--clear-groups",
            "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search",
            sys.executable, "-m", "tui", "--cache-dir", str(self.cache),
            "--install-dir", str(root / f"installs-{user}"), "--bin-dir", str(root / f"bin-{user}"),
            "--catalog", str(self.world.catalog_path), *args,
        ]  # fmt: skip

    def env(self, user: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "XDG_"))}
        return {**env, "HOME": str(self.world.root / f"home-{user}"), "PYTHONPATH": str(REPO)}

    def run(self, user: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(user, *args), capture_output=True, text=True, env=self.env(user),
            cwd=REPO, timeout=300,
        )  # fmt: skip


@pytest.fixture
def team(world: World) -> Team:
    if not _have_users():
        pytest.skip("needs root, useradd and setpriv to run pyshelf as two real users")
    return Team(world)


def test_two_users_share_one_cache(team: Team) -> None:
    a, b = USERS
    done = team.run(a, "fetch", "3.12.7")
    assert done.returncode == 0, done.stderr
    for args in (["--offline", "install", "3.12.7"], ["--offline", "reinstall", "-y", "3.12.7"]):
        done = team.run(b, *args)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
    assert (team.world.root / f"installs-{b}" / K127 / "bin" / "python3.12").is_file()
    done = team.run(b, "--offline", "list", "--json")
    assert done.returncode == 0, done.stderr
    done = team.run(b, "fetch", "3.11.9")  # into folders user a made
    assert done.returncode == 0, done.stderr
    done = team.run(a, "--offline", "install", "3.11.9")  # from what user b fetched
    assert done.returncode == 0, done.stderr
    for dirpath, dirnames, filenames in os.walk(team.cache):
        unpacked = Path(dirpath).relative_to(team.cache).parts[1:2] == ("unpacked",)
        for name in dirnames:
            mode = os.lstat(os.path.join(dirpath, name)).st_mode
            if not unpacked:  # a copy is one user's own: its tree keeps the archive's modes
                assert mode & 0o070 == 0o070, (dirpath, name, oct(mode))
        for name in filenames:
            path = os.path.join(dirpath, name)
            mode = os.lstat(path).st_mode
            if name.endswith(".lock"):
                assert mode & 0o777 == 0o666, (path, oct(mode))
            elif not unpacked and Path(dirpath).name != "builds":  # records: each user's own
                assert mode & 0o040, (path, oct(mode))  # the group can read it


def test_a_partial_download_another_user_left_is_resumed(team: Team) -> None:
    import pwd

    a, b = USERS
    key = "cpython-3.11.9-linux-x86_64-gnu"
    assert team.run(a, "fetch", "3.12.7").returncode == 0  # user a makes .pyshelf/partial
    shelf = team.world.shelf(cache_dir=team.cache)
    build = next(e for e in shelf.entries() if e.key == key).build
    data = team.world.spec(key).path.read_bytes()
    # User a was killed half-way through 3.11.9: its partial file stays, a's own.
    partial = shelf.cache.partial_for(build)
    partial.write_bytes(data[: len(data) // 2])
    os.chown(partial, pwd.getpwnam(a).pw_uid, team.gid)
    partial.chmod(0o664)
    done = team.run(b, "fetch", "3.11.9")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert shelf.cache.path_for(build).read_bytes() == data
    assert not partial.exists()

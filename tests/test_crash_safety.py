"""A pyshelf killed (SIGKILL) at any step of install, reinstall or uninstall leaves a tree that
the next command repairs: links that resolve, installs that have them, no scratch, and uv
listing exactly the installs present.

Each crash runs in a forked child that counts the steps that change the install dir (renames,
exchanges, link and unlink calls, tree deletions) and kills itself at the Nth, for every N.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import World
from tests.pbs_fixtures import ArchiveSpec, make_archive
from tests.uvtool import run_uv
from tui.engine import fsutil
from tui.engine.builds import Build
from tui.engine.installs import installdir as installs_module
from tui.engine.installs.installdir import InstallDir, scan_installations
from tui.engine.installs.unpacked import UnpackedStore

STEPS = ("rename", "replace", "symlink", "unlink")  # os.*; plus tree deletions and exchange_paths


def build_of(spec: ArchiveSpec) -> Build:
    return Build(
        spec.implementation, spec.major, spec.minor, spec.patch, spec.prerelease, spec.variant,
        spec.os, spec.arch, spec.libc, spec.build, url=None, sha256=spec.sha256,
    )  # fmt: skip


def _hook_steps(kill_at: int | None, exchange: bool, trace: list[tuple[str, str]]) -> None:
    """In the child: record each step (not those nested in another), die at step ``kill_at``."""
    depth = 0

    def wrap(name: str, real: Callable[..., object]) -> Callable[..., object]:
        def step(*args: object, **kwargs: object) -> object:
            nonlocal depth
            if depth:
                return real(*args, **kwargs)
            trace.append((name, str(args[0]) if args else ""))
            if len(trace) == kill_at:
                if name == "rmtree":  # die halfway through deleting the tree
                    first = sorted(Path(str(args[0])).iterdir())[0]
                    real(first) if first.is_dir() else first.unlink()
                os.kill(os.getpid(), signal.SIGKILL)
            depth += 1
            try:
                return real(*args, **kwargs)
            finally:
                depth -= 1

        return step

    for name in STEPS:
        setattr(os, name, wrap(name, getattr(os, name)))
    shutil.rmtree = wrap("rmtree", shutil.rmtree)  # type: ignore[assignment]
    fsutil.remove_tree = wrap("rmtree", fsutil.remove_tree)  # type: ignore[assignment]
    real_exchange = installs_module.exchange_paths if exchange else (lambda a, b: False)
    installs_module.exchange_paths = wrap("exchange", real_exchange)  # type: ignore[assignment]


def run_killed(
    action: Callable[[], object], kill_at: int | None, exchange: bool
) -> list[tuple[str, str]] | None:
    """Run ``action`` in a forked child killed at step ``kill_at``; returns the steps it took
    (with ``kill_at=None``: (function, first argument) each), or None when it was killed."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.close(read_end)
            trace: list[tuple[str, str]] = []
            _hook_steps(kill_at, exchange, trace)
            action()
            os.write(write_end, json.dumps(trace).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read_end) as pipe:
        steps = pipe.read()
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL
        return None
    assert os.WEXITSTATUS(status) == 0, "the action failed before any crash"
    return [tuple(step) for step in json.loads(steps)]


@dataclass
class Dirs:
    root: Path
    bin_dir: Path

    @property
    def installs(self) -> InstallDir:
        return InstallDir(self.root, self.bin_dir, lock_timeout=10)

    def cli(self, world: World, *args: str) -> tuple[int, str, str]:
        return world.cli(*args, "--install-dir", str(self.root), "--bin-dir", str(self.bin_dir))


def assert_consistent(dirs: Dirs, *, uv_env: dict[str, str] | None) -> set[str]:
    """The tree is one a finished command could leave; returns the keys installed."""
    root, bin_dir = dirs.root, dirs.bin_dir
    installs = {i.key: i for i in scan_installations(root)}
    scratch = [
        str(p)
        for folder in (root, root / ".temp", bin_dir)
        if folder.is_dir()
        for p in folder.iterdir()
        if ".pyshelf-" in p.name
    ]
    assert scratch == []
    newest: dict[str, str] = {}
    for inst in installs.values():
        best = newest.get(inst.minor_link_name)
        if best is None or inst.parts.sort_key() > installs[best].parts.sort_key():
            newest[inst.minor_link_name] = inst.key
    links = {p.name: os.readlink(p) for p in root.iterdir() if p.is_symlink()}
    for name, target in links.items():  # every minor link: to the newest install of its minor
        assert newest.get(name) is not None, f"{name} -> {target} is left over"
        assert target == str(root / newest[name]), f"{name} -> {target}"
    for minor, key in newest.items():  # every install: its minor link and its bin link
        if installs[key].parts.has_minor_link:
            assert minor in links, f"{key} has no {minor}"
        exe = bin_dir / installs[key].parts.executable_name
        assert exe.is_symlink() and exe.exists(), f"{key} has no {exe.name}"
    for exe in bin_dir.iterdir() if bin_dir.is_dir() else []:
        if not os.readlink(exe).startswith(f"{root}/"):
            continue  # another tool's
        real = Path(os.path.realpath(exe))
        assert real.exists() and real.parent.parent.name in installs, f"{exe} -> {real}"
        assert installs[real.parent.parent.name].parts.executable_name == exe.name
    if uv_env is not None:
        out = run_uv(
            "python", "list", "--only-installed", "--managed-python", "--output-format", "json",
            env={**uv_env, "UV_PYTHON_INSTALL_DIR": str(root), "UV_PYTHON_BIN_DIR": str(bin_dir)},
        ).stdout  # fmt: skip
        assert {item["key"] for item in json.loads(out)} == set(installs)
    return set(installs)


@dataclass(frozen=True)
class Case:
    name: str
    start: tuple[str, ...]  # keys installed before the command
    command: str  # "install KEY", "uninstall KEY"
    next_args: tuple[str, ...]  # the CLI command run after the crash
    may_end: tuple[frozenset[str], ...]  # the installs the crashed command may leave
    exchange: bool = True


def _matrix(
    world: World,
    cases: list[Case],
    tree_of: dict[str, Path],
    uv_env: dict[str, str] | None,
    tmp: Path,
) -> int:
    builds = {s.key: build_of(s) for s in world.specs}
    runs = 0
    for case in cases:

        def start(dirs: Dirs, case: Case = case) -> None:
            for key in case.start:
                dirs.installs.install_from_tree(tree_of[key], builds[key], run_check=False)

        def command(dirs: Dirs, case: Case = case) -> None:
            verb, key = case.command.split()
            if verb == "install":
                dirs.installs.install_from_tree(tree_of[key], builds[key])
            else:
                dirs.installs.uninstall(key)

        probe = Dirs(tmp / case.name / "count" / "python", tmp / case.name / "count" / "bin")
        start(probe)
        trace = run_killed(lambda probe=probe, command=command: command(probe), None, case.exchange)
        assert trace is not None and len(trace) > 2, case
        steps = len(trace)
        # One place for every run of a case: uv's cache of what it learnt by running an
        # interpreter is kept by path, and running a fresh one costs uv a second.
        dirs = Dirs(tmp / case.name / "python", tmp / case.name / "bin")
        for n in range(1, steps + 1):
            shutil.rmtree(dirs.root, ignore_errors=True)
            shutil.rmtree(dirs.bin_dir, ignore_errors=True)
            start(dirs)
            killed = run_killed(lambda d=dirs, c=command: c(d), n, case.exchange)
            assert killed is None, f"{case.name}: step {n} of {steps} not reached"
            # What the next command does first; alone, it already leaves a consistent tree
            # with the installs from before or after the command, never half of one.
            dirs.installs.repair()
            left = assert_consistent(dirs, uv_env=None)
            assert frozenset(left) in case.may_end, f"{case.name} killed at {n}: {left}"
            _, _, err = dirs.cli(world, *case.next_args)
            assert "Traceback" not in err and "unexpected" not in err, err
            assert_consistent(dirs, uv_env=uv_env)
            runs += 1
    return runs


# -- the real interpreter: uv reads every tree -----------------------------------------------


def test_a_kill_at_any_step_is_repaired_by_the_next_command(
    real_world: World, real_pbs_archive: ArchiveSpec, tmp_path: Path
) -> None:
    spec = real_pbs_archive
    key = spec.key
    minor = f"{spec.major}.{spec.minor}"
    tree = UnpackedStore(tmp_path / "unpacked").add(spec.path, spec.sha256)
    uv_env = {
        "UV_PYTHON_DOWNLOADS_JSON_URL": str(real_world.catalog_path),
        "UV_PYTHON_CACHE_DIR": str(tmp_path / "uv-cache"),
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
        "UV_OFFLINE": "1",
        "UV_PYTHON_DOWNLOADS": "never",
        # uv looks at every python on PATH even for --managed-python; pyenv's shims take a
        # second. The installs it is asked about are not on PATH.
        "PATH": "/nonexistent",
    }
    none, one = frozenset(), frozenset({key})
    cases = [
        Case("install", (), f"install {key}", ("install", minor), (none, one)),
        Case("reinstall", (key,), f"install {key}", ("install", minor), (one,)),
        Case("reinstall-no-exchange", (key,), f"install {key}", ("install", minor), (one,),
             exchange=False),
        Case("uninstall", (key,), f"uninstall {key}", ("uninstall", minor), (none, one)),
    ]  # fmt: skip
    started = time.monotonic()
    runs = _matrix(real_world, cases, {key: tree}, uv_env, tmp_path / "runs")
    assert runs >= 20
    print(f"{runs} crashes repaired in {time.monotonic() - started:.1f}s")


# -- two patches of one minor: the minor link moves between them -----------------------------


def test_a_kill_while_the_minor_link_moves_is_repaired(world: World, tmp_path: Path) -> None:
    new, old = "cpython-3.12.7-linux-x86_64-gnu", "cpython-3.12.6-linux-x86_64-gnu"
    trees = {
        key: UnpackedStore(tmp_path / "unpacked").add(world.spec(key).path, world.spec(key).sha256)
        for key in (new, old)
    }
    both, only_old = frozenset({new, old}), frozenset({old})
    cases = [
        Case("newer-patch", (old,), f"install {new}", ("install", "3.12.7"), (only_old, both)),
        Case("newer-patch-no-exchange", (old, new), f"install {new}", ("install", "3.12.7"),
             (both,), exchange=False),
        Case("newest-goes", (old, new), f"uninstall {new}", ("install", "3.12.6"),
             (only_old, both)),
    ]  # fmt: skip
    # uv lists only interpreters it can run, and these are shell scripts: no uv here.
    assert _matrix(world, cases, trees, None, tmp_path / "runs") >= 10


def test_already_installed_gets_its_links_back(world: World) -> None:
    """The issue's case: killed inside the minor-link update of a first install, then
    ``pyshelf install`` said "already installed" and left the install without links."""
    dirs = Dirs(world.root / "installs", world.root / "bin")
    spec = world.spec("cpython-3.12.7-linux-x86_64-gnu")
    tree = UnpackedStore(world.root / "u").add(spec.path, spec.sha256)
    probe = Dirs(world.root / "probe" / "installs", world.root / "probe" / "bin")
    trace = run_killed(lambda: probe.installs.install_from_tree(tree, build_of(spec)), None, True)
    assert trace is not None
    # The first step in the minor-link update: its new link, made beside the final name.
    minor_link = str(probe.root / ".cpython-3.12-linux-x86_64-gnu.pyshelf-")
    n = 1 + next(i for i, (name, arg) in enumerate(trace) if arg.startswith(minor_link))
    assert (
        run_killed(lambda: dirs.installs.install_from_tree(tree, build_of(spec)), n, True) is None
    )
    assert (dirs.root / spec.key).is_dir() and not (
        dirs.root / "cpython-3.12-linux-x86_64-gnu"
    ).is_symlink()
    code, _, err = dirs.cli(world, "install", "3.12")
    assert code == 0 and "already installed" in err, err
    assert os.path.realpath(dirs.bin_dir / "python3.12") == str(
        dirs.root / spec.key / "bin" / "python3.12"
    )
    assert_consistent(dirs, uv_env=None)


def test_a_repair_pass_reads_only_the_top_of_the_install_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten installs, their links, a bin dir with other tools' entries: a tree a finished
    command left is left as it is, and the pass that starts every writing command lists the
    install dir, its scratch folder and the bin dir only, never an install's own tree. (How
    long it takes is the bench's business: ``python bench/bench.py`` prints it.)"""
    dirs = Dirs(tmp_path / "python", tmp_path / "bin")
    for minor in range(4, 14):
        spec = make_archive(tmp_path / "a", version=f"3.{minor}.1", payload_kib=1)
        dirs.installs.install(spec.path, build_of(spec))
    for n in range(40):
        (dirs.bin_dir / f"tool{n}").symlink_to("/usr/bin/env")
    idir = dirs.installs
    assert idir.repair() == ()
    listed: list[Path] = []
    scandir, listdir, walk = os.scandir, os.listdir, os.walk

    def noted(real: Callable[..., object]) -> Callable[..., object]:
        def call(path: object = ".", *args: object, **kwargs: object) -> object:
            listed.append(Path(os.fsdecode(path)))  # type: ignore[arg-type]
            return real(path, *args, **kwargs)

        return call

    monkeypatch.setattr(os, "scandir", noted(scandir))
    monkeypatch.setattr(os, "listdir", noted(listdir))
    monkeypatch.setattr(os, "walk", noted(walk))
    assert idir.repair() == ()
    monkeypatch.undo()
    assert listed and set(listed) <= {dirs.root, idir.temp_dir, dirs.bin_dir}, listed
    assert_consistent(dirs, uv_env=None)


def test_links_left_dangling_by_a_killed_uninstall_go_with_the_next_command(
    world: World,
) -> None:
    """The issue's other case: killed right after an uninstall renamed the install aside, the
    minor link and python3.12 dangled, and no later command repaired them."""
    dirs = Dirs(world.root / "installs", world.root / "bin")
    spec = world.spec("cpython-3.12.7-linux-x86_64-gnu")
    assert dirs.cli(world, "install", "3.12")[0] == 0
    probe = Dirs(world.root / "probe" / "installs", world.root / "probe" / "bin")
    assert probe.cli(world, "install", "3.12")[0] == 0
    trace = run_killed(lambda: probe.installs.uninstall(spec.key), None, True)
    assert trace is not None
    n = 1 + next(
        i for i, step in enumerate(trace) if step == ("rename", str(probe.root / spec.key))
    )
    assert run_killed(lambda: dirs.installs.uninstall(spec.key), n + 1, True) is None
    minor_link = dirs.root / "cpython-3.12-linux-x86_64-gnu"
    assert minor_link.is_symlink() and not minor_link.exists()  # dangling, as in the issue
    code, _, err = dirs.cli(world, "uninstall", "3.12")
    assert code == 1 and "no build matches" in err  # nothing left to uninstall...
    assert not os.path.lexists(minor_link)  # ...but the command repaired the tree first
    assert not os.path.lexists(dirs.bin_dir / "python3.12")
    assert os.listdir(dirs.root / ".temp") == []
    assert_consistent(dirs, uv_env=None)

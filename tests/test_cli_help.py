"""What the CLI says besides its results: each command's --help, counts, and colour."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import World, build_world
from tests.loopback import LoopbackServer
from tui.cli.main import main
from tui.cli.parser import _GLOBAL_OPTIONS, build_parser

COMMANDS = sorted(
    next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
)
GLOBAL_FLAGS = [flag for flag, _, _ in _GLOBAL_OPTIONS]


def help_of(*args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*args, "--help"]) == 0
    return out.getvalue()


@pytest.mark.parametrize("command", COMMANDS)
def test_a_commands_help_shows_its_own_options_and_points_at_the_global_ones(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    *own, hint = help_of(command).rstrip().splitlines()
    assert hint == "Global options (--offline, --cache-dir, ...): see pyshelf --help."
    assert not [flag for flag in GLOBAL_FLAGS if flag in "\n".join(own)], own


def test_pyshelf_help_lists_the_global_options_and_install_is_short() -> None:
    text = help_of()
    assert all(flag in text for flag in GLOBAL_FLAGS)
    assert len(help_of("install").splitlines()) < 30  # it was 40 lines, 11 options not its own


def test_global_options_still_work_after_the_command(world: World) -> None:
    code, out, err = world.cli("dir", "--cache-dir", str(world.root / "elsewhere"), "--cache")
    assert (code, out) == (0, f"{world.root / 'elsewhere'}\n"), err


def test_counts_read_singular_and_plural(world: World, tmp_path: Path) -> None:
    assert world.cli("fetch", "3.11")[0] == 0
    code, _, err = world.cli("verify")
    assert code == 0 and "verified 1 archive and 0 unpacked copies: all match" in err
    assert world.cli("install", "3.12.6")[0] == 0
    minor_link = world.root / "installs" / "cpython-3.12-linux-x86_64-gnu" / "bin"
    envs = tmp_path / "envs"
    (envs / "a" / ".venv").mkdir(parents=True)
    (envs / "a" / ".venv" / "pyvenv.cfg").write_text(f"home = {minor_link}\n")
    code, _, err = world.cli("upgrade", "--dry-run", "--venv-dir", str(envs))
    assert code == 0 and "  1 environment follows the minor link" in err, err
    (envs / "b" / ".venv").mkdir(parents=True)
    (envs / "b" / ".venv" / "pyvenv.cfg").write_text(f"home = {minor_link}\n")
    code, _, err = world.cli("upgrade", "--dry-run", "--venv-dir", str(envs))
    assert code == 0 and "  2 environments follow the minor link" in err, err


def test_doctor_counts_one_build(tmp_path: Path, loopback_server: LoopbackServer) -> None:
    world = build_world(tmp_path, loopback_server, [{"version": "3.12.7", "build": "20991230"}])
    code, out, err = world.cli("doctor")
    assert code == 0, err
    assert re.search(r"catalog .* 1 build in \d+ ms", out), out


SGR = re.compile(rb"\x1b\[[0-9;]*m")  # a colour or style: what NO_COLOR turns off


def _in_a_terminal(args: list[str], env: dict[str, str], cwd: Path) -> bytes:
    """The CLI's stdout and stderr, run with both on a pseudo-terminal."""
    parent, child = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "tui", *args], stdin=subprocess.DEVNULL, stdout=child,
        stderr=child, env=env, cwd=cwd,
    ) as proc:  # fmt: skip
        os.close(child)
        chunks = []
        while True:
            try:
                chunk = os.read(parent, 65536)
            except OSError:  # EIO: the child closed its side
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=120) == 0, b"".join(chunks)
    os.close(parent)
    return b"".join(chunks)


def test_no_color_means_no_colour_on_a_terminal(world: World, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "PYTHON_COLORS")}
    env |= {"NO_COLOR": "1", "TERM": "xterm-256color", "COLUMNS": "100"}
    where = [
        "--cache-dir", str(world.root / "cache"), "--install-dir", str(world.root / "installs"),
        "--bin-dir", str(world.root / "bin"), "--catalog", str(world.catalog_path),
    ]  # fmt: skip
    repo = Path(__file__).resolve().parent.parent
    env["PYTHONPATH"] = str(repo)
    shown = _in_a_terminal(["--help"], env, tmp_path) + _in_a_terminal(
        ["install", "--help"], env, tmp_path
    )
    assert b"global options" in shown and not SGR.search(shown)
    fetched = _in_a_terminal([*where, "fetch", "3.12", "3.11"], env, tmp_path)
    assert b"\x1b[2K" in fetched  # live progress: a terminal it was
    assert not SGR.search(fetched)

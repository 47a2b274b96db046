"""libpython's install name on macOS, as uv sets it: ``install_name_tool -id`` on a fresh copy
of the dylib, never on the file the install shares with its unpacked copy.

Run on Linux with the system simulated (``hostos.system``) and a fake ``install_name_tool``
on PATH that records its arguments and rewrites the file it is given. The world's builds are
Linux ones: their ``linux`` counts as an Apple system here, which is all the fix looks at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import World, build_world
from tests.loopback import LoopbackServer
from tests.pbs_fixtures import _file
from tui.engine import hostos
from tui.engine.installs import macos_dylib
from tui.engine.installs.keys import parse_key

DYLIB = "libpython3.12.dylib"
ORIGINAL = b"\xcf\xfa\xed\xfe fake Mach-O, install name /install/lib/libpython3.12.dylib\n" * 64
KEY = "cpython-3.12.7-linux-x86_64-gnu"


class FakeTool:
    def __init__(self, folder: Path, script: str) -> None:
        folder.mkdir()
        self.log = folder / "calls.log"
        tool = folder / "install_name_tool"
        tool.write_text(script.replace("LOG", str(self.log)))
        tool.chmod(0o755)
        self.folder = folder

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        text = self.log.read_text()
        return [call.split("\n") for call in text.split("\n---\n") if call]


# One argument a line, a line of dashes after each call; the file (the last argument) gets
# its new name appended, as a stand-in for the rewritten header.
_RECORDING = """#!/bin/sh
for arg; do printf '%s\\n' "$arg" >> "LOG"; done
printf -- '---\\n' >> "LOG"
for last; do :; done
printf 'id=%s\\n' "$2" >> "$last"
"""
_FAILING = """#!/bin/sh
echo "install_name_tool: error: cannot write the header" >&2
exit 1
"""


@pytest.fixture
def on_a_mac(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hostos, "system", lambda: hostos.MACOS)
    monkeypatch.setattr(macos_dylib, "APPLE_SYSTEMS", frozenset({"macos", "ios", "linux"}))


def _tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str = _RECORDING) -> FakeTool:
    tool = FakeTool(tmp_path / "tools", script)
    monkeypatch.setenv("PATH", f"{tool.folder}{os.pathsep}{os.environ.get('PATH', '')}")
    return tool


@pytest.fixture
def mac_world(tmp_path: Path, loopback_server: LoopbackServer) -> World:
    dylib = _file(f"python/lib/{DYLIB}", ORIGINAL, 0o755)
    return build_world(tmp_path, loopback_server, [{"version": "3.12.7", "extra_members": [dylib]}])


def _copy_dylib(world: World) -> tuple[Path, str]:
    shelf = world.shelf()
    entry = next(e for e in shelf.entries() if e.key == KEY)
    sha = entry.build.sha256
    assert sha is not None
    tree = shelf.unpacked.get(sha)
    assert tree is not None
    return tree / "lib" / DYLIB, sha


def _losses_none(world: World) -> bool:
    shelf = world.shelf()
    entry = next(e for e in shelf.entries() if e.key == KEY)
    return shelf.reinstall_losses(entry).none


@pytest.mark.usefixtures("on_a_mac")
def test_the_install_gets_its_own_patched_dylib_and_the_copy_stays_true(
    mac_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = _tool(tmp_path, monkeypatch)
    assert mac_world.cli("install", "3.12")[0] == 0
    install = mac_world.root / "installs" / KEY
    final = install / "lib" / DYLIB
    [call] = tool.calls()
    assert call[:2] == ["-id", str(final)]  # the name is the install's real place
    target = Path(call[2])  # a fresh copy beside the dylib, in the install being made
    assert target.parent.name == "lib" and target.name.startswith(f".{DYLIB}.pyshelf-")
    assert final.read_bytes() == ORIGINAL + f"id={final}\n".encode()
    assert final.stat().st_nlink == 1 and os.access(final, os.X_OK)
    assert [p.name for p in final.parent.iterdir() if p.name.startswith(".")] == []

    copy, sha = _copy_dylib(mac_world)
    assert copy.read_bytes() == ORIGINAL and copy.stat().st_ino != final.stat().st_ino
    shelf = mac_world.shelf()
    assert shelf.unpacked.check(sha) is None and shelf.unpacked.verify(sha) == []
    assert (install / "lib" / "python3.12" / "os.py").stat().st_nlink > 1  # the rest shared
    assert _losses_none(mac_world)  # the patched dylib is not a user's edit

    # A reinstall links the copy again and patches again; still nothing lost, copy intact.
    assert mac_world.cli("reinstall", "3.12", "--yes")[0] == 0
    assert len(tool.calls()) == 2
    assert final.read_bytes() == ORIGINAL + f"id={final}\n".encode()
    assert _losses_none(mac_world) and shelf.unpacked.verify(sha) == []

    # An install a request finds already there is patched again, as uv does.
    assert shelf.installs.relink(KEY, link_bin=False) == ()
    *_, again = tool.calls()
    assert again[:2] == ["-id", str(final)] and Path(again[2]).parent == final.parent
    assert final.read_bytes() == ORIGINAL + f"id={final}\n".encode() * 2
    assert _losses_none(mac_world)


@pytest.mark.usefixtures("on_a_mac")
def test_a_missing_tool_is_a_warning_and_the_dylib_stays_shared(
    mac_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", f"{empty}{os.pathsep}/bin{os.pathsep}/usr/bin")
    code, _, err = mac_world.cli("install", "3.12")
    assert code == 0
    assert "install_name_tool is missing" in err and "xcode-select --install" in err
    final = mac_world.root / "installs" / KEY / "lib" / DYLIB
    copy, _ = _copy_dylib(mac_world)
    assert final.read_bytes() == ORIGINAL and final.stat().st_ino == copy.stat().st_ino
    assert [p.name for p in final.parent.iterdir() if p.name.startswith(".")] == []
    assert _losses_none(mac_world)


@pytest.mark.usefixtures("on_a_mac")
def test_a_failing_tool_leaves_the_dylib_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tool(tmp_path, monkeypatch, _FAILING)
    tree = tmp_path / "tree"
    (tree / "lib").mkdir(parents=True)
    (tree / "lib" / DYLIB).write_bytes(ORIGINAL)
    parts = parse_key(KEY)
    assert parts is not None
    warning = macos_dylib.ensure_dylib_patched(tree, tmp_path / "final", parts)
    assert warning is not None and "cannot write the header" in warning and KEY in warning
    assert (tree / "lib" / DYLIB).read_bytes() == ORIGINAL
    assert os.listdir(tree / "lib") == [DYLIB]
    # A dylib that is missing, or not a regular file, is a warning too (uv's tool fails).
    (tree / "lib" / DYLIB).unlink()
    assert "missing" in (macos_dylib.ensure_dylib_patched(tree, tree, parts) or "")
    (tree / "lib" / DYLIB).symlink_to("/etc/hostname")
    assert "not a regular file" in (macos_dylib.ensure_dylib_patched(tree, tree, parts) or "")


def test_only_cpython_for_apple_on_a_mac(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tool = _tool(tmp_path, monkeypatch)
    tree = tmp_path / "tree"
    (tree / "lib").mkdir(parents=True)
    for name in ("libpython3.12.dylib", "libpython3.13t.dylib"):
        (tree / "lib" / name).write_bytes(ORIGINAL)
    mac = parse_key("cpython-3.12.7-macos-aarch64-none")
    assert mac is not None
    assert macos_dylib.ensure_dylib_patched(tree, tree, mac) is None  # on Linux: nothing
    monkeypatch.setattr(hostos, "system", lambda: hostos.MACOS)
    for key in ("pypy-3.10.14-macos-aarch64-none", "cpython-3.12.7-linux-aarch64-gnu"):
        parts = parse_key(key)
        assert parts is not None
        assert macos_dylib.ensure_dylib_patched(tree, tree, parts) is None
    assert tool.calls() == []
    assert macos_dylib.ensure_dylib_patched(tree, tree, mac) is None
    threaded = parse_key("cpython-3.13.1+freethreaded-macos-x86_64-none")
    assert threaded is not None
    assert macos_dylib.ensure_dylib_patched(tree, tree, threaded) is None
    assert [call[:2] for call in tool.calls()] == [
        ["-id", str(tree / "lib" / "libpython3.12.dylib")],
        ["-id", str(tree / "lib" / "libpython3.13t.dylib")],
    ]
    debug = parse_key("cpython-3.13.1+freethreaded+debug-macos-x86_64-none")
    assert debug is not None and macos_dylib.dylib_name(debug) == "libpython3.13td.dylib"

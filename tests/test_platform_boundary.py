"""What differs between systems stays in ``tui/engine/platform``: no other module imports
``fcntl``, ``msvcrt`` or ``ctypes``, or uses an ``os.O_*`` flag one of the systems lacks
(``os.O_NOFOLLOW`` does not exist on Windows: reading it at import time fails there).

The modules not converted yet are listed with the part of the engine that owns them; when one
is converted, this test says to take it off the list."""

from __future__ import annotations

import ast
from pathlib import Path

import tui

ROOT = Path(tui.__file__).parent
PLATFORM = ROOT / "engine" / "platform"
SYSTEM_MODULES = {"fcntl", "msvcrt", "ctypes", "winreg", "_winapi"}
# Flags every system has; any other os.O_* is for the platform layer to give (or 0).
PORTABLE_FLAGS = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_CREAT", "O_EXCL", "O_TRUNC", "O_APPEND"}

# module -> what it still uses, while it waits to be converted to tui.engine.platform.
NOT_CONVERTED_YET: dict[str, str] = {}


def _uses(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names} & SYSTEM_MODULES
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module.split(".")[0]} & SYSTEM_MODULES
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and node.attr.startswith("O_")
            and node.attr not in PORTABLE_FLAGS
        ):
            found.add(f"os.{node.attr}")
    return found


def test_only_the_platform_layer_touches_what_differs_between_systems() -> None:
    offenders = {}
    for path in sorted(ROOT.rglob("*.py")):
        if path.is_relative_to(PLATFORM):
            continue
        if uses := _uses(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            offenders[path.relative_to(ROOT).as_posix()] = sorted(uses)
    unexpected = {m: u for m, u in offenders.items() if m not in NOT_CONVERTED_YET}
    assert not unexpected, f"use tui.engine.platform instead: {unexpected}"
    converted = set(NOT_CONVERTED_YET) - set(offenders)
    assert not converted, f"converted: take them off NOT_CONVERTED_YET: {sorted(converted)}"


def test_the_check_sees_what_it_looks_for() -> None:
    source = "import fcntl\nfrom ctypes import wintypes\nimport os\nf = os.O_NOFOLLOW | os.O_RDONLY"
    assert _uses(ast.parse(source)) == {"fcntl", "ctypes", "os.O_NOFOLLOW"}

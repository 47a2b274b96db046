"""Fix-ups uv applies after unpacking a python-build-standalone build, so installs match.

python-build-standalone records its build prefix (``/install``) in ``_sysconfigdata_*.py`` and
in pkg-config files; uv rewrites both to the real location and marks the interpreter as
externally managed. Every file is replaced with a new inode, never edited in place, because an
install may share its files with the unpacked copy in the cache through hard links.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from tui.engine.fsutil import atomic_write_bytes

BUILD_PREFIX = "/install"
EXTERNALLY_MANAGED = (
    "[externally-managed]\n"
    "Error=This Python installation is managed by uv and should not be modified."
)
_PC_PREFIX = re.compile(rb"^prefix=/install$", re.MULTILINE)


def _replace_prefix(value: object, prefix: str) -> object:
    if not isinstance(value, str) or BUILD_PREFIX not in value:
        return value
    # Only whole path components: "/install" and "/install/...", not "/installer".
    return re.sub(r"/install(?=/|\s|$|\")", prefix, value)


def patch_sysconfigdata(path: Path, prefix: str) -> bool:
    """Point the build-time variables at ``prefix``; False when the file is not one we know."""
    text = path.read_text(encoding="utf-8")
    head, sep, body = text.partition("build_time_vars = ")
    if not sep:
        return False
    try:
        data = ast.literal_eval(body.strip())
    except (ValueError, SyntaxError):
        return False
    if not isinstance(data, dict):
        return False
    patched = {key: _replace_prefix(value, prefix) for key, value in data.items()}
    patched["PYTHON_BUILD_STANDALONE"] = 1
    source = f"{head}build_time_vars = {json.dumps(patched, indent=4, sort_keys=True)}\n"
    atomic_write_bytes(path, source.encode("utf-8"))
    return True


def patch_pkgconfig(path: Path) -> None:
    data = path.read_bytes()
    fixed = _PC_PREFIX.sub(rb"prefix=${pcfiledir}/../..", data)
    if fixed != data:
        atomic_write_bytes(path, fixed)


def patch_installation(tree: Path, final: Path, implementation: str) -> None:
    """Apply uv's fix-ups to an unpacked CPython ``tree`` that will live at ``final``."""
    if implementation != "cpython":
        return
    lib = tree / "lib"
    for stdlib in lib.glob("python3*"):
        if not stdlib.is_dir() or stdlib.is_symlink():
            continue
        for data in stdlib.glob("_sysconfigdata_*.py"):
            patch_sysconfigdata(data, str(final))
        if (stdlib / "os.py").exists():
            atomic_write_bytes(stdlib / "EXTERNALLY-MANAGED", EXTERNALLY_MANAGED.encode())
    for pc in (lib / "pkgconfig").glob("*.pc"):
        if pc.is_file() and not pc.is_symlink():
            patch_pkgconfig(pc)

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

# The builds name the compilers of their build machines (clang, cross gcc); extensions built
# later must use this machine's ``cc``/``c++``, as uv arranges. The first word is replaced.
_CROSS = ("arm-linux-gnueabi", "arm-linux-gnueabihf", "mips-linux-gnu", "mipsel-linux-gnu",
          "powerpc64le-linux-gnu", "riscv64-linux-gnu", "s390x-linux-gnu", "x86_64-linux-gnu",
          "aarch64-linux-gnu", "loongarch64-linux-gnu")  # fmt: skip
_C_COMPILERS = {"clang", "musl-clang", *(f"/usr/bin/{t}-gcc" for t in _CROSS)}
_CXX_COMPILERS = {"clang++", *(f"/usr/bin/{t}-g++" for t in _CROSS)}
_COMPILER_KEYS = {
    **dict.fromkeys(("CC", "BLDSHARED", "LDSHARED", "LINKCC"), (_C_COMPILERS, "cc")),
    **dict.fromkeys(("CXX", "LDCXXSHARED"), (_CXX_COMPILERS, "c++")),
}


def _local_compiler(key: str, value: object) -> object:
    if key == "AR" and isinstance(value, str):
        return "ar"
    if key not in _COMPILER_KEYS or not isinstance(value, str):
        return value
    known, replacement = _COMPILER_KEYS[key]
    first, sep, rest = value.partition(" ")
    return f"{replacement}{sep}{rest}" if first in known else value


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
    patched = {
        key: _local_compiler(key, _replace_prefix(value, prefix)) for key, value in data.items()
    }
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

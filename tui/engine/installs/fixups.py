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

from tui.engine.errors import ArchiveError
from tui.engine.fsutil import atomic_write_bytes, read_small
from tui.engine.installs.keys import WINDOWS, KeyParts

BUILD_PREFIX = "/install"
MAX_FIXUP_BYTES = 16 << 20  # a _sysconfigdata is about 50 KiB, a .pc file a few hundred bytes
# uv's file, byte for byte (managed.rs, ``EXTERNALLY_MANAGED``), on every platform.
EXTERNALLY_MANAGED = (
    "[externally-managed]\n"
    "Error=This Python installation is managed by uv and should not be modified.\n"
)
# A pkg-config variable that is exactly the build prefix, e.g. ``prefix=/install``.
_PC_PREFIX = re.compile(rb"^([A-Za-z]+)=/install$", re.MULTILINE)

# The builds name the compilers of their build machines (clang, cross gcc); extensions built
# later must use this machine's ``cc``/``c++``, as uv arranges: any word of these variables
# that names one of them is replaced, and ``AR`` becomes ``ar`` whatever it was.
_CROSS = ("aarch64-linux-gnu", "arm-linux-gnueabi", "arm-linux-gnueabihf",
          "loongarch64-linux-gnu", "mips-linux-gnu", "mipsel-linux-gnu", "powerpc64le-linux-gnu",
          "riscv64-linux-gnu", "s390x-linux-gnu", "x86_64-linux-gnu")  # fmt: skip
_C_COMPILERS = frozenset(
    ("clang", "musl-clang", "/usr/bin/riscv64-linux-gnu-clang",
     *(f"/usr/bin/{t}-gcc" for t in _CROSS))
)  # fmt: skip
_CXX_COMPILERS = frozenset(
    ("clang++", "/usr/bin/riscv64-linux-gnu-clang++", *(f"/usr/bin/{t}-g++" for t in _CROSS))
)
_COMPILER_KEYS = {
    **dict.fromkeys(("CC", "BLDSHARED", "LDSHARED", "LINKCC"), (_C_COMPILERS, "cc")),
    **dict.fromkeys(("CXX", "LDCXXSHARED"), (_CXX_COMPILERS, "c++")),
}


def _prefixed(word: str, prefix: str) -> str:
    """``word`` with the build prefix replaced, when the word is that path or one below it.

    Only a whole word that starts the path counts, as uv does it: ``/usr/bin/install`` and
    ``/installer`` are not the prefix, and neither is ``-L/install/lib`` (uv leaves it too).
    """
    if word == BUILD_PREFIX:
        return prefix
    if word.startswith(BUILD_PREFIX + "/"):
        return prefix + word[len(BUILD_PREFIX) :]
    return word


def _without_isysroot(words: list[str]) -> list[str]:
    """Drop ``-isysroot <sdk>`` (macOS builds name the build machine's SDK)."""
    out: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word == "-isysroot":
            skip = True
        else:
            out.append(word)
    return out


def patch_value(key: str, value: object, prefix: str) -> object:
    """One build-time variable as uv leaves it once the build lives at ``prefix``.

    uv works on whitespace-separated words and joins them with single spaces; a value with
    nothing to fix is returned as it was, so the only difference from uv is whitespace.
    """
    if not isinstance(value, str):
        return value
    if key == "AR":
        return "ar"
    words = value.split()
    patched = _without_isysroot([_prefixed(word, prefix) for word in words])
    if key in _COMPILER_KEYS:
        known, replacement = _COMPILER_KEYS[key]
        patched = [replacement if word in known else word for word in patched]
    return value if patched == words else " ".join(patched)


def patch_sysconfigdata(path: Path, prefix: str) -> bool:
    """Point the build-time variables at ``prefix``; False when the file is not one we know.

    The file comes from the archive: one that is not a small regular file of UTF-8 text
    fails the install with one line (an ArchiveError), as uv refuses it too.
    """
    try:
        text = read_small(path, MAX_FIXUP_BYTES, follow=False).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise ArchiveError(f"cannot fix up {path.name}: {why}") from None
    head, sep, body = text.partition("build_time_vars = ")
    if not sep:
        return False
    try:
        data = ast.literal_eval(body.strip())
    except (ValueError, SyntaxError):
        return False
    if not isinstance(data, dict):
        return False
    patched = {key: patch_value(key, value, prefix) for key, value in data.items()}
    patched["PYTHON_BUILD_STANDALONE"] = 1
    source = f"{head}build_time_vars = {json.dumps(patched, indent=4, sort_keys=True)}\n"
    atomic_write_bytes(path, source.encode("utf-8"))
    return True


def patch_pkgconfig(path: Path) -> None:
    try:
        data = read_small(path, MAX_FIXUP_BYTES, follow=False)
    except OSError as exc:
        raise ArchiveError(f"cannot fix up {path.name}: {exc.strerror or exc}") from None
    fixed = _PC_PREFIX.sub(rb"\1=${pcfiledir}/../..", data)
    if fixed != data:
        atomic_write_bytes(path, fixed)


def patch_installation(tree: Path, final: Path, parts: KeyParts) -> None:
    """Apply uv's fix-ups to an unpacked CPython ``tree`` that will live at ``final``; a build
    for Windows is only marked externally managed (see ``mark_windows_build``)."""
    if parts.os == WINDOWS:
        mark_windows_build(tree)
        return
    if parts.implementation != "cpython":
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


def mark_windows_build(tree: Path) -> None:
    """uv's ``ensure_externally_managed`` for a build for Windows: ``Lib\\EXTERNALLY-MANAGED``,
    whatever the implementation; its build-time variables are left as they are (uv patches
    them only for Linux and macOS). A tree without a ``Lib`` folder (uv's write would fail the
    install there) is left unmarked."""
    lib = tree / "Lib"
    if lib.is_dir() and not lib.is_symlink():
        atomic_write_bytes(lib / "EXTERNALLY-MANAGED", EXTERNALLY_MANAGED.encode())

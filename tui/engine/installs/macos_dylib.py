"""uv's install-name fix for CPython on macOS: ``install_name_tool -id`` on libpython.

python-build-standalone's ``lib/libpython3.12.dylib`` names itself by its build prefix
(``/install/lib/...``); after every install, and for an install a request finds already there,
uv sets that name to the file's real place so that extensions linked against it (Rust's PyO3)
find it (``ensure_dylib_patched`` in uv's ``managed.rs``, the tool run in ``macos_dylib.rs``).
CPython only, on a Mac only, for builds made for Apple systems; when the tool is missing
(it comes with Xcode's command line tools) or fails, the install goes on with a warning, as
uv's does.

An install may share the dylib with its unpacked copy through a hard link, so the tool never
touches that file: it rewrites a fresh copy made beside it, which is then renamed over it.
The unpacked copy keeps the archive's bytes and its manifest stays true; the install's dylib
is now its own file, which the reinstall-losses check does not take for an edit (an edit in
place is one to a file still shared with the copy).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from tui.engine import hostos
from tui.engine.fsutil import new_scratch_file, open_regular
from tui.engine.installs.keys import VARIANT_SUFFIX, KeyParts
from tui.engine.installs.links import OURS

TOOL = "install_name_tool"
APPLE_SYSTEMS = frozenset({"macos", "ios"})  # uv's is_like_darwin, in its keys' words
_TOOL_SECONDS = 120  # it rewrites one header; a hang must not hold uv's lock for ever
_MISSING = f"{TOOL} is missing (Xcode's command line tools have it: `xcode-select --install`)"


def dylib_name(parts: KeyParts) -> str:
    """``libpython3.12.dylib``, ``libpython3.13t.dylib``: uv's name for the key's library."""
    suffix = VARIANT_SUFFIX.get(parts.variant or "", "")
    return f"libpython{parts.major}.{parts.minor}{suffix}.dylib"


def applies(parts: KeyParts) -> bool:
    return (
        hostos.system() == hostos.MACOS
        and parts.os in APPLE_SYSTEMS
        and parts.implementation == "cpython"
    )


def ensure_dylib_patched(tree: Path, final: Path, parts: KeyParts) -> str | None:
    """Give the libpython of the install ``tree``, which lives (or will live) at ``final``,
    its real place as install name. Returns a warning when that could not be done; None when
    it was, or when it does not apply."""
    if not applies(parts):
        return None
    nested = (tree / "install").is_dir() and not (tree / "install").is_symlink()
    lib = Path("install", "lib") if nested else Path("lib")  # uv's python_dir
    name = dylib_name(parts)
    dylib = tree / lib / name
    problem = _patch(dylib, final / lib / name)
    if problem is None:
        return None
    return (
        f"{parts.key}: the install name of {name} was not set ({problem}); building native "
        "extensions against it may fail"
    )


def _patch(dylib: Path, install_name: Path) -> str | None:
    import shutil  # only on a Mac: other systems' fast paths never load it

    try:
        source = open_regular(dylib, follow=False)
    except FileNotFoundError:
        return "it is missing"
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    if source is None:
        return "it is not a regular file"
    with source:
        try:
            fd, fresh = new_scratch_file(dylib.parent, f".{dylib.name}{OURS}")
        except OSError as exc:
            return f"no copy of it could be made ({exc.strerror or exc})"
        try:
            mode = stat.S_IMODE(os.fstat(source.fileno()).st_mode)
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
            os.chmod(fresh, mode | stat.S_IWUSR)  # the tool writes it
            problem = _run_tool(install_name, fresh)
            if problem is None:
                os.chmod(fresh, mode)
                os.replace(fresh, dylib)  # the install's own file from now on
            return problem
        except OSError as exc:
            return f"its copy could not be written ({exc.strerror or exc})"
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(fresh)


def _run_tool(install_name: Path, target: Path) -> str | None:
    import subprocess  # only on a Mac: other systems' fast paths never load it

    command = [TOOL, "-id", os.fspath(install_name), os.fspath(target)]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            timeout=_TOOL_SECONDS,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        return _MISSING
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{TOOL} could not run: {exc}"
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"{TOOL} failed: {said[-1] if said else f'exit status {done.returncode}'}"
    return None

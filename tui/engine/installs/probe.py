"""Does a tree hold a runnable interpreter of the version its key names?"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from tui.engine.errors import NotAnInterpreter
from tui.engine.fsutil import within
from tui.engine.host import current_host
from tui.engine.installs.keys import VARIANT_SUFFIX, KeyParts

# Prints what the interpreter is; -E -S -B: no environment, no site, no .pyc written.
_PROBE = 'import sys; print("%d.%d.%d" % sys.version_info[:3], getattr(sys, "abiflags", ""))'


PROBE_TIMEOUT = 30.0


def check_interpreter(tree: Path, parts: KeyParts, source: str, *, run: bool) -> None:
    """Refuse a tree that holds no interpreter of ``parts``' version (NotAnInterpreter).

    Always cheap (a few stats): ``bin/<interpreter>`` exists, is a regular file or a link that
    stays inside the tree, and is executable. With ``run``, and when the build is for this
    machine, it is also started once (about 10 ms) and must report the key's version.
    """
    name = parts.interpreter_name
    rel = f"bin/{name}"

    def refuse(problem: str) -> NotAnInterpreter:
        return NotAnInterpreter(f"cannot install {parts.key} from {source}: {problem}")

    exe = tree / "bin" / name
    try:
        st = os.lstat(exe)
    except FileNotFoundError:
        raise refuse(f"it has no {rel}") from None
    if stat.S_ISLNK(st.st_mode):
        real = os.path.realpath(exe)
        if not within(real, os.path.realpath(tree)):
            raise refuse(f"{rel} links outside the install")
        try:
            st = os.stat(real)
        except OSError:
            raise refuse(f"{rel} is a broken link") from None
    if not stat.S_ISREG(st.st_mode):
        raise refuse(f"{rel} is not a file")
    if not st.st_mode & 0o111:
        raise refuse(f"{rel} is not executable")
    host = current_host()
    if not run or (parts.os, parts.arch, parts.libc) != (host.os, host.arch, host.libc):
        return
    try:
        done = subprocess.run(
            [os.fspath(exe), "-E", "-S", "-B", "-c", _PROBE],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=PROBE_TIMEOUT,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise refuse(f"{rel} did not answer within {PROBE_TIMEOUT:g}s") from None
    except OSError as exc:
        raise refuse(f"{rel} does not run: {exc.strerror or exc}") from None
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise refuse(f"{rel} does not run: {lines[-1] if lines else f'exit {done.returncode}'}")
    version, _, flags = done.stdout.strip().partition(" ")
    expected = f"{parts.major}.{parts.minor}.{parts.patch}"
    wanted = ""
    if parts.implementation == "cpython":  # abiflags: t free-threaded, d debug
        wanted = VARIANT_SUFFIX.get(parts.variant or "", "")
        version_ok = version == expected and set(flags) & set("td") == set(wanted)
    elif parts.implementation == "pypy":  # the key names the Python version PyPy implements
        version_ok = version == expected
    else:  # GraalPy's keys may not track the language's patch release: the minor must match
        expected = parts.minor_version
        version_ok = version.rpartition(".")[0] == expected
    if not version_ok:
        said = (done.stdout.strip() or "nothing")[:60]
        raise refuse(f"{rel} is not Python {expected}{wanted} (it says {said!r})")

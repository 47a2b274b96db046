"""Does a tree hold a runnable interpreter of the version its key names?"""

from __future__ import annotations

import errno
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tui.engine.errors import NotAnInterpreter
from tui.engine.fsutil import within
from tui.engine.host import current_host
from tui.engine.installs.installation import interpreter_in
from tui.engine.installs.keys import VARIANT_SUFFIX, KeyParts

if TYPE_CHECKING:
    import subprocess

# Prints what the interpreter is; -E -S -B: no environment, no site, no .pyc written.
_PROBE = 'import sys; print("%d.%d.%d" % sys.version_info[:3], getattr(sys, "abiflags", ""))'

_BUSY_TRIES = 8  # about 0.3 s in all before ETXTBSY is taken as an answer


PROBE_TIMEOUT = 30.0


def check_interpreter(tree: Path, parts: KeyParts, source: str, *, run: bool) -> None:
    """Refuse a tree that holds no interpreter of ``parts``' version (NotAnInterpreter).

    Always cheap (a few stats): ``bin/<interpreter>`` (``python.exe`` on Windows) exists, is
    a regular file or a link that stays inside the tree, and is executable. With ``run``, and
    when the build is for this machine, it is also started once (about 10 ms) and must report
    the key's version.
    """
    start_check(tree, parts, source, run=run).wait()


class RunningCheck:
    """An interpreter started by ``start_check``: ``wait`` judges its answer, ``stop`` ends it.

    Without a process (nothing to run) both do nothing.
    """

    def __init__(
        self,
        process: subprocess.Popen[str] | None = None,
        refuse: Callable[..., NotAnInterpreter] = NotAnInterpreter,
        parts: KeyParts | None = None,
        rel: str = "",
    ) -> None:
        self._process, self._refuse, self._parts, self._rel = process, refuse, parts, rel

    def stop(self) -> None:
        """End the interpreter, if it still runs, and reap it."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.communicate()

    def wait(self) -> None:
        """Raise NotAnInterpreter unless the interpreter ran and said the key's version."""
        process, self._process = self._process, None
        if process is None or self._parts is None:
            return
        import subprocess

        parts, refuse = self._parts, self._refuse
        rel = self._rel
        try:
            stdout, stderr = process.communicate(timeout=PROBE_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise refuse(
                f"{rel} did not answer within {PROBE_TIMEOUT:g}s", at_fault=False
            ) from None
        if process.returncode != 0:
            lines = (stderr or stdout).strip().splitlines()
            said = lines[-1] if lines else f"exit {process.returncode}"
            raise refuse(f"{rel} does not run: {said}", at_fault=False)
        version, _, flags = stdout.strip().partition(" ")
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
            said = (stdout.strip() or "nothing")[:60]
            raise refuse(f"{rel} is not Python {expected}{wanted} (it says {said!r})")


def start_check(tree: Path, parts: KeyParts, source: str, *, run: bool) -> RunningCheck:
    """``check_interpreter`` in two halves: the structural check now (raising at once), and
    the interpreter started in the background, for ``wait`` to judge. An install fixes up
    its tree meanwhile: the interpreter's start-up and the fix-ups overlap on two cores."""
    exe = interpreter_in(tree, parts)
    rel = exe.relative_to(tree).as_posix()  # bin/python3.12; python.exe on Windows

    def refuse(problem: str, *, at_fault: bool = True) -> NotAnInterpreter:
        return NotAnInterpreter(
            f"cannot install {parts.key} from {source}: {problem}", archive_at_fault=at_fault
        )

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
        return RunningCheck()
    import subprocess  # a reinstall from a kept copy never starts the interpreter

    tries = 0
    while True:
        try:
            process = subprocess.Popen(
                [os.fspath(exe), "-E", "-S", "-B", "-c", _PROBE],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
        except OSError as exc:
            # "Text file busy": another thread's fork, made while this file was still open for
            # writing, holds that descriptor until its child execs: a moment, so try again.
            tries += 1
            if exc.errno == errno.ETXTBSY and tries < _BUSY_TRIES:
                time.sleep(0.01 * tries)
                continue
            raise refuse(f"{rel} does not run: {exc.strerror or exc}", at_fault=False) from None
        return RunningCheck(process, refuse, parts, rel)

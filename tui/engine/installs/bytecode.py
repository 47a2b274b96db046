"""Compile an interpreter's standard library to bytecode, as ``uv python install
--compile-bytecode`` does.

uv asks the interpreter for its stdlib directory, checks that it lies inside the install, and
feeds every ``.py`` file below it (``__pycache__`` skipped, links to folders not followed) to
``compileall.compile_file`` run by that same interpreter: the default optimization level only
(plain ``.pyc``, no ``.opt-1``/``.opt-2``), the invalidation mode ``PYC_INVALIDATION_MODE``
names or py_compile's default, and compilation errors ignored, as pip ignores them. pyshelf
does the same, in the temp tree before it is swapped in, so the install appears compiled or
not at all. The ``.pyc`` files name the final path (``ddir``) in tracebacks.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

from tui.engine.errors import Cancelled, PyshelfError
from tui.engine.fsutil import within
from tui.engine.host import current_host
from tui.engine.installs.keys import KeyParts
from tui.engine.progress import NULL, Reporter

STARTUP_TIMEOUT = 30.0

# Run by the install's own interpreter: the stdlib dir on the first line, then one line per
# file compiled. Paths come on stdin, one a line, as uv's pip_compileall.py takes them.
_SCRIPT = r"""
import compileall, os, py_compile, sys, sysconfig, warnings
warnings.filterwarnings("ignore")
mode = os.environ.get("PYC_INVALIDATION_MODE")
if mode is not None:
    try:
        mode = py_compile.PycInvalidationMode[mode]
    except KeyError:
        sys.exit("PYC_INVALIDATION_MODE: %r is none of %s"
                 % (mode, ", ".join(m.name for m in py_compile.PycInvalidationMode)))
else:
    try:
        mode = py_compile._get_default_invalidation_mode()
    except AttributeError:
        mode = None
force = mode is not None and mode != py_compile.PycInvalidationMode.TIMESTAMP
stdlib, final = sys.argv[1], sys.argv[2]
print(os.path.realpath(sysconfig.get_path("stdlib")), flush=True)
for line in sys.stdin:
    path = line.rstrip("\n")
    if not path:
        continue
    rel = os.path.relpath(os.path.dirname(path), stdlib)
    ddir = os.path.normpath(os.path.join(final, rel))
    compileall.compile_file(path, ddir=ddir, force=force, quiet=2, invalidation_mode=mode)
    print(path, flush=True)
"""


def sources(stdlib: Path) -> list[str]:
    """Every ``.py`` file below ``stdlib``, as uv walks it."""
    found = []
    for folder, dirs, files in os.walk(stdlib):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        found += [os.path.join(folder, f) for f in sorted(files) if f.endswith(".py")]
    return [p for p in found if os.path.isfile(p)]


def can_compile(parts: KeyParts) -> bool:
    """Only an interpreter that runs here can compile its own library."""
    host = current_host()
    return (parts.os, parts.arch, parts.libc) == (host.os, host.arch, host.libc)


def compile_stdlib(
    tree: Path, parts: KeyParts, *, final: Path | None = None, reporter: Reporter = NULL
) -> int:
    """Compile the standard library of the install at ``tree``; returns the files compiled.

    ``final`` is where the tree will live (the .pyc files name paths there). A cancelled
    reporter stops the compiler; what it wrote stays with the tree it wrote into.
    """
    python = tree / "bin" / parts.interpreter_name
    stdlib = _stdlib_dir(tree, python)
    files = sources(stdlib)
    final_stdlib = (final or tree) / os.path.relpath(stdlib, os.path.realpath(tree))
    proc = subprocess.Popen(
        [os.fspath(python), "-I", "-c", _SCRIPT, os.fspath(stdlib), os.fspath(final_stdlib)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=tree, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    done = 0
    try:
        proc.stdout.readline()  # the stdlib dir again: the compiler is up
        for path in files:
            reporter.check("bytecode compilation cancelled")
            proc.stdin.write(path + "\n")
            proc.stdin.flush()
            if not proc.stdout.readline():
                break  # the compiler died: its stderr says why
            done += 1
        proc.stdin.close()
        proc.wait(timeout=STARTUP_TIMEOUT)
    except (BrokenPipeError, Cancelled):
        proc.kill()
        proc.wait()
        if reporter.cancel_event.is_set():
            raise Cancelled("bytecode compilation cancelled") from None
    finally:
        with contextlib.suppress(OSError):
            proc.stdout.close()
    error = proc.stderr.read().strip()
    proc.stderr.close()
    if proc.returncode != 0 or done < len(files):
        last = (error.splitlines() or [f"exit {proc.returncode}"])[-1]
        raise PyshelfError(f"cannot compile the standard library of {parts.key}: {last}")
    return done


def _stdlib_dir(tree: Path, python: Path) -> Path:
    """The interpreter's stdlib dir, which must lie inside ``tree`` (uv checks the same)."""
    try:
        found = subprocess.run(
            [os.fspath(python), "-I", "-c",
             "import os, sysconfig; print(os.path.realpath(sysconfig.get_path('stdlib')))"],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=STARTUP_TIMEOUT,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PyshelfError(f"{python} does not start: {exc}") from None
    if found.returncode != 0:
        last = (found.stderr.strip().splitlines() or [f"exit {found.returncode}"])[-1]
        raise PyshelfError(f"{python} does not start: {last}")
    stdlib = Path(found.stdout.strip())
    if not within(os.fspath(stdlib), os.path.realpath(tree)) or not stdlib.is_dir():
        raise PyshelfError(f"{python} names a standard library outside its install: {stdlib}")
    return stdlib

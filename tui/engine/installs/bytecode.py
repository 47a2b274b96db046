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

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

from tui.engine.errors import PyshelfError
from tui.engine.fsutil import within
from tui.engine.host import current_host
from tui.engine.installs.installation import interpreter_in
from tui.engine.installs.keys import KeyParts
from tui.engine.progress import NULL, Reporter

STARTUP_TIMEOUT = 30.0
MAX_WORKERS = 8  # compilers at once; uv runs one per core

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

    ``final`` is where the tree will live (the .pyc files name paths there). The files are
    shared among a few compilers at once, as uv does. A cancelled reporter stops them; what
    they wrote stays with the tree they wrote into.
    """
    python = interpreter_in(tree, parts)
    stdlib = _stdlib_dir(tree, python)
    files = sources(stdlib)
    if not files:
        return 0
    final_stdlib = (final or tree) / os.path.relpath(stdlib, os.path.realpath(tree))
    count = max(1, min(MAX_WORKERS, os.cpu_count() or 1, len(files)))
    command = [os.fspath(python), "-I", "-c", _SCRIPT, os.fspath(stdlib), os.fspath(final_stdlib)]
    procs = [_spawn(command, tree) for _ in range(count)]
    pool = ThreadPoolExecutor(count, thread_name_prefix="compile")
    try:
        runs = [
            pool.submit(proc.communicate, "".join(f"{path}\n" for path in files[n::count]))
            for n, proc in enumerate(procs)
        ]
        while wait(runs, timeout=0.1).not_done:
            reporter.check("bytecode compilation cancelled")
        outputs = [run.result() for run in runs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()  # cancelled: its communicate() returns, and the pool can close
                proc.wait()
        pool.shutdown(wait=True)
    # Each compiler says its stdlib dir, then names each file it has compiled.
    done = sum(max(0, len(out.splitlines()) - 1) for out, _ in outputs)
    failed = next((n for n, proc in enumerate(procs) if proc.returncode != 0), None)
    if failed is not None or done < len(files):
        error = outputs[failed or 0][1].strip()
        last = (error.splitlines() or [f"exit {procs[failed or 0].returncode}"])[-1]
        raise PyshelfError(f"cannot compile the standard library of {parts.key}: {last}")
    return done


def _spawn(command: list[str], tree: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=tree, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip


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

"""Virtual environments on this machine and the interpreters they depend on.

An environment names its base interpreter in ``pyvenv.cfg`` (``home``, and with newer tools
``executable`` or ``base-executable``). Paths are resolved, so a uv venv whose home goes
through the minor-version link ``cpython-3.12-linux-x86_64-gnu/bin`` maps to the patch install
that link points at today. Reading files is all we do: no interpreter runs.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tui.engine.fsutil import read_small, within
from tui.engine.settings import uv_state_dir
from tui.engine.usage.registry import manager
from tui.engine.usage.versionfiles import ManagerPin

PYENV = manager("pyenv")  # pyenv-virtualenv nests envs in it
VENV_DIRS_ENV = "PYSHELF_VENV_DIRS"
CFG = "pyvenv.cfg"
PIN = ".python-version"  # a project's pinned request, as uv and pyenv read it
MAX_PIN_BYTES = 4096  # a request is one short line; more is not a pin file
MAX_CFG_BYTES = 64 << 10  # a pyvenv.cfg is a few lines
CWD_DEPTH = 3
CONFIGURED_DEPTH = 3
MAX_DIRS = 20_000  # per search root: a scan started from ~ or / must still end quickly

# Never environments, and often huge: not worth a directory listing.
SKIP_DIRS = frozenset({
    "node_modules", ".git", ".hg", ".svn", "__pycache__", ".mypy_cache", ".pytest_cache",
    ".ruff_cache", ".cache", ".npm", ".cargo", ".rustup", "target", "site-packages",
    ".idea", ".vscode", ".Trash", "Library",
})  # fmt: skip
SKIP_PATHS = frozenset({"/proc", "/sys", "/dev", "/run"})  # a search from / must not go there


@dataclass(frozen=True, slots=True)
class Venv:
    path: Path
    home: str | None  # as written in pyvenv.cfg
    executable: str | None  # executable / base-executable, as written
    version: str | None  # version / version_info
    real_home: str | None  # symlinks resolved
    real_executable: str | None

    def uses(self, interpreter: str, *, is_file: bool = False, version: str | None = None) -> bool:
        """Whether this environment runs on ``interpreter`` (a resolved path).

        A directory matches when the resolved home or executable lies inside it. A single
        executable (a system interpreter) matches by itself, or by its directory plus the
        same minor version, since ``home = /usr/bin`` alone does not say which python3.X.
        """
        if not is_file:
            return any(p is not None and within(p, interpreter) for p in self._real_paths)
        if self.real_executable is not None:
            return self.real_executable == interpreter
        if self.real_home != os.path.dirname(interpreter):
            return False
        return version is None or _minor(self.version) == _minor(version)

    @property
    def _real_paths(self) -> tuple[str | None, str | None]:
        return (self.real_home, self.real_executable)


@dataclass(frozen=True, slots=True)
class Pin:
    """A ``.python-version`` file: a project that asks for an interpreter by request."""

    path: Path  # the file itself
    request: str  # its first request line, e.g. "3.12", "3.12.7" or an installation key


# Whatever stops working when its interpreter goes: an environment, a project's pin for uv,
# another manager's default or pin.
User = Venv | Pin | ManagerPin


@dataclass(frozen=True, slots=True)
class SearchRoot:
    path: Path
    depth: int  # 0: the root itself is an environment or holds none; 1: its children; ...
    label: str  # where the root came from, for a UI: "uv tools", "cwd", ...


def read_pyvenv_cfg(path: Path) -> dict[str, str]:
    """``key = value`` lines, keys lower-cased; unreadable files give {}."""
    try:
        text = read_small(path, MAX_CFG_BYTES).decode("utf-8", "replace")
    except OSError:  # missing, unreadable, or not a small regular file
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip().lower()] = value.strip()
    return values


def load_venv(directory: Path) -> Venv | None:
    cfg = read_pyvenv_cfg(directory / CFG)
    if not cfg:
        return None
    home = cfg.get("home") or None
    executable = cfg.get("executable") or cfg.get("base-executable") or None
    version = cfg.get("version_info") or cfg.get("version") or None
    return Venv(
        directory, home, executable, version,
        os.path.realpath(home) if home else None,
        os.path.realpath(executable) if executable else None,
    )  # fmt: skip


def configured_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """Directories named in ``PYSHELF_VENV_DIRS`` (``os.pathsep``-separated)."""
    env = os.environ if env is None else env
    raw = env.get(VENV_DIRS_ENV, "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def default_roots(
    *,
    configured: Sequence[Path] = (),
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    pyenv_versions: Path | None = None,
) -> list[SearchRoot]:
    """Where environments usually live: uv's tools, pipx, virtualenvwrapper, pyenv-virtualenv,
    the configured directories (``configured`` and PYSHELF_VENV_DIRS), and ``cwd``."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    data = Path(env["XDG_DATA_HOME"]).expanduser() if env.get("XDG_DATA_HOME") else None
    data = data or home / ".local" / "share"
    tools = Path(env["UV_TOOL_DIR"]).expanduser() if env.get("UV_TOOL_DIR") else None
    pipx = Path(env["PIPX_HOME"]).expanduser() / "venvs" if env.get("PIPX_HOME") else None
    workon = Path(env["WORKON_HOME"]).expanduser() if env.get("WORKON_HOME") else None
    roots = [
        SearchRoot(tools or uv_state_dir(env, home) / "tools", 1, "uv tools"),
        SearchRoot(pipx or data / "pipx" / "venvs", 1, "pipx"),
        SearchRoot(workon or home / ".virtualenvs", 1, "virtualenvs"),
    ]
    # pyenv-virtualenv keeps environments inside the version they were made from.
    for version in _children(pyenv_versions or PYENV.interpreters(env, home)):
        roots.append(SearchRoot(version / "envs", 1, "pyenv-virtualenv"))
    for path in [*configured, *configured_dirs(env)]:
        roots.append(SearchRoot(path, CONFIGURED_DEPTH, "configured"))
    if cwd is not None:
        roots.append(SearchRoot(cwd, CWD_DEPTH, "current directory"))
    return roots


def _children(path: Path) -> list[Path]:
    try:
        with os.scandir(path) as entries:
            return [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


def read_pin(path: Path) -> Pin | None:
    """The first request in a ``.python-version`` (blank lines and ``#`` comments skipped)."""
    try:
        data = read_small(path, MAX_PIN_BYTES)
    except OSError:  # missing, unreadable, or not a small regular file
        return None
    for line in data.decode("utf-8", errors="replace").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            return Pin(path, line)
    return None


def find_users(
    roots: Iterable[SearchRoot],
    *,
    max_dirs: int = MAX_DIRS,
    cancel: threading.Event | None = None,
) -> tuple[list[Venv], list[Pin]]:
    """Environments and ``.python-version`` files under ``roots``, in one bounded walk.

    Each is listed once; the walk never descends into an environment. Symlinked directories
    are not followed (no loops, no wandering off the tree), hidden directories are
    (``.venv``, ``.tox``), the ``SKIP_DIRS`` are not.
    """
    found: dict[str, Venv] = {}
    pins: dict[str, Pin] = {}
    for root in roots:
        budget = max_dirs
        stack = [(os.fspath(root.path), 0)]
        while stack and budget > 0:
            if cancel is not None and cancel.is_set():
                return list(found.values()), list(pins.values())
            directory, depth = stack.pop()
            budget -= 1
            pin_path = os.path.join(directory, PIN)
            if os.path.isfile(pin_path):
                real = os.path.realpath(pin_path)
                if real not in pins and (pin := read_pin(Path(pin_path))) is not None:
                    pins[real] = pin
            if os.path.isfile(os.path.join(directory, CFG)):
                real = os.path.realpath(directory)
                if real not in found and (venv := load_venv(Path(directory))) is not None:
                    found[real] = venv
                continue
            if depth >= root.depth:
                continue
            try:
                with os.scandir(directory) as entries:
                    subdirs = [
                        e.path for e in entries
                        if e.name not in SKIP_DIRS and e.path not in SKIP_PATHS
                        and e.is_dir(follow_symlinks=False)
                    ]  # fmt: skip
            except OSError:
                continue
            stack.extend((d, depth + 1) for d in sorted(subdirs, reverse=True))
    by_path = sorted(found.values(), key=lambda v: os.fspath(v.path))
    return by_path, sorted(pins.values(), key=lambda p: os.fspath(p.path))


def _minor(version: str | None) -> str | None:
    if not version:
        return None
    return ".".join(version.split(".")[:2])


def link_through(venv: Venv, install_root: Path) -> str | None:
    """The name of the symlink directly in ``install_root`` (uv's minor-version link, e.g.
    ``cpython-3.12-linux-x86_64-gnu``) through which the environment reaches its interpreter.

    Such an environment survives the removal of the patch install the link points at, as long
    as another patch of that minor remains for the link to move to.
    """
    roots = {os.path.abspath(install_root), os.path.realpath(install_root)}
    for start in (venv.home, venv.executable):
        path = os.path.abspath(start) if start else None
        for _ in range(16):  # follow the path's own links (a bin-dir python3.12) a few hops
            if path is None:
                break
            for root in roots:
                if within(path, root) and path != root:
                    name = os.path.relpath(path, root).split(os.sep)[0]
                    return name if os.path.islink(os.path.join(root, name)) else None
            try:
                path = os.path.normpath(os.path.join(os.path.dirname(path), os.readlink(path)))
            except OSError:
                path = None
    return None

"""The Python versions pyenv's, asdf's and mise's files and variables ask for.

Another manager's default (``pyenv global 3.11.7``, ``~/.tool-versions``, mise's global config)
or a project's pin is a user of the interpreter it names, as an environment is: removing that
interpreter breaks ``python`` for the shell or the project. Read here:

- pyenv: ``PYENV_VERSION``, ``$PYENV_ROOT/version`` (its global), ``.python-version`` in the
  current directory and its parents;
- asdf: ``ASDF_PYTHON_VERSION``, ``~/.tool-versions`` (its global) and ``.tool-versions`` up
  the tree (``ASDF_DEFAULT_TOOL_VERSIONS_FILENAME`` renames both);
- mise: ``MISE_PYTHON_VERSION``, its global config (``MISE_GLOBAL_CONFIG_FILE``, else
  ``config.toml`` in ``MISE_CONFIG_DIR``, ``$XDG_CONFIG_HOME/mise`` or ``~/.config/mise``)
  and its project files (``mise.toml``, ``.mise.toml``, ``.tool-versions``, ...) up the tree.

A request names an interpreter as its manager does: a directory name among the manager's
installs (``3.11.7``, a pyenv-virtualenv name), or a prefix of released versions (``3.11``).
Matches are followed through links, so a pyenv or mise entry linked to a uv install (``mise
sync python --uv``) names that install. Every file is hostile input: only regular files of a
pin file's size are read, anything unreadable is skipped, and nothing read becomes a path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from tui.engine.fsutil import open_regular
from tui.engine.usage.registry import manager

MAX_FILE = 256 * 1024  # a version file is a few lines and a config a few KiB; more is not one
MAX_REQUEST = 64  # characters: a version or an install's name, never a paragraph
MAX_REQUESTS = 32  # per file and tool: more is not a list of versions

PYENV_FILE = ".python-version"
ASDF_FILE = ".tool-versions"
ASDF_FILE_ENV = "ASDF_DEFAULT_TOOL_VERSIONS_FILENAME"
MISE_PROJECT_FILES = (
    "mise.toml", ".mise.toml", "mise.local.toml", ".mise.local.toml", ".config/mise.toml",
    ".config/mise/config.toml", "mise/config.toml", ".mise/config.toml",
)  # fmt: skip
MISE_TOOL_KEYS = ("python", "core:python")
# The variables a shell sets to choose a version for what runs in it.
VERSION_ENV = {
    "pyenv": "PYENV_VERSION", "asdf": "ASDF_PYTHON_VERSION", "mise": "MISE_PYTHON_VERSION",
}  # fmt: skip

_RELEASE = re.compile(r"\d+(?:\.\d+)*")
_AFTER_PREFIX = re.compile(r"[.-]\d+(?:\.\d+)*")  # 3.11 -> 3.11.7; pypy3.10 -> pypy3.10-7.3.17
_REQUEST = re.compile(r"[\w.+@:-]+")


class Scope(StrEnum):
    GLOBAL = "global"  # the manager's default for every shell
    PROJECT = "project"  # a file in a folder: the folder and those under it
    VARIABLE = "variable"  # a variable set in this environment


@dataclass(frozen=True, slots=True)
class ManagerPin:
    """One version one manager's file (or variable) asks for."""

    manager: str  # "pyenv", "asdf" or "mise"
    path: Path  # the file; for a variable, its name
    request: str  # as written: "3.11.7", "3.11", a pyenv-virtualenv name
    scope: Scope

    def label(self, show: Callable[[Path], str] = str) -> str:
        """``pyenv global``, ``~/proj/.tool-versions (asdf)``, ``PYENV_VERSION``; ``show``
        writes a path (the app shortens the home directory)."""
        if self.scope == Scope.GLOBAL:
            return f"{self.manager} global"
        if self.scope == Scope.VARIABLE:
            return str(self.path)
        return f"{show(self.path)} ({self.manager})"


@dataclass(frozen=True, slots=True)
class Claim:
    """A pin and what it can resolve to: the real paths of the manager's installs it names,
    newest first (the manager picks the first one that is there)."""

    pin: ManagerPin
    targets: tuple[str, ...]


def read_small(path: Path) -> str | None:
    """A regular file's text, or None: missing, a fifo or device, unreadable, larger than
    any version file or config, or binary (a NUL byte)."""
    try:
        handle = open_regular(path)
    except OSError:
        return None
    if handle is None:
        return None
    with handle:
        try:
            data = handle.read(MAX_FILE + 1)
        except OSError:
            return None
    if len(data) > MAX_FILE or b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace")


def _requests(words: list[str]) -> list[str]:
    """The words that can be requests: short, plain, not a path or a placeholder."""
    out = []
    for word in words[:MAX_REQUESTS]:
        word = word.strip()
        if word and len(word) <= MAX_REQUEST and _REQUEST.fullmatch(word) and word not in out:
            out.append(word)
    return out


def parse_pyenv(text: str) -> list[str]:
    """pyenv's version file: versions separated by blanks or lines, ``#`` to the line's end."""
    words = [w for line in text.splitlines() for w in line.split("#", 1)[0].split()]
    return _requests(words)


def parse_tool_versions(text: str) -> list[str]:
    """``.tool-versions``: ``python 3.11.7 3.10.13`` (every version listed is used: the
    later ones as fallbacks)."""
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if words and words[0] == "python":
            return _requests(words[1:])
    return []


def parse_mise_toml(text: str) -> list[str]:
    """mise's ``[tools]``: ``python = "3.12"``, ``["3.12", "3.11"]``, or tables with
    ``version``. A file that is not TOML, or not of that shape, asks for nothing."""
    import tomllib  # only when there is a mise file to read

    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError, ValueError):
        return []
    tools = data.get("tools")
    if not isinstance(tools, dict):
        return []
    words: list[str] = []
    for key in MISE_TOOL_KEYS:
        value = tools.get(key)
        for one in value if isinstance(value, list) else [value]:
            if isinstance(one, dict):
                one = one.get("version")
            if isinstance(one, str):
                words += one.split()
    return _requests(words)


def _mise_request(request: str) -> str:
    return request.removeprefix("prefix:")


def _tool_versions_name(env: Mapping[str, str]) -> str:
    name = env.get(ASDF_FILE_ENV, "").strip()
    plain = name and name not in (".", "..") and "/" not in name and "\0" not in name
    return name if plain else ASDF_FILE


def mise_global_config(env: Mapping[str, str], home: Path) -> Path:
    if file := env.get("MISE_GLOBAL_CONFIG_FILE"):
        return Path(file).expanduser()
    if folder := env.get("MISE_CONFIG_DIR"):
        return Path(folder).expanduser() / "config.toml"
    xdg = env.get("XDG_CONFIG_HOME")
    return (Path(xdg).expanduser() if xdg else home / ".config") / "mise" / "config.toml"


def _pins_in(manager_name: str, path: Path, scope: Scope) -> list[ManagerPin]:
    text = read_small(path)
    if text is None:
        return []
    if manager_name == "pyenv":
        requests = parse_pyenv(text)
    elif path.suffix == ".toml":
        requests = [_mise_request(r) for r in parse_mise_toml(text)]
    else:
        requests = parse_tool_versions(text)
    return [ManagerPin(manager_name, path, r, scope) for r in requests]


def _up_from(start: Path) -> Iterator[Path]:
    yield start
    yield from start.parents


def find_manager_pins(
    env: Mapping[str, str], home: Path, cwd: Path | None = None
) -> list[ManagerPin]:
    """Every version pyenv, asdf and mise are asked for by their variables, their global
    files, and (given ``cwd``) the files in ``cwd`` and its parents. Each file once; the
    global one is named as such wherever else it is found."""
    found: list[ManagerPin] = []
    for name, variable in VERSION_ENV.items():
        words = env.get(variable, "").split(":" if name == "pyenv" else None)
        found += [ManagerPin(name, Path(variable), r, Scope.VARIABLE) for r in _requests(words)]
    tool_versions = _tool_versions_name(env)
    files: list[tuple[str, Path, Scope]] = [
        ("pyenv", manager("pyenv").base(env, home) / "version", Scope.GLOBAL),
        ("asdf", home / tool_versions, Scope.GLOBAL),
        ("mise", mise_global_config(env, home), Scope.GLOBAL),
    ]
    if cwd is not None:
        for folder in _up_from(Path(os.path.abspath(cwd))):
            files.append(("pyenv", folder / PYENV_FILE, Scope.PROJECT))
            files.append(("asdf", folder / tool_versions, Scope.PROJECT))
            files += [("mise", folder / name, Scope.PROJECT) for name in MISE_PROJECT_FILES]
            files.append(("mise", folder / ASDF_FILE, Scope.PROJECT))
    seen: set[tuple[str, str]] = set()
    for name, path, scope in files:
        key = (name, os.path.realpath(path))
        if key in seen:
            continue
        seen.add(key)
        found += _pins_in(name, path, scope)
    return found


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", name))


def resolve(pin: ManagerPin, env: Mapping[str, str], home: Path) -> Claim:
    """What ``pin`` can resolve to among its manager's installs: the entry of that exact
    name, else every released version the request is a prefix of (``latest``: every one),
    newest first; each as the real path it leads to."""
    root = manager(pin.manager).interpreters(env, home)
    try:
        with os.scandir(root) as entries:
            names = sorted(e.name for e in entries if not e.name.startswith("."))
    except OSError:
        return Claim(pin, ())
    request = pin.request
    if request in names:
        chosen = [request]
    elif request == "latest":
        chosen = [n for n in names if _RELEASE.fullmatch(n)]
    else:
        chosen = [
            n for n in names
            if n.startswith(request) and _AFTER_PREFIX.fullmatch(n[len(request):])
        ]  # fmt: skip
    targets: list[str] = []
    for name in sorted(chosen, key=_version_key, reverse=True):
        real = os.path.realpath(root / name)
        if os.path.isdir(real) and real not in targets:
            targets.append(real)
    return Claim(pin, tuple(targets))

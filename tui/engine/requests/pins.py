"""Which Python a folder asks for, read as uv reads it.

``UV_PYTHON`` first, then the nearest ``.python-versions`` (several requests, one a line) or
``.python-version`` (the first request) in the current directory (``UV_WORKING_DIR``, uv's
``--directory``, when set) or a parent, then uv's global pin (``uv python pin --global``).
Comments (``#``) and blank lines are skipped; every request is checked with
:func:`parse_request`.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from tui.engine.errors import RequestError
from tui.engine.fsutil import read_small
from tui.engine.requests.resolve import parse_request

VERSION_FILE = ".python-version"
VERSIONS_FILE = ".python-versions"
_MAX_PIN_FILE = 64 * 1024  # a pin file is a few lines; anything larger is not one


@dataclass(frozen=True, slots=True)
class Pins:
    requests: tuple[str, ...]
    source: str  # "UV_PYTHON" or the file's path, for messages

    def describe(self) -> str:
        return f"{', '.join(self.requests)} (from {self.source})"


def read_pin_file(path: Path, *, first_only: bool) -> tuple[str, ...]:
    """The requests a pin file names; a bad one is a RequestError naming the file."""
    try:
        data = read_small(path, _MAX_PIN_FILE)  # a fifo or a device: refused, not read
    except OSError as exc:
        raise RequestError(f"cannot read {path}: {exc.strerror or exc}") from None
    lines = [line.split("#", 1)[0].strip() for line in data.decode("utf-8", "replace").splitlines()]
    requests = tuple(line for line in lines if line)
    for request in requests:
        try:
            parse_request(request)
        except RequestError as exc:
            raise RequestError(f"{path}: {exc}") from None
    return requests[:1] if first_only else requests


def pin_file_near(start: Path) -> Path | None:
    """The nearest ``.python-versions`` or ``.python-version`` from ``start`` up: whatever
    is there, so that a fifo or a device in its place is refused rather than passed over."""
    for folder in (start, *start.parents):
        for name in (VERSIONS_FILE, VERSION_FILE):
            if (candidate := folder / name).exists():
                return candidate
    return None


def find_pins(start: Path | None = None) -> Pins | None:
    """What this folder asks for, or None when nothing pins a version."""
    if value := os.environ.get("UV_PYTHON", "").strip():
        try:
            parse_request(value)
        except RequestError as exc:
            raise RequestError(f"UV_PYTHON: {exc}") from None
        return Pins((value,), "UV_PYTHON")
    where = os.environ.get("UV_WORKING_DIR", "").strip()
    here = Path(where).expanduser().absolute() if where else Path.cwd()
    path = pin_file_near(start or here) or global_pin_file()
    if path is None:
        return None
    requests = read_pin_file(path, first_only=path.name == VERSION_FILE)
    return Pins(requests, str(path)) if requests else None


def uv_config_dir() -> Path:
    """uv's user config folder: ``$XDG_CONFIG_HOME/uv`` (an absolute one), else
    ``~/.config/uv``; ``%APPDATA%\\uv`` on Windows."""
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming") / "uv"
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".config"
    return base / "uv"


def global_pin_path() -> Path:
    """Where ``uv python pin --global`` writes."""
    return uv_config_dir() / VERSION_FILE


def global_pin_file() -> Path | None:
    """uv's global pin file when there is one (``.python-version`` first, as uv looks)."""
    for name in (VERSION_FILE, VERSIONS_FILE):
        if (candidate := uv_config_dir() / name).is_file():
            return candidate
    return None


def write_pin(path: Path, request: str) -> str | None:
    """Write ``request`` (already canonical) as the pin file ``path``, as uv writes it: the
    request and a newline. Returns the request it replaces, if it names another.

    Written beside and renamed into place; a link, folder or special file there is refused
    rather than followed or replaced.
    """
    from tui.engine.fsutil import atomic_write_bytes

    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        raise RequestError(f"{path} is not a regular file; remove it to pin here")
    before = None
    if mode is not None:
        from tui.engine.requests.canonical import canonical_request

        try:
            old = read_pin_file(path, first_only=True)
            before = canonical_request(old[0]) if old else None
        except RequestError:
            before = None  # unreadable before: replaced all the same, as uv does
    atomic_write_bytes(path, f"{request}\n".encode())
    return before if before != request else None

"""Which Python a folder asks for, read as uv reads it.

``UV_PYTHON`` first, then the nearest ``.python-versions`` (several requests, one a line) or
``.python-version`` (the first request) in the current directory (``UV_WORKING_DIR``, uv's
``--directory``, when set) or a parent. Comments (``#``)
and blank lines are skipped; every request is checked with :func:`parse_request`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tui.engine.errors import RequestError
from tui.engine.fsutil import read_small
from tui.engine.resolve import parse_request

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
    path = pin_file_near(start or (Path(where).expanduser().absolute() if where else Path.cwd()))
    if path is None:
        return None
    requests = read_pin_file(path, first_only=path.name == VERSION_FILE)
    return Pins(requests, str(path)) if requests else None

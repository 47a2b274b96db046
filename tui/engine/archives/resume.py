"""What a resumed download reads from and keeps about the server's answer: byte counts from
its headers, and the validator (ETag or Last-Modified) saved beside the partial file so the
next Range request can ask for the same file with If-Range."""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard

from tui.engine.fsutil import atomic_write_bytes, open_nofollow

if TYPE_CHECKING:
    from tui.engine.archives.http import Response


def _count(text: str | None) -> int | None:
    """A byte count from a header; a hostile one (thousands of digits) is no count at all."""
    return int(text) if text and text.isdigit() and len(text) <= 18 else None


def total_size(response: Response, offset: int) -> int | None:
    if response.status_code == 206:
        content_range = response.headers.get("content-range", "")
        if (total := _count(content_range.rpartition("/")[2])) is not None:
            return total
    if (length := _count(response.headers.get("content-length"))) is not None:
        return length + (offset if response.status_code == 206 else 0)
    return None


def range_start(response: Response) -> int:
    content_range = response.headers.get("content-range", "")  # "bytes 100-199/200"
    try:
        return int(content_range.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return -1


_VALIDATOR_CAP = 4096  # a few header values; more is not a file pyshelf wrote


def read_validator(meta_path: Path) -> str | None:
    """The saved ETag or Last-Modified, from a file in the shared partial folder: never read
    through a link, and only a value fit for a header is sent."""
    try:
        with os.fdopen(open_nofollow(meta_path), "rb") as handle:
            meta = json.loads(handle.read(_VALIDATOR_CAP))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(meta, dict):
        return None
    etag, modified = meta.get("etag"), meta.get("last_modified")
    # If-Range needs a strong validator; a weak ETag would make every resume restart.
    if _header_value(etag) and not etag.startswith("W/"):
        return etag
    return modified if _header_value(modified) else None


def _header_value(value: object) -> TypeGuard[str]:
    return (
        isinstance(value, str) and 0 < len(value) <= 256 and value.isascii() and value.isprintable()
    )


def write_validator(meta_path: Path, response: Response) -> None:
    meta = {
        "etag": response.headers.get("etag", ""),
        "last_modified": response.headers.get("last-modified", ""),
        "saved": time.time(),
    }
    # Resuming without If-Range is still safe: the sha256 has the last word.
    with contextlib.suppress(OSError):
        atomic_write_bytes(meta_path, json.dumps(meta).encode(), private=True)

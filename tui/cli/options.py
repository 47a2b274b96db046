"""What pyshelf's options accept: argparse ``type=`` functions that refuse nonsense early.

Each returns the parsed value or raises ``argparse.ArgumentTypeError`` with a message that
fits on one line, so a bad option is a usage error (exit 2) before anything runs. The rules
that the app shares (requests, sizes, days) live in the engine; these only translate.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from tui.engine.errors import PyshelfError, shown
from tui.engine.requests.resolve import parse_request
from tui.engine.settings import MAX_PARALLEL, parse_size

T = TypeVar("T")

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")  # C:\\ is a path, not a scheme
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_USERINFO = re.compile(r"^([^/?#]*//)?[^/?#@]*@")  # user:password@ before the host


def _bad(message: str) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(message)


def _shown_url(text: str) -> str:
    """A refused URL as an error may repeat it: no password, no query string (tokens)."""
    text = _USERINFO.sub(lambda m: f"{m[1] or ''}***@", text, count=1)
    base, query, _ = text.partition("?")
    return shown(f"{base}?***" if query else base)


def _engine(parse: Callable[[str], T], text: str) -> T:
    """An engine parser's own error, as argparse wants it."""
    try:
        return parse(text)
    except PyshelfError as exc:
        raise _bad(str(exc)) from None


def parallel(text: str) -> int:
    """Downloads at once: 1 to 64."""
    value = int(text) if re.fullmatch(r"\s*\d{1,6}\s*", text, re.ASCII) else None
    if value is None or not 1 <= value <= MAX_PARALLEL:
        raise _bad(f"needs a whole number from 1 to {MAX_PARALLEL}, not {shown(text)}")
    return value


def count(text: str) -> int:
    """A whole number, 0 or more (uv's UV_HTTP_RETRIES)."""
    if not re.fullmatch(r"\s*\d{1,6}\s*", text, re.ASCII):
        raise _bad(f"needs a whole number, not {shown(text)}")
    return int(text)


def positive(text: str) -> int:
    """A whole number, 1 or more (uv's UV_HTTP_TIMEOUT, UV_CONCURRENT_DOWNLOADS)."""
    if count(text) < 1:
        raise _bad(f"needs a whole number from 1, not {shown(text)}")
    return int(text)


def days(text: str) -> float:
    from tui.engine.usage.prune import parse_days  # the inventory code loads only for prune

    return _engine(parse_days, text)


def size(text: str) -> int:
    return _engine(parse_size, text)


def request(text: str) -> str:
    """Kept as typed (commands resolve it later); only checked to be readable as a request."""
    _engine(parse_request, text)
    return text


def pin_request(text: str) -> str:
    """A request for a pin file, spelled as uv writes it there (``cp312``: ``cpython@3.12``)."""
    from tui.engine.requests.canonical import canonical_request  # only for `pin`

    return _engine(canonical_request, text)


def directory(text: str) -> Path:
    """A directory; empty would silently mean the current one, so it is refused."""
    if not text.strip():
        raise _bad("needs a directory, not an empty string")
    if "\0" in text:
        raise _bad(f"a path cannot contain a NUL byte: {shown(text)}")
    return Path(text).expanduser()


def catalog(text: str) -> str:
    """A local file (a path or file:// URL) or an http(s) URL of a uv-format catalog."""
    if not text.strip():
        raise _bad("needs a file or an http(s) URL, not an empty string")
    if _CONTROL.search(text):
        raise _bad(f"control characters in {_shown_url(text)}")
    if _SCHEME.match(text):
        _url(text)
    return text


def mirror(text: str) -> str:
    """An http(s):// or file:// URL that stands in for the downloads' own host."""
    if not _SCHEME.match(text):
        raise _bad(f"needs an http://, https:// or file:// URL, not {_shown_url(text)}")
    return _url(text)


def libc(text: str) -> str:
    """uv's UV_LIBC: one of the libc words of its installation keys."""
    from tui.engine.platforms import LIBCS

    if text not in LIBCS:
        raise _bad(f"{text!r} is not a libc uv knows ({', '.join(sorted(LIBCS))})")
    return text


def _url(text: str) -> str:
    if _CONTROL.search(text) or " " in text:
        raise _bad(f"spaces or control characters in the URL {_shown_url(text)}")
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        raise _bad(f"not a URL: {_shown_url(text)}") from None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise _bad(f"no host in the URL {_shown_url(text)}")
    elif scheme == "file":
        if not parts.path.strip("/"):
            raise _bad(f"no path in the URL {_shown_url(text)}")
    else:
        raise _bad(f"only http://, https:// and file:// URLs work, not {_shown_url(text)}")
    return text

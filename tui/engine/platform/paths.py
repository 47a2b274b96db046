"""Local paths named by ``file:`` URLs, as each system spells them."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit


def file_url_path(url: str) -> Path:
    """The local path a ``file:`` URL names: its path, unquoted. On Windows, as
    ``Path.as_uri`` writes them there, ``file:///C:/x`` is ``C:\\x`` (not ``\\C:\\x``) and
    ``file://server/share/x`` the UNC path ``\\\\server\\share\\x``."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    if sys.platform != "win32":
        return Path(path)
    if len(path) >= 3 and path[0] == "/" and path[1].isalpha() and path[2] in ":|":
        return Path(f"{path[1]}:{path[3:]}")  # "|": the old spelling of a drive's colon
    if parts.netloc and parts.netloc.lower() != "localhost":
        return Path(f"//{parts.netloc}{path}")
    return Path(path)

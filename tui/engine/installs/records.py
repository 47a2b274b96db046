"""What pyshelf verified about an archive, kept past the catalog that listed it.

python-build-standalone publishes every live patch again under a new build tag
(``3.12.11+20250630``, then ``+20250828``), and a catalog names only the newest. Once it names
the rebuild, nothing says any more which sha256 the installed build's archive has: without
it, that archive could not be checked, so neither reinstalled nor trusted. pyshelf keeps one
record per archive it verified (fetched, or installed from), in the cache's
``.pyshelf/builds/<the archive's cache name>``: the build's fields and its whole sha256.

A cache may be shared, and anyone who can write it could plant a record naming the sha256 of
an archive they also planted. A record is trusted only when it carries this user's seal (an
HMAC under the key of ``tui.engine.installs.seal``); one that is damaged, planted, another
user's or about another archive is ignored.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path

from tui.engine.builds import Build
from tui.engine.fsutil import UnsafePath, atomic_write_bytes, inside, own_dir, read_owned
from tui.engine.installs.seal import seal, sealed

_HEADER = b"pyshelf-build 1\n"
_MAX_RECORD = 16 << 10  # a record is a few hundred bytes
_SHA = re.compile(r"[0-9a-f]{64}")
_TYPES: tuple[type | tuple[type, ...], ...] = (
    str, int, int, int, str, (str, type(None)), str, str, str, str,
)  # Build's, to sha256  # fmt: skip


def _body(build: Build, archive: str) -> bytes:
    fields = list(build._replace(url=None))  # where it came from does not matter: it is cached
    return _HEADER + json.dumps({"archive": archive, "build": fields}).encode() + b"\n"


def _parse(data: bytes, archive: str) -> Build | None:
    """The build a record names, when this user sealed it for ``archive``; else None."""
    body, sep, tag = data.rstrip(b"\n").rpartition(b"\nend\t")
    if not sep or not body.startswith(_HEADER) or not sealed(body + b"\n", tag):
        return None
    try:
        record = json.loads(body[len(_HEADER) :])
        fields = record["build"]
        if record["archive"] != archive or len(fields) != len(Build._fields):
            return None
    except (ValueError, TypeError, KeyError):
        return None
    *head, url, sha = fields
    if url is not None or not isinstance(sha, str) or not _SHA.fullmatch(sha):
        return None
    pairs = zip(head, _TYPES, strict=True)  # lengths checked above
    if any(type(v) is not t if t is int else not isinstance(v, t) for v, t in pairs):
        return None
    if not archive.startswith(f"{sha[:9]}-"):  # uv's cache name starts with the digest
        return None
    return Build(*fields)


class BuildRecords:
    """The sealed records, one file per archive, in ``root`` (``.pyshelf/builds``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def remember(self, build: Build, archive: str) -> None:
        """Record that the archive cached as ``archive`` holds ``build`` (whose sha256 it
        matched). A cache pyshelf cannot write keeps no record: the install goes on."""
        if not build.sha256 or self.recall(archive) == build._replace(url=None):
            return
        body = _body(build, archive)
        with contextlib.suppress(OSError, UnsafePath):  # UnsafePath: not a plain name
            own_dir(self.root, levels=2)  # .pyshelf/builds: shared with the group, never a link
            atomic_write_bytes(
                inside(self.root, archive), body + f"end\t{seal(body)}\n".encode(), private=True
            )

    def recall(self, archive: str) -> Build | None:
        """The build recorded for the archive cached as ``archive`` (its URL left out)."""
        try:
            path = inside(self.root, archive)
        except UnsafePath:
            return None
        data = read_owned(path, _MAX_RECORD)
        return None if data is None else _parse(data, archive)

    def recall_all(self) -> dict[str, Build]:
        """Every build recorded here, by its archive's cache name."""
        try:
            names = [e.name for e in os.scandir(self.root) if not e.name.startswith(".")]
        except OSError:
            return {}
        found = {}
        for name in names:
            if (build := self.recall(name)) is not None:
                found[name] = build
        return found

    def forget(self, archive: str) -> None:
        with contextlib.suppress(OSError, UnsafePath):
            inside(self.root, archive).unlink()

"""Member names an archive may use: safe on every system, checked on every system.

An archive made on one machine is installed on another, so a name that is harmless on Linux
but means something else on Windows or macOS is refused everywhere: a backslash (a separator
on Windows: ``a\\..\\..\\x`` climbs out), a colon (a drive, ``C:x``, or an NTFS stream,
``f:s``), a control character (uv refuses them too), a reserved device name (``CON``,
``nul.txt``: opening one opens the device) and a trailing dot or space (Windows drops them,
so ``a.`` is ``a``). Names are compared
case-folded where a case-insensitive disk (APFS, NTFS by default) would make two one.
"""

from __future__ import annotations

import re
from collections import deque

_DEVICES = (
    "con|prn|aux|nul|conin\\$|conout\\$|com[1-9\u00b9\u00b2\u00b3]|lpt[1-9\u00b9\u00b2\u00b3]"
)
_MAX_LINK_HOPS = 40  # like the kernel's ELOOP limit
# One search over the whole name: the common, clean name costs one regex scan.
_UNSAFE = re.compile(
    rf"(?P<char>[\\:\x00-\x1f\x7f])"
    rf"|(?P<trailing>[. ](?=/|$))"
    rf"|(?:^|/)(?P<device>(?:{_DEVICES}) *(?:\.[^/]*)?)(?=/|$)",
    re.IGNORECASE,
)


def _why(match: re.Match[str]) -> str:
    if match["char"] is not None:
        what = {"\\": "a backslash", ":": "a colon (drive or stream)"}
        return f"{what.get(match['char'], 'a control character')} in a name"
    if match["trailing"] is not None:
        return "a name ending in a dot or a space"
    return f"the reserved device name {match['device']!r}"


_QUICK_CHARS = re.compile(r"[\\:\x00-\x1f\x7f]")


def _suspect(path: str) -> bool:
    """A quick look that clears most names (the full search costs ten times as much)."""
    if _QUICK_CHARS.search(path) or "./" in path or " /" in path or path.endswith((".", " ")):
        return True
    low = "/" + path.lower()  # every device name starts with one of these
    return (
        "/con" in low
        or "/com" in low
        or "/nul" in low
        or "/aux" in low
        or "/prn" in low
        or "/lpt" in low
    )


def unsafe_reason(path: str) -> str | None:
    """Why ``path`` (``/``-separated components, no ``.`` or ``..`` among them) cannot be
    a name on every system; None when it can."""
    match = _UNSAFE.search(path) if _suspect(path) else None
    return None if match is None else _why(match)


def split_member(name: str) -> list[str]:
    """A member's path components; ValueError for an absolute path, ``..`` or a name that
    is not safe on every system (see ``unsafe_reason``)."""
    if name.startswith("/"):
        raise ValueError("absolute path")
    parts = name.split("/")
    if "" in parts or "." in parts:  # rare: "a//b", "./a", "a/."
        parts = [p for p in parts if p not in ("", ".")]
        name = "/".join(parts)
    if ".." in parts:
        raise ValueError("'..' in path")
    if (why := unsafe_reason(name)) is not None:
        raise ValueError(why)
    return parts


def check_link_target(target: str) -> None:
    """ValueError for a symlink target that is not a plain relative ``/`` path on every
    system (``..`` is for the escape check to judge)."""
    parts = [p for p in target.split("/") if p not in ("", ".", "..")]
    if (why := unsafe_reason("/".join(parts))) is not None:
        raise ValueError(f"symlink target {target!r}: {why}")


def fold(path: str) -> str:
    """The key under which a case-insensitive disk files ``path``."""
    return path.casefold()


def escapes(start: list[str], target: str, links: dict[str, str]) -> bool:
    """Whether ``target``, resolved from directory ``start`` through the archive's own symlinks,
    leaves the root. Purely lexical checks miss ``a -> .`` followed by ``b -> a/../..``.

    ``links`` is keyed by ``fold``ed path: on a case-insensitive disk ``A/..`` goes through
    the link ``a``, so it is followed here whatever the disk."""
    stack = list(start)
    pending = deque(target.split("/"))
    hops = 0
    while pending:
        part = pending.popleft()
        if part in ("", "."):
            continue
        if part == "..":
            if not stack:
                return True
            stack.pop()
            continue
        stack.append(part)
        link = links.get(fold("/".join(stack)))
        if link is not None:
            hops += 1
            if hops > _MAX_LINK_HOPS or link.startswith("/"):
                return True
            stack.pop()
            pending.extendleft(reversed(link.split("/")))
    return False

"""Requests as people type them (``3.12``, ``3.13t``, ``pypy@3.10``, an installation key)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tui.engine.builds import Build
from tui.engine.errors import RequestError, shown

_VERSION = r"(?P<major>\d+)(?:\.(?P<minor>\d+)(?:\.(?P<patch>\d+)(?P<pre>(?:a|b|rc)\d+)?)?)?"
_SIMPLE = re.compile(
    rf"^(?:(?P<impl>cpython|pypy|graalpy)(?:@|-)?)?{_VERSION}(?P<t>t)?(?P<variants>(?:\+[a-z]+)*)$",
    re.ASCII,  # \d is 0-9 only
)
_IMPL_ALIASES = {"python": "cpython", "py": "cpython", "cp": "cpython", "pp": "pypy"}
_KEY = re.compile(r"^[a-z0-9._+-]+$")  # what installation keys are made of
MAX_REQUEST = 100  # longer than any installation key; longer text is not a request


@dataclass(frozen=True, slots=True)
class Request:
    text: str
    implementation: str | None = None
    major: int | None = None
    minor: int | None = None
    patch: int | None = None
    prerelease: str | None = None
    variant: str | None = None
    key: str | None = None  # a full installation key matches exactly one build

    def matches(self, build: Build) -> bool:
        if self.key is not None:
            return build.key == self.key
        if (build.implementation, build.variant) != (
            self.implementation or "cpython",
            self.variant,
        ):
            return False
        wanted = (self.major, self.minor, self.patch)
        actual = (build.major, build.minor, build.patch)
        if any(w is not None and w != a for w, a in zip(wanted, actual, strict=True)):
            return False
        return self.prerelease is None or build.prerelease == self.prerelease


def parse_request(text: str) -> Request:
    """Read a request; anything else (too long, odd characters) raises ``RequestError``."""
    raw = text.strip().lower()
    if len(raw) > MAX_REQUEST:
        raise RequestError(
            f"cannot read {shown(text)} as a Python request: longer than {MAX_REQUEST} characters"
        )
    for alias, impl in _IMPL_ALIASES.items():
        if raw.startswith(alias + "@"):
            raw = impl + raw[len(alias) :]
    if raw.count("-") >= 3 and _KEY.match(raw):  # cpython-3.12.7-linux-x86_64-gnu
        return Request(text, key=raw)
    match = _SIMPLE.match(raw)
    if not match:
        raise RequestError(
            f"cannot read {shown(text)} as a Python request; try 3.12, 3.12.7, 3.13t, "
            "pypy@3.10 or a key such as cpython-3.12.7-linux-x86_64-gnu"
        )
    variants = [v for v in match["variants"].split("+") if v]
    if match["t"]:
        variants.insert(0, "freethreaded")
    unknown = set(variants) - {"freethreaded", "debug"}
    if unknown:
        raise RequestError(f"unknown variant {shown('+'.join(sorted(unknown)))} in {shown(text)}")
    ordered = [v for v in ("freethreaded", "debug") if v in variants]

    def num(group: str) -> int | None:  # at most MAX_REQUEST digits: int() takes them
        return int(match[group]) if match[group] is not None else None

    return Request(
        text,
        implementation=match["impl"],
        major=num("major"),
        minor=num("minor"),
        patch=num("patch"),
        prerelease=match["pre"],
        variant="+".join(ordered) or None,
    )


def resolve(text: str, builds: Iterable[Build]) -> Build:
    """The newest build matching ``text``; stable releases win over pre-releases."""
    request = parse_request(text)
    builds = list(builds)
    candidates = [b for b in builds if request.matches(b)]
    if not candidates:
        raise RequestError(no_match_message(text, builds))
    stable = [b for b in candidates if not b.is_prerelease]
    return max(stable or candidates, key=Build.sort_key)


def no_match_message(text: str, builds: Iterable[Build]) -> str:
    """Name the nearest available versions, so the next try succeeds."""
    pool = sorted({b.minor_version: b for b in builds}.values(), key=Build.sort_key, reverse=True)
    try:
        request = parse_request(text)
    except RequestError:
        request = None
    if request and request.major is not None and request.minor is not None:
        target = request.major * 100 + request.minor
        pool.sort(key=lambda b: abs(b.major * 100 + b.minor - target))
    nearest = ", ".join(sorted({b.minor_version for b in pool[:4]}, reverse=True))
    if not nearest:
        return f"no build matches {shown(text)} for this platform; try --all-platforms or --catalog"
    return f"no build matches {shown(text)} for this platform; nearest available: {nearest}"

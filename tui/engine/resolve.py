"""Requests as people type them, in uv's grammar.

``3``, ``3.12``, ``3.12.7``, ``312``, ``3.14.0rc1``, ``>=3.12,<3.14``, ``3.13t``, ``3.12d``,
``3.13+freethreaded``, ``3.14+gil``, ``cpython``, ``cp312``, ``pypy3.10``, ``pypy@3.10``,
``graalpy``, ``pyodide``, ``any``, ``default``, and installation keys, whole or in part,
with ``any`` for a part: ``cpython-3.12.7-linux-x86_64-gnu``, ``pypy-3.10``, ``any-3.12-linux``.

A request is read two ways, as uv reads it. To pick a build (install, find, pins), what it
leaves out is CPython's default build. To list builds (``uv python list``), what it leaves
out is open: ``3.12`` lists GraalPy 3.12 too, ``cpython`` its free-threaded builds as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple, TypedDict, TypeVar

from tui.engine import platforms
from tui.engine.builds import Build

if TYPE_CHECKING:  # packaging loads only for a request that holds a specifier
    from packaging.specifiers import SpecifierSet
from tui.engine.errors import RequestError, shown

T = TypeVar("T")
MAX_REQUEST = 100  # longer than any installation key; longer text is not a request
# Longest first: "cp" must not swallow "cpython", nor "pp" anything.
_IMPLEMENTATIONS = (
    ("cpython", "cpython"), ("graalpy", "graalpy"), ("pypy", "pypy"),
    ("cp", "cpython"), ("gp", "graalpy"), ("pp", "pypy"),
)  # fmt: skip
_VERSION = re.compile(
    r"^(?P<digits>\d{1,3}(?:\.\d{1,3}){0,2})(?P<pre>(?:a|b|rc)\d{1,3})?"
    r"(?P<short>td|t|d)?(?P<plus>(?:\+[a-z]+)*)$",
    re.ASCII,  # \d is 0-9 only
)
_WORD = re.compile(r"^[a-z0-9_]+$", re.ASCII)


class _Platform(TypedDict):
    os: str
    arch: str
    libc: str


# uv's Pyodide is CPython built for Emscripten: a request for it names that platform.
_PYODIDE: _Platform = {"os": "emscripten", "arch": "wasm32", "libc": "musl"}
_VARIANT_WORDS = {"freethreaded", "debug", "gil"}
_HINT = (
    "try 3.12, 3.12.7, '>=3.12,<3.14', 3.13t, pypy@3.10, cp312 or a key such as "
    "cpython-3.12.7-linux-x86_64-gnu"
)


class Request(NamedTuple):
    text: str
    implementation: str | None = "cpython"  # None: any implementation
    major: int | None = None
    minor: int | None = None
    patch: int | None = None
    prerelease: str | None = None
    specifiers: SpecifierSet | None = None
    variant: str | None = None  # None: the default build (GIL, no debug)
    any_variant: bool = False
    os: str | None = None
    arch: str | None = None
    libc: str | None = None
    named_implementation: bool = False  # the text names one (cpython, pypy@3.10, a key's)
    named_version: bool = False  # the text names a version (and so a variant: the default)

    def matches(self, build: Build) -> bool:
        """Whether this request picks ``build``: what it leaves out is CPython's default."""
        if self.implementation is not None and build.implementation != self.implementation:
            return False
        if not self.any_variant and build.variant != self.variant:
            return False
        return self._same_platform(build) and self._same_version(build)

    def lists(self, build: Build) -> bool:
        """Whether ``uv python list`` with this request lists ``build`` (platform aside):
        what the request leaves out is open, every implementation and variant."""
        if self.named_implementation and build.implementation != self.implementation:
            return False
        if self.named_version and build.variant != self.variant:
            return False
        return self._same_platform(build) and self._same_version(build)

    def fits(self, build: Build, host: platforms.Host | None) -> bool:
        """:meth:`lists`, with the platform the request leaves out taken to be ``host``'s,
        as uv fills it in (None: any platform, uv's ``--all-platforms --all-arches``)."""
        if not self.lists(build):
            return False
        if host is None:
            return True
        if self.os is None and build.os != host.os:
            return False
        if self.libc is None and build.libc != host.libc:
            return False
        return self.arch is not None or platforms.arch_runs(build.os, host.arch, build.arch)

    @property
    def names_platform(self) -> bool:
        return (self.os, self.arch, self.libc) != (None, None, None)

    @property
    def asks_debug(self) -> bool:
        return self.named_version and "debug" in (self.variant or "")

    def _same_platform(self, build: Build) -> bool:
        return all(
            wanted is None or wanted == actual
            for wanted, actual in ((self.os, build.os), (self.arch, build.arch),
                                   (self.libc, build.libc))
        )  # fmt: skip

    def _same_version(self, build: Build) -> bool:
        if self.specifiers is not None:
            return self.specifiers.contains(build.version, prereleases=True)
        wanted = (self.major, self.minor, self.patch)
        actual = (build.major, build.minor, build.patch)
        if any(w is not None and w != a for w, a in zip(wanted, actual, strict=True)):
            return False
        if self.prerelease is None:  # 3.12.0 asks for the release, 3.12 for any of the minor
            return self.patch is None or not build.prerelease
        return build.prerelease == self.prerelease


def _refuse(text: str, why: str = "") -> RequestError:
    reason = f": {why}" if why else f"; {_HINT}"
    return RequestError(f"cannot read {shown(text)} as a Python request{reason}")


def _variant(short: str | None, plus: str, text: str) -> tuple[str | None, bool]:
    """The variant a suffix names, and whether it was named at all."""
    words = {"t": ["freethreaded"], "d": ["debug"], "td": ["freethreaded", "debug"]}.get(
        short or "", []
    ) + [w for w in plus.split("+") if w]
    unknown = set(words) - _VARIANT_WORDS
    if unknown:
        raise RequestError(f"unknown variant {shown('+'.join(sorted(unknown)))} in {shown(text)}")
    if "gil" in words:
        if "freethreaded" in words:
            raise _refuse(text, "a build cannot be both +gil and free-threaded")
        words = [w for w in words if w != "gil"]
        return ("debug" if "debug" in words else None), True
    ordered = [v for v in ("freethreaded", "debug") if v in words]
    return "+".join(ordered) or None, bool(words)


def _version_part(part: str, text: str, base: Request) -> Request:
    """``3.12.7``, ``312``, ``3.14rc1``, ``3.13t``, ``>=3.12,<3.14`` onto ``base``."""
    if part[:1] in "<>=!~":
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            return base._replace(specifiers=SpecifierSet(part), named_version=True)
        except InvalidSpecifier:
            raise _refuse(text, f"{shown(part)} is not a version specifier") from None
    match = _VERSION.match(part)
    if not match:
        raise _refuse(text)
    digits = match["digits"]
    if "." not in digits and len(digits) > 1:  # "312" is 3.12, as in cp312
        digits = f"{digits[0]}.{digits[1:]}"
    numbers = [int(n) for n in digits.split(".")]
    major, minor, patch = [*numbers, None, None][:3]
    pre = match["pre"]
    if pre is not None:
        if minor is None:
            raise _refuse(text, "a pre-release needs a minor version, e.g. 3.14rc1")
        patch = 0 if patch is None else patch  # 3.14rc1 is 3.14.0rc1
    variant, named = _variant(match["short"], match["plus"], text)
    return base._replace(
        major=major, minor=minor, patch=patch, prerelease=pre, variant=variant,
        any_variant=base.any_variant and not named, named_version=True,
    )  # fmt: skip


def _implementation(word: str) -> str | None:
    return next((impl for name, impl in _IMPLEMENTATIONS if word == name), None)


def _named(word: str, text: str) -> Request:
    """The request an implementation's name makes (``pyodide``: CPython for Emscripten)."""
    if word == "pyodide":
        return Request(text, **_PYODIDE)
    return Request(text, implementation=_implementation(word), named_implementation=True)


def _platform_word(name: str, value: str) -> str:
    """uv's word for a key's os or arch as typed (``darwin``, ``i686``, ``arm64``)."""
    if name == "os":
        return platforms.OS_WORDS.get(value, value)
    if name == "arch":
        return platforms.parse_arch(value) or value
    return value


def _key_request(raw: str, text: str) -> Request:
    """``<impl>-<version>-<os>-<arch>-<libc>``; later parts optional, any part ``any``."""
    parts = raw.split("-")
    if len(parts) > 5:
        raise _refuse(text)
    impl_word, rest = parts[0], parts[1:]
    if impl_word == "any":
        request = Request(text, implementation=None)
    elif impl_word == "pyodide" or _implementation(impl_word):
        request = _named(impl_word, text)
    else:
        raise _refuse(text, f"unknown implementation {shown(impl_word)}")
    if rest and rest[0] != "any":
        request = _version_part(rest[0], text, request)
    platform: dict[str, str | None] = {}
    for name, value in zip(("os", "arch", "libc"), rest[1:], strict=False):
        if not _WORD.match(value):
            raise _refuse(text, f"{shown(value)} is not a {name}")
        platform[name] = None if value == "any" else _platform_word(name, value)
    return request._replace(
        os=platform.get("os", request.os),
        arch=platform.get("arch", request.arch),
        libc=platform.get("libc", request.libc),
    )


def parse_request(text: str) -> Request:
    """Read a request; anything else (too long, odd characters) raises ``RequestError``."""
    raw = text.strip().lower()
    if len(raw) > MAX_REQUEST:
        raise _refuse(text, f"longer than {MAX_REQUEST} characters")
    if raw in ("", "any"):
        return Request(text, implementation=None, any_variant=True)
    if raw == "default":
        return Request(text)
    head = raw.split("-", 1)[0]
    if "-" in raw and (head in ("any", "pyodide") or _implementation(head)):
        return _key_request(raw, text)
    if raw.startswith("python") and raw != "python":  # python3.12, python@3.12: a version
        return _version_part(raw.removeprefix("python").removeprefix("@"), text, Request(text))
    for name in ("pyodide", *(name for name, _ in _IMPLEMENTATIONS)):
        if raw.startswith(name):
            rest = raw[len(name) :].removeprefix("@")
            base = _named(name, text)
            return _version_part(rest, text, base) if rest else base
    return _version_part(raw, text, Request(text))


def resolve(text: str, builds: Iterable[Build]) -> Build:
    """The newest build matching ``text``; stable releases win over pre-releases."""
    request = parse_request(text)
    builds = list(builds)
    candidates = [b for b in builds if request.matches(b)]
    if not candidates:
        raise RequestError(no_match_message(text, builds))
    return best(candidates, lambda b: b)


def preference(build: Build) -> tuple:
    """Among matches, what uv would pick: CPython, then the default build, then the newest."""
    return (build.implementation == "cpython", build.variant is None, build.sort_key())


def best(candidates: Sequence[T], build_of: Callable[[T], Build], host_arch: str = "") -> T:
    """The one of ``candidates`` (not empty) uv would pick: a stable release before
    pre-releases, then :func:`preference`, then the platform uv prefers (x86_64 before its
    x86_64_v3 build; on Windows, x86_64 before x86)."""
    if not host_arch:
        from tui.engine.host import current_host

        host_arch = current_host().arch
    stable = [c for c in candidates if not build_of(c).is_prerelease]

    def order(candidate: T) -> tuple[object, ...]:
        b = build_of(candidate)
        return platforms.platform_order(b.os, b.arch, b.libc, host_arch)

    # max keeps the first of equals: the preferred platform comes first.
    return max(sorted(stable or candidates, key=order), key=lambda c: preference(build_of(c)))


def no_match_message(text: str, builds: Iterable[Build]) -> str:
    """Name the nearest versions of the same implementation and variant, so the next try works.

    A request for a patch (``3.12.99``) is answered with patches of that minor, a request for
    a minor with minors.
    """
    builds = list(builds)
    try:
        request: Request | None = parse_request(text)
    except RequestError:
        request = None
    if request is not None:
        alike = request._replace(
            major=None, minor=None, patch=None, prerelease=None, specifiers=None
        )
        builds = [b for b in builds if alike.matches(b)]
    depth = 3 if request is not None and request.patch is not None else 2

    def label(build: Build) -> str:
        version = build.version if depth == 3 else build.minor_version
        impl = "" if build.implementation == "cpython" else f"{build.implementation}@"
        return f"{impl}{version}{build.variant_suffix}"

    if request is not None and request.major is not None:
        target = (request.major, request.minor or 0, request.patch or 0)
        if depth == 3:
            same_minor = [b for b in builds if (b.major, b.minor) == target[:2]]
            builds = same_minor or builds

        def distance(build: Build) -> tuple[int, ...]:
            diff = [abs(a - b) for a, b in zip(build.sort_key()[:3], target, strict=True)]
            return tuple(diff[:depth])

        builds = sorted(builds, key=distance)
    else:
        builds = sorted(builds, key=Build.sort_key, reverse=True)
    names: list[str] = []
    for build in builds:
        if label(build) not in names:
            names.append(label(build))
        if len(names) == 4:
            break
    where = "for this platform"
    if not names:
        return f"no build matches {shown(text)} {where}; try --all-platforms or --catalog"
    newest_first = sorted(
        names, key=lambda n: _version_key(n.split("@")[-1].split("+")[0]), reverse=True
    )
    return f"no build matches {shown(text)} {where}; nearest available: {', '.join(newest_first)}"


def _version_key(text: str) -> tuple[int, ...]:
    """``3.12.7`` -> (3, 12, 7): suggestions are plain releases, no packaging needed."""
    return tuple(int(part) for part in text.split(".") if part.isdigit())

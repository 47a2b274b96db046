"""One downloadable interpreter build, named the way uv names it.

Records read on every command's path are named tuples, not dataclasses: a dataclass costs
about a millisecond to create at import, which a reinstall of a fraction of a second feels.
"""

from __future__ import annotations

import re
from typing import NamedTuple, Protocol
from urllib.parse import unquote, urlsplit

from tui.engine import platforms
from tui.engine.platforms import Host

_PRETTY = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalPy", "pyodide": "Pyodide"}


def prerelease_order(pre: str) -> tuple[int, int]:
    """Sort key that puts 3.14.0a1 < 3.14.0b2 < 3.14.0rc1 < 3.14.0."""
    if not pre:
        return (3, 0)
    match = re.match(r"^(a|b|rc)(\d+)$", pre)
    if not match:
        return (-1, 0)
    return ({"a": 0, "b": 1, "rc": 2}[match[1]], int(match[2]))


def build_order(build: str) -> tuple[int, ...]:
    """Sort key of a build tag: a release date (``20250828``) or a PyPy version (``7.3.17``,
    which sorts after ``7.3.9``). A tag of other words sorts first."""
    parts = build.split(".")
    return tuple(int(p) for p in parts) if all(p.isascii() and p.isdigit() for p in parts) else ()


class KeyFields(Protocol):
    """The fields an installation key is made of (InstallKey's, and a Build's first nine)."""

    @property
    def implementation(self) -> str: ...
    @property
    def major(self) -> int: ...
    @property
    def minor(self) -> int: ...
    @property
    def patch(self) -> int: ...
    @property
    def prerelease(self) -> str: ...
    @property
    def variant(self) -> str | None: ...
    @property
    def os(self) -> str: ...
    @property
    def arch(self) -> str: ...
    @property
    def libc(self) -> str: ...


# The names the key's fields make, shared by InstallKey and Build (named tuples cannot share
# properties by inheritance, so each class forwards to these).
def _version(k: KeyFields) -> str:
    return f"{k.major}.{k.minor}.{k.patch}{k.prerelease}"


def _variant_suffix(k: KeyFields) -> str:
    return f"+{k.variant}" if k.variant else ""


def _platform(k: KeyFields) -> str:
    return f"{k.os}-{k.arch}-{k.libc}"


def _key(k: KeyFields) -> str:
    impl = platforms.key_implementation(k.implementation, k.os)
    return f"{impl}-{_version(k)}{_variant_suffix(k)}-{_platform(k)}"


def _minor_key(k: KeyFields) -> str:
    return f"{k.implementation}-{k.major}.{k.minor}{_variant_suffix(k)}-{_platform(k)}"


class InstallKey(NamedTuple):
    """What uv's installation key says, e.g. ``cpython-3.13.1+freethreaded-linux-x86_64-gnu``."""

    implementation: str  # cpython, pypy, graalpy
    major: int
    minor: int
    patch: int
    prerelease: str  # "", "a1", "rc2", ...
    variant: str | None  # None, freethreaded, debug, freethreaded+debug
    os: str
    arch: str  # may carry a micro-architecture, e.g. x86_64_v3
    libc: str

    @property
    def version(self) -> str:
        return _version(self)

    @property
    def minor_version(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def variant_suffix(self) -> str:
        return _variant_suffix(self)

    @property
    def platform(self) -> str:
        return _platform(self)

    @property
    def key(self) -> str:
        """uv's installation key, also the install directory name."""
        return _key(self)

    @property
    def minor_key(self) -> str:
        """uv's minor-version link name, e.g. ``cpython-3.12-linux-x86_64-gnu``."""
        return _minor_key(self)


class Build(NamedTuple):
    """One downloadable archive of a build: its key's fields, then where to get it."""

    implementation: str  # the fields of InstallKey, in its order
    major: int
    minor: int
    patch: int
    prerelease: str
    variant: str | None
    os: str
    arch: str
    libc: str
    build: str  # python-build-standalone release date, or the PyPy version
    url: str | None  # None for an archive found in the cache that no catalog knows
    sha256: str | None

    # The names the key's fields make, as InstallKey makes them.
    @property
    def version(self) -> str:
        return _version(self)

    @property
    def minor_version(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def variant_suffix(self) -> str:
        return _variant_suffix(self)

    @property
    def platform(self) -> str:
        return _platform(self)

    @property
    def key(self) -> str:
        """uv's installation key, also the install directory name."""
        return _key(self)

    @property
    def minor_key(self) -> str:
        """uv's minor-version link name, e.g. ``cpython-3.12-linux-x86_64-gnu``."""
        return _minor_key(self)

    @property
    def filename(self) -> str:
        """The archive's file name as published (``+`` unquoted)."""
        if self.url is None:
            return ""
        return unquote(urlsplit(self.url).path.rsplit("/", 1)[-1])

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    def runs_on(self, host: Host) -> bool:
        """Listed and installed here without naming a platform, as uv has it (x86_64_v3 on
        any x86_64: like uv, pyshelf does not check CPU features)."""
        return platforms.runs_on(host, self.os, self.arch, self.libc)

    def sort_key(self) -> tuple:
        """Newest first when sorted in reverse."""
        return (
            self.major,
            self.minor,
            self.patch,
            prerelease_order(self.prerelease),
            build_order(self.build),
        )

    def describe(self) -> str:
        impl = platforms.key_implementation(self.implementation, self.os)
        name = _PRETTY.get(impl, impl.capitalize())
        return f"{name} {self.version}{self.variant_suffix}"

"""uv's installation keys as found on disk, and the names uv derives from them.

``cpython-3.12.7+freethreaded-linux-x86_64-gnu`` is an install directory; its minor-version
link is ``cpython-3.12+freethreaded-linux-x86_64-gnu`` and its bin-dir link ``python3.12t``.
"""

from __future__ import annotations

import re

from tui.engine.builds import InstallKey, prerelease_order

_KEY = re.compile(
    r"^(?P<impl>[a-z]+)-(?P<major>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)(?P<pre>(?:a|b|rc)\d+)?"
    r"(?:\+(?P<variant>[a-z]+(?:\+[a-z]+)*))?"
    r"-(?P<os>[a-z0-9]+)-(?P<arch>[a-z0-9_]+)-(?P<libc>[a-z0-9]+)$"
)


MINOR_KEY = re.compile(
    r"^[a-z]+-\d+\.\d+(?:\+[a-z]+(?:\+[a-z]+)*)?-[a-z0-9]+-[a-z0-9_]+-[a-z0-9]+$"
)


VARIANT_SUFFIX = {"freethreaded": "t", "debug": "d", "freethreaded+debug": "td"}


_EXE_STEM = {"cpython": "python"}  # pypy -> pypy3.10, graalpy -> graalpy3.11

WINDOWS = "windows"  # the os of a key for Windows: its builds have their own layout


class KeyParts(InstallKey):
    """An installation key as found on disk, with what uv derives from it."""

    __slots__ = ()

    @property
    def has_minor_link(self) -> bool:
        # uv 0.13 makes minor-version links for CPython only (PyPy's bin link points straight
        # at the patch directory).
        return self.implementation == "cpython"

    @property
    def executable_name(self) -> str:
        """The bin-dir link uv makes: python3.12, python3.13t, python3.12d, pypy3.10."""
        stem = _EXE_STEM.get(self.implementation, self.implementation)
        suffix = VARIANT_SUFFIX.get(self.variant or "", "")
        return f"{stem}{self.major}.{self.minor}{suffix}"

    @property
    def default_names(self) -> tuple[str, str, str]:
        """The bin-dir links ``uv python install --default`` makes: python3.12, python3 and
        python (python3.13t, python3t, pythont; pypy3.10, pypy3, pypy)."""
        stem = _EXE_STEM.get(self.implementation, self.implementation)
        suffix = VARIANT_SUFFIX.get(self.variant or "", "")
        return self.executable_name, f"{stem}{self.major}{suffix}", f"{stem}{suffix}"

    @property
    def interpreter_name(self) -> str:
        """The interpreter uv runs in the install's ``bin``: as above, but plain ``graalpy``."""
        return "graalpy" if self.implementation == "graalpy" else self.executable_name

    @property
    def interpreter_path(self) -> str:
        """Where the interpreter uv runs lies in the install, "/"-separated: ``bin/`` and
        ``interpreter_name`` on Linux and macOS; for Windows (uv's ``executable_path_from_base``
        and ``executable``) at the install's root, ``python.exe`` whatever the variant,
        ``pypy3.10.exe``, and GraalPy's ``bin/graalpy.exe``."""
        if self.os != WINDOWS:
            return f"bin/{self.interpreter_name}"
        if self.implementation == "graalpy":
            return "bin/graalpy.exe"
        version = "" if self.implementation == "cpython" else f"{self.major}.{self.minor}"
        return f"{_EXE_STEM.get(self.implementation, self.implementation)}{version}.exe"

    def sort_key(self) -> tuple[int, int, int, tuple[int, int]]:
        return (self.major, self.minor, self.patch, prerelease_order(self.prerelease))


def parse_key(name: str) -> KeyParts | None:
    """Parse an installation key; None for anything else (minor links, .temp, stray dirs)."""
    match = _KEY.match(name)
    if not match:
        return None
    return KeyParts(
        implementation=match["impl"],
        major=int(match["major"]),
        minor=int(match["minor"]),
        patch=int(match["patch"]),
        prerelease=match["pre"] or "",
        variant=match["variant"],
        os=match["os"],
        arch=match["arch"],
        libc=match["libc"],
    )

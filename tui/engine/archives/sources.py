"""Where an archive is downloaded from, and in what order: as uv 0.13 does it.

A CPython archive published on python-build-standalone's GitHub releases is fetched through
Astral's mirror first, and from GitHub when the mirror fails (any HTTP error or none at all).
``UV_ASTRAL_MIRROR_URL`` replaces the mirror's base, an Artifactory or Nexus proxy of it say,
and then only that mirror is asked. ``UV_PYTHON_INSTALL_MIRROR`` (``UV_PYPY_INSTALL_MIRROR``
for PyPy) overrides both: the catalog's URLs are pointed at it as the catalog loads, and only
it is asked. Any other URL (PyPy's, GraalPy's, a private catalog's) is asked as it is.
"""

from __future__ import annotations

from typing import NamedTuple

from tui.engine.builds import Build
from tui.engine.redact import redact_url

ASTRAL_MIRROR_ENV = "UV_ASTRAL_MIRROR_URL"
ASTRAL_MIRROR = "https://releases.astral.sh"  # uv's default mirror, as uv's source has it
PBS_RELEASES = "https://github.com/astral-sh/python-build-standalone/releases/download/"
_MIRROR_PATH = "/github/python-build-standalone/releases/download/"


class Sources(NamedTuple):
    """The download sources the user chose (None: uv's default)."""

    python_mirror: str | None = None  # UV_PYTHON_INSTALL_MIRROR
    astral_mirror: str | None = None  # UV_ASTRAL_MIRROR_URL

    def urls(self, build: Build) -> tuple[str, ...]:
        """The URLs to request ``build`` from, in order; empty when it has none."""
        url = build.url
        if not url:
            return ()
        if self.python_mirror or build.implementation != "cpython":
            return (url,)
        if not url.startswith(PBS_RELEASES):
            return (url,)
        base = (self.astral_mirror or ASTRAL_MIRROR).rstrip("/")
        mirrored = base + _MIRROR_PATH + url[len(PBS_RELEASES) :]
        return (mirrored,) if self.astral_mirror else (mirrored, url)

    def describe(self) -> str:
        """Where python-build-standalone's archives come from, in a few words (redacted)."""
        if self.python_mirror:
            return f"{redact_url(self.python_mirror)} (UV_PYTHON_INSTALL_MIRROR), nothing else"
        if self.astral_mirror:
            return f"{redact_url(self.astral_mirror)} ({ASTRAL_MIRROR_ENV}), nothing else"
        return f"Astral's mirror {ASTRAL_MIRROR}, then GitHub when it fails"

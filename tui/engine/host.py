"""What this machine is, in the words python-build-standalone and uv use."""

from __future__ import annotations

import os
import sys
from functools import cache
from typing import NamedTuple

_ARCH_ALIASES = {"amd64": "x86_64", "arm64": "aarch64", "i686": "x86", "i386": "x86"}


class Host(NamedTuple):
    os: str  # linux, macos, windows
    arch: str  # x86_64, aarch64, x86, ...
    libc: str  # gnu, musl, none

    def __str__(self) -> str:
        return f"{self.os}-{self.arch}-{self.libc}"


def _libc() -> str:
    if not sys.platform.startswith("linux"):
        return "none"
    try:  # "glibc 2.36"; musl has no answer. (No `platform`: its import costs more.)
        if os.confstr("CS_GNU_LIBC_VERSION"):
            return "gnu"
    except (ValueError, OSError):
        pass
    # musl does not identify itself to libc_ver; its loader does.
    import glob

    return "musl" if glob.glob("/lib/ld-musl-*.so.1") else "gnu"


@cache
def current_host() -> Host:
    if hasattr(os, "uname"):
        machine = os.uname().machine.lower()
    else:  # Windows
        import platform

        machine = platform.machine().lower()
    arch = _ARCH_ALIASES.get(machine, machine)
    if sys.platform == "darwin":
        os_name = "macos"
    elif sys.platform == "win32":
        os_name = "windows"
    else:
        os_name = sys.platform.rstrip("0123456789")
    return Host(os_name, arch, _libc())

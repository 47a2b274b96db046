"""What this machine is, in the words uv's installation keys use (``linux-x86_64-gnu``).

uv names the machine it was built for; pyshelf names the one Python runs on, with the same
words: a 32-bit Python on a 64-bit kernel is an x86 (or armv7) machine, as a 32-bit uv there
would be, and a 32-bit ARM Linux says its float ABI (gnueabihf, gnueabi) as uv reads it.
"""

from __future__ import annotations

import os
import sys
from functools import cache

from tui.engine import platforms
from tui.engine.platforms import Host

__all__ = ["Host", "current_host", "host_libc", "machine_arch"]

LIBC_ENV = "UV_LIBC"  # uv's override of the detected libc, on Linux
# uname's and Windows' names for machines, where they are not already uv's words.
_MACHINES = {
    "amd64": "x86_64", "x64": "x86_64", "i386": "x86", "i486": "x86", "i586": "x86",
    "armv7l": "armv7", "armv8l": "armv7", "armv6l": "armv6", "armv5tel": "armv5te",
}  # fmt: skip
_NARROW = {"x86_64": "x86", "aarch64": "armv7"}  # a 32-bit Python on a 64-bit kernel
_ARM_32 = frozenset({"armv7", "armv6", "armv5te"})


def machine_arch(machine: str, pointer_bits: int = 64) -> str:
    """uv's word for a machine as ``uname -m`` (or Windows) names it; unknown names kept."""
    name = machine.lower()
    arch = platforms.parse_arch(_MACHINES.get(name, name)) or name
    return _NARROW.get(arch, arch) if pointer_bits == 32 else arch


def hard_float(cpuinfo: str = "/proc/cpuinfo") -> bool | None:
    """Whether the CPU has a floating-point unit, from ``Features`` (``vfp`` on ARM, ``fp``
    on an AArch64 kernel running 32-bit userspace); None when it cannot be read."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as handle:
            text = handle.read(1 << 20)
    except OSError:
        return None
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "Features" and {"vfp", "fp"} & set(value.split()):
            return True
    return False


def float_abi(libc: str, arch: str, hard: bool | None) -> str:
    """32-bit ARM's libc names its float ABI (gnueabihf, musleabi); uv keeps plain gnu or
    musl when the CPU cannot be read."""
    if arch not in _ARM_32 or hard is None:
        return libc
    return libc + ("eabihf" if hard else "eabi")


def host_libc(arch: str, platform: str = sys.platform) -> str:
    if not platform.startswith("linux"):
        return "none"
    override = os.environ.get(LIBC_ENV, "").strip()
    if override in platforms.LIBCS:
        return override
    try:  # "glibc 2.36"; musl has no answer. (No `platform`: its import costs more.)
        found = bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (ValueError, OSError):
        found = False
    libc = "gnu"
    if not found:
        import glob  # musl does not identify itself to confstr; its loader does

        libc = "musl" if glob.glob("/lib/ld-musl-*.so.1") else "gnu"
    return float_abi(libc, arch, hard_float() if arch in _ARM_32 else None)


@cache
def current_host() -> Host:
    if hasattr(os, "uname"):
        machine = os.uname().machine
    else:  # Windows
        import platform

        machine = platform.machine()
    arch = machine_arch(machine, 64 if sys.maxsize > 2**32 else 32)
    if sys.platform == "darwin":
        os_name = "macos"
    elif sys.platform == "win32":
        os_name = "windows"
    else:
        os_name = sys.platform.rstrip("0123456789")
    return Host(os_name, arch, host_libc(arch))

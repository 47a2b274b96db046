"""uv's platform words, and which builds run on a machine, decided as uv decides it.

Catalogs and archive names say ``darwin``, ``i686``, ``riscv64``, ``ppc64le``; uv's
installation keys say ``macos``, ``x86``, ``riscv64gc``, ``powerpc64le``. Every word a catalog
may use maps here to the one uv writes, so a key pyshelf makes is the key uv makes.
"""

from __future__ import annotations

from typing import NamedTuple

OS_WORDS = {
    "linux": "linux", "darwin": "macos", "macos": "macos", "windows": "windows",
    "emscripten": "emscripten",
}  # fmt: skip

# The architecture families uv has builds for, and the spellings catalogs and archive names
# use for them; uv parses "riscv64" as riscv64gc and "armv5tel" as armv5te, and writes i686 as
# "x86". ppc64le and ppc64 are python-build-standalone's names for the powerpc ones.
ARCH_WORDS = {
    "x86_64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64", "i686": "x86", "x86": "x86",
    "armv7": "armv7", "armv6": "armv6", "armv5tel": "armv5te", "armv5te": "armv5te",
    "powerpc64le": "powerpc64le", "ppc64le": "powerpc64le", "powerpc64": "powerpc64",
    "ppc64": "powerpc64", "riscv64": "riscv64gc", "riscv64gc": "riscv64gc", "s390x": "s390x",
    "loongarch64": "loongarch64", "wasm32": "wasm32",
}  # fmt: skip
ARCH_LEVELS = ("v2", "v3", "v4")  # uv knows micro-architecture levels of x86_64 only
LIBCS = frozenset({"gnu", "gnueabi", "gnueabihf", "musl", "musleabi", "musleabihf", "none"})
VARIANTS = ("freethreaded", "debug", "freethreaded+debug")
# uv's order of variants (its PythonVariant enum): the default build first.
_VARIANT_ORDER = {None: 0, "debug": 1, "freethreaded": 2, "freethreaded+debug": 3}
# How uv spells a family when it orders families by name (target-lexicon's names).
_FAMILY_NAME = {"x86": "i686"}


class Host(NamedTuple):
    os: str  # linux, macos, windows, ...
    arch: str  # x86_64, aarch64, x86, riscv64gc, ...
    libc: str  # gnu, musl, gnueabihf, none, ...

    def __str__(self) -> str:
        return f"{self.os}-{self.arch}-{self.libc}"


def arch_word(family: str, level: str | None = None) -> str | None:
    """uv's word for an architecture family and level (``x86_64``, ``v3`` -> ``x86_64_v3``);
    None when uv would not accept it."""
    base = ARCH_WORDS.get(family)
    if base is None or (level is not None and (base != "x86_64" or level not in ARCH_LEVELS)):
        return None
    return f"{base}_{level}" if level else base


def parse_arch(text: str) -> str | None:
    """An architecture as written in a request or an archive name (``x86_64_v3``, ``i686``)."""
    if (whole := arch_word(text)) is not None:
        return whole
    family, _, level = text.rpartition("_")
    return arch_word(family, level) if family else None


def family(arch: str) -> str:
    """``x86_64_v3`` -> ``x86_64``; any other word is its own family."""
    head, _, level = arch.rpartition("_")
    return head if level in ARCH_LEVELS else arch


def _level(arch: str) -> int:
    head, _, level = arch.rpartition("_")
    return ARCH_LEVELS.index(level) + 1 if head and level in ARCH_LEVELS else 0


def arch_runs(os: str, host_arch: str, arch: str) -> bool:
    """Whether a build for ``arch`` runs on a ``host_arch`` machine of this ``os``, by uv's
    rules: Windows runs x86 on x86_64 and both on aarch64, macOS runs x86_64 on aarch64
    (Rosetta), wasm32 runs anywhere, and any level of a family runs on the family (uv does
    not check CPU features)."""
    if arch == host_arch:
        return True
    pair = (family(host_arch), family(arch))
    if os == "windows" and pair in {("x86_64", "x86"), ("aarch64", "x86_64"), ("aarch64", "x86")}:
        return True
    if os == "macos" and pair == ("aarch64", "x86_64"):
        return True
    return pair[1] == "wasm32" or pair[0] == pair[1]


def runs_on(host: Host, os: str, arch: str, libc: str) -> bool:
    """A build for this platform is one uv lists and installs here without being told a
    platform: the same OS and libc, an architecture the machine runs."""
    return os == host.os and libc == host.libc and arch_runs(os, host.arch, arch)


def platform_order(os: str, arch: str, libc: str, host_arch: str) -> tuple[object, ...]:
    """uv's order of platforms, the one it prefers first: by OS name, then the machine's own
    architecture family (x86_64 for Windows builds), other families by name, the plain build
    before its levels, then libc by name."""
    own = family(arch)
    preferred = "x86_64" if os == "windows" else family(host_arch)
    return (os, own != preferred, _FAMILY_NAME.get(own, own), _level(arch), libc)


def variant_order(variant: str | None) -> int:
    return _VARIANT_ORDER.get(variant, len(_VARIANT_ORDER))


def key_implementation(implementation: str, os: str) -> str:
    """The implementation an installation key names: uv calls every Emscripten build
    Pyodide, whatever its catalog entry says."""
    return "pyodide" if os == "emscripten" else implementation

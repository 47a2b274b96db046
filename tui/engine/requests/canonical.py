"""A request as uv spells it in a pin file: what ``uv python pin`` writes for it.

uv writes its canonical form, not the text typed: ``cp312`` becomes ``cpython@3.12``,
``3.13t`` becomes ``3.13+freethreaded``, ``3.14.0rc1`` becomes ``3.14rc1``, a range's
specifiers are sorted and joined by ``", "``, and an installation key gets all five of its
parts (``pypy-3.10`` is ``pypy-3.10-any-any-any``). ``pyshelf pin`` writes the same bytes.
Only requests pyshelf reads (``parse_request``) have a canonical form here.
"""

from __future__ import annotations

from tui.engine.errors import RequestError
from tui.engine.requests.resolve import _IMPLEMENTATIONS, _VERSION, parse_request

_LONG_NAMES = dict(_IMPLEMENTATIONS)  # cp -> cpython, pp -> pypy, gp -> graalpy
_SHORT_VARIANTS = {"t": ["freethreaded"], "d": ["debug"], "td": ["freethreaded", "debug"]}
# uv's names for the platform words it spells another way.
_ALIASES = {"darwin": "macos", "i686": "x86", "arm64": "aarch64"}
# uv orders the specifiers of a range by version, then by operator in this order.
_OPERATORS = ("==", "==.*", "===", "!=", "!=.*", "~=", "<", "<=", ">", ">=")


def canonical_request(text: str) -> str:
    """uv's spelling of ``text``; a request pyshelf cannot read raises ``RequestError``."""
    parse_request(text)  # refuses what pyshelf cannot read, with its own message
    raw = text.strip().lower()
    if not raw:
        raise RequestError("name a version to pin, e.g. 3.12 or pypy@3.10")
    if raw in ("any", "default"):
        return raw
    if raw.startswith("python@"):  # uv: a bare version, whatever the implementation
        return _version(raw.removeprefix("python@"))
    head = raw.split("-", 1)[0]
    if "-" in raw and (head == "any" or head in _LONG_NAMES):
        return _key(raw.split("-"))
    for name, implementation in _IMPLEMENTATIONS:
        if raw.startswith(name):
            rest = raw[len(name) :].removeprefix("@")
            return f"{implementation}@{_version(rest)}" if rest else implementation
    return _version(raw)


def _key(parts: list[str]) -> str:
    """``<impl>-<version>-<os>-<arch>-<libc>``, every part present (``any`` when not given)."""
    parts = parts + ["any"] * (5 - len(parts))
    impl, version, *platform = parts
    impl = _LONG_NAMES.get(impl, impl)
    version = version if version == "any" else _version(version)
    return "-".join([impl, version, *(_ALIASES.get(p, p) for p in platform)])


def _version(part: str) -> str:
    if part[:1] in "<>=!~":
        return _specifiers(part)
    match = _VERSION.match(part)
    assert match is not None  # parse_request read it
    digits = match["digits"]
    if "." in digits:
        numbers = [int(n) for n in digits.split(".")]
    else:  # uv reads the number first, then splits a wheel tag: 312 is 3.12, 03 is 3
        whole = str(int(digits))
        numbers = [int(whole[0]), int(whole[1:])] if len(whole) > 1 else [int(whole)]
    pre = ""
    if match["pre"]:
        kind = match["pre"].rstrip("0123456789")
        pre = f"{kind}{int(match['pre'][len(kind) :])}"
        if len(numbers) == 3 and numbers[2] == 0:
            numbers.pop()  # 3.14.0rc1 is 3.14rc1
    words = _SHORT_VARIANTS.get(match["short"] or "", []) + match["plus"].split("+")
    return ".".join(map(str, numbers)) + pre + _variant_suffix(set(words))


def _variant_suffix(words: set[str]) -> str:
    debug = "+debug" if "debug" in words else ""
    if "gil" in words:
        return "+gil" + debug
    return ("+freethreaded" if "freethreaded" in words else "") + debug


def _specifiers(part: str) -> str:
    from packaging.specifiers import Specifier
    from packaging.version import InvalidVersion, Version

    specs = []
    for text in part.split(","):
        if not text.strip():
            continue
        spec = Specifier(text.strip())  # parse_request checked the set
        star = spec.version.endswith(".*")
        bare = spec.version.removesuffix(".*")
        try:
            version: Version | None = Version(bare)
        except InvalidVersion:  # === takes any string
            version = None
        shown = str(version) if version is not None else bare
        operator = spec.operator + (".*" if star else "")
        specs.append((version, operator, f"{spec.operator}{shown}{'.*' if star else ''}"))
    if all(version is not None for version, _, _ in specs):
        specs.sort(key=lambda s: (s[0], _OPERATORS.index(s[1])))
    return ", ".join(text for _, _, text in specs)

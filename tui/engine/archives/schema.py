"""The rules a catalog entry must meet before it becomes a :class:`Build`.

A catalog comes from the network or from a file someone handed over, so every field is
hostile until checked here: the words must be ones uv knows, numbers must be small, the
sha256 must be 64 hex digits, the URL must use an allowed scheme and end in a plain archive
file name. Everything derived from a build later (cache names, install directory names,
links) is built from these checked parts only.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

from tui.engine import names, platforms
from tui.engine.builds import Build
from tui.engine.errors import CatalogError, shown

IMPLEMENTATIONS = frozenset({"cpython", "pypy", "graalpy"})
RULES = 2  # bumped when these rules change, so a checked catalog kept on disk is checked again
SCHEMES_REMOTE = frozenset({"http", "https"})
SCHEMES_LOCAL = SCHEMES_REMOTE | {"file"}
ARCHIVE_SUFFIXES = (".tar.gz", ".tar.zst", ".tar.bz2", ".tar.xz", ".zip")

MAX_VERSION_PART = 999
MAX_URL = 2048
MAX_FILENAME = 200  # leaves room for the cache's 10-character prefix under NAME_MAX (255)
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_PRERELEASE = re.compile(r"^(?:a|b|rc)\d{1,3}$")
_BUILD = re.compile(r"^[0-9A-Za-z.]{0,32}$")
_FILENAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._+-]*$")
# Nearly every catalog URL: http(s), a host name alone (no user, port, brackets), a path, no
# query or fragment. Its scheme, host and path are plain to see; urlsplit, taking the others,
# was a third of the time it took to read the built-in catalog.
_PLAIN_URL = re.compile(r"(?P<scheme>https?)://[0-9A-Za-z.-]+(?P<path>/[^?#]*)")
# Spaces and control characters: one regex search, not a Python loop over each character
# (that loop was most of the time it took to read the built-in catalog).
_BLANK_OR_CONTROL = re.compile(r"[\x00-\x20\x7f]")


_PLAIN_WORD = re.compile(r"^[a-z0-9_+]{1,32}$")


class BadEntry(Exception):
    """One catalog entry broke a rule; the catalog skips it and says why."""


class UnknownWord(BadEntry):
    """A well-formed word pyshelf does not know (a platform or variant newer than it): the
    entry is skipped quietly, counted in one line for the whole catalog."""


def _word(value: object, allowed: frozenset[str] | dict[str, str], what: str) -> str:
    if isinstance(value, str) and value in allowed:
        return allowed[value] if isinstance(allowed, dict) else value
    if isinstance(value, str) and _PLAIN_WORD.match(value):
        raise UnknownWord(f"{what} {value!r}")
    raise BadEntry(f"unknown {what} {shown(value)}")


def _arch(value: object) -> str:
    """uv's word for a catalog's ``{"family": ..., "variant": ...}`` (or a bare family)."""
    family, level = (value.get("family"), value.get("variant")) if isinstance(value, dict) else (
        value, None)  # fmt: skip
    if isinstance(family, str) and (level is None or isinstance(level, str)):
        if (word := platforms.arch_word(family, level)) is not None:
            return word
        text = f"{family}_{level}" if level else family
        if _PLAIN_WORD.match(text):
            raise UnknownWord(f"arch {text!r}")
    raise BadEntry(f"unknown arch {shown(family)}")


def _number(value: object, what: str) -> int:
    # bool is an int to Python, never to a catalog.
    if type(value) is not int or not 0 <= value <= MAX_VERSION_PART:
        raise BadEntry(f"{what} must be a whole number from 0 to {MAX_VERSION_PART}")
    return value


def _optional(value: object, pattern: re.Pattern[str], what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or not pattern.match(value):
        raise BadEntry(f"{what} {shown(value)} is not valid")
    return value


def check_sha256(value: object) -> str | None:
    """64 hex digits, lower-cased; ``None`` when the catalog publishes none."""
    if value is None:
        return None
    if not isinstance(value, str) or not _SHA256.match(value):
        raise BadEntry("sha256 must be 64 hex digits")
    return value.lower()


def check_url(value: object, schemes: frozenset[str]) -> str:
    """An absolute URL with an allowed scheme whose last segment is a plain archive name."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL:
        raise BadEntry("url must be a string of at most 2048 characters")
    if _BLANK_OR_CONTROL.search(value):
        raise BadEntry("url holds spaces or control characters")
    plain = _PLAIN_URL.fullmatch(value)
    if plain and plain["scheme"] in schemes:  # what urlsplit would find, at a fraction of its cost
        path = plain["path"]
    else:
        parts = urlsplit(value)
        if parts.scheme not in schemes:
            allowed = ", ".join(sorted(schemes))
            raise BadEntry(f"url scheme {parts.scheme or 'none'!r} is not allowed here ({allowed})")
        if parts.scheme != "file" and not parts.hostname:
            raise BadEntry("url names no host")
        path = parts.path
    check_filename(unquote(path.rsplit("/", 1)[-1]))
    return value


def check_filename(name: str) -> str:
    """A single path component that can only ever name a file inside the cache."""
    if not name or len(name) > MAX_FILENAME or not _FILENAME.match(name):
        raise BadEntry(f"archive file name {shown(name)} is not a plain file name")
    if not name.endswith(ARCHIVE_SUFFIXES):
        raise BadEntry(f"archive file name {shown(name)} is not a known archive type")
    return name


Mirrors = tuple[str | None, str | None]  # python-build-standalone's, PyPy's


def build_from_entry(
    entry: object, schemes: frozenset[str], mirrors: Mirrors = (None, None)
) -> Build:
    """One entry of uv's download-metadata.json as a checked :class:`Build`, its published URL
    pointed at the mirrors once checked (a mirror is the user's own choice of source)."""
    if not isinstance(entry, dict):
        raise BadEntry(f"expected an object, got {type(entry).__name__}")
    arch = _arch(entry.get("arch"))
    os_name = _word(entry.get("os"), platforms.OS_WORDS, "os")
    libc = entry.get("libc")
    libc = "none" if libc is None else _word(libc, platforms.LIBCS, "libc")
    variant = entry.get("variant") or None
    if variant is not None:
        variant = _word(variant, frozenset(platforms.VARIANTS), "variant")
    return Build(
        implementation=_word(entry.get("name"), IMPLEMENTATIONS, "implementation"),
        major=_number(entry.get("major"), "major"),
        minor=_number(entry.get("minor"), "minor"),
        patch=_number(entry.get("patch"), "patch"),
        prerelease=_optional(entry.get("prerelease") or None, _PRERELEASE, "prerelease"),
        variant=variant,
        os=os_name,
        arch=arch,
        libc=libc,
        build=_optional(_build_text(entry.get("build")), _BUILD, "build"),
        url=names.rewrite_mirror(check_url(entry.get("url"), schemes), *mirrors),
        sha256=check_sha256(entry.get("sha256")),
    )


def build_from_row(row: object, schemes: frozenset[str]) -> Build:
    """A :class:`Build` kept as a row of its fields (the checked built-in index), through the
    same check as a catalog entry: the file it was kept in may have been changed since."""
    if not isinstance(row, list) or len(row) != len(Build._fields):
        raise BadEntry(f"expected a row of {len(Build._fields)} fields")
    impl, major, minor, patch, prerelease, variant, os_name, arch, libc, build, url, sha = row
    family, _, micro = arch.rpartition("_") if isinstance(arch, str) else ("", "", "")
    if micro in platforms.ARCH_LEVELS:  # x86_64_v3, as a catalog spells it
        arch = {"family": family, "variant": micro}
    entry = {
        "name": impl, "major": major, "minor": minor, "patch": patch, "prerelease": prerelease,
        "variant": variant, "os": os_name, "arch": arch, "libc": libc, "build": build,
        "url": url, "sha256": sha,
    }  # fmt: skip
    return build_from_entry(entry, schemes)


def with_mirrors(builds: list[Build], mirrors: Mirrors) -> list[Build]:
    """The builds with their published URLs pointed at the mirrors."""
    if not any(mirrors):
        return builds
    return [b._replace(url=names.rewrite_mirror(b.url, *mirrors)) if b.url else b for b in builds]


def _build_text(value: object) -> object:
    # uv writes the release date as a string; an older catalog may hold a number.
    return str(value) if type(value) is int and 0 <= value < 10**12 else value


def builds_from_uv_json(
    data: Any,
    source: str,
    *,
    schemes: frozenset[str],
    mirrors: Mirrors = (None, None),
    limit_warnings: int = 20,
) -> tuple[list[Build], list[str]]:
    """Every valid entry as a build; each bad one skipped with a line naming key and reason.

    Entries with words pyshelf does not know (a new platform, say) are skipped in silence
    but for one line that counts them: a catalog newer than pyshelf is not a broken one."""
    if not isinstance(data, dict):
        raise CatalogError(
            f"{source}: expected a JSON object of downloads, got {type(data).__name__}"
        )
    builds: list[Build] = []
    warnings: list[str] = []
    skipped = 0
    unknown: dict[str, int] = {}
    for key, entry in data.items():
        try:
            builds.append(build_from_entry(entry, schemes, mirrors))
        except UnknownWord as exc:
            unknown[str(exc)] = unknown.get(str(exc), 0) + 1
        except BadEntry as exc:
            skipped += 1
            if len(warnings) < limit_warnings:
                warnings.append(f"catalog {source}: skipped entry {shown(key)}: {exc}")
    if skipped > len(warnings):
        warnings.append(f"catalog {source}: skipped {skipped - len(warnings)} more bad entries")
    if unknown:
        words = sorted(unknown, key=lambda w: -unknown[w])
        named = ", ".join(words[:3]) + (f" and {len(words) - 3} more" if len(words) > 3 else "")
        count = sum(unknown.values())
        warnings.append(
            f"catalog {source}: {count} build(s) for what pyshelf does not know ({named}) "
            "not listed"
        )
    return builds, warnings


def builtin_entries(index: Any) -> dict[str, dict[str, Any]]:
    """pbs-installer's shipped index, restated as uv-format entries so one check covers both."""
    out: dict[str, dict[str, Any]] = {}
    if not isinstance(index, list):
        raise CatalogError("the built-in index is not a list; reinstall pbs-installer")
    for release in index:
        version = release.get("python_version", {}) if isinstance(release, dict) else {}
        impl = version.get("implementation")
        for file in release.get("files", []) if isinstance(release, dict) else []:
            if not isinstance(file, dict) or not file.get("install_only"):
                continue  # the full builds carry debug info and tests: not what uv installs
            filename = str(file.get("filename", ""))
            entry: dict[str, Any] = {
                "name": impl, "os": file.get("platform"), "arch": file.get("arch"),
                "url": file.get("url"), "sha256": file.get("sha256"),
                "major": version.get("major"), "minor": version.get("minor"),
                "patch": version.get("micro"), "libc": "gnu" if file.get("platform") == "linux"
                else "none", "build": names.pypy_build(filename), "variant": None,
            }  # fmt: skip
            if impl == "cpython":
                parsed = names.parse_archive_name(filename)
                if parsed is None:
                    continue
                try:
                    major, minor, patch, pre = names.split_version(parsed.version)
                except ValueError:
                    continue
                entry.update(
                    major=major, minor=minor, patch=patch, prerelease=pre, build=parsed.build,
                    variant=parsed.variant, libc=parsed.libc if parsed.os == "linux" else "none",
                )  # fmt: skip
            out[filename] = entry
    return out

"""Every kind of job, declared once: its verb, words, rule and runner.

The app's keys, footer, palette and help, and the CLI's subcommands, are generated from
``SPECS``; adding a kind is one ``JobSpec`` here, one ``JobQueue`` runner and their tests.

Reasons that point at another action name it as ``{action}`` (e.g. ``{reinstall}``); the app
puts the key bound to it there, the CLI the subcommand (see ``JobSpec.reason``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # the CLI's parser reads this module: it must not load the shelf
    from tui.engine.shelf import Entry


class JobKind(StrEnum):
    FETCH = "fetch"
    INSTALL = "install"
    REINSTALL = "reinstall"
    UNINSTALL = "uninstall"
    EVICT = "evict"
    VERIFY = "verify"
    REMOVE = "remove"  # anything else the clean-up removes: another manager's interpreter, ...
    # Steps that are not an action on one build, each a callable run as a job (``submit_task``).
    REPOINT = "repoint"  # an environment moved to a new patch (upgrade)
    EXPORT = "export"  # cached archives written to a bundle
    IMPORT = "import"  # a bundle's or a file's archives verified into the cache


# Whether a kind applies to an entry: None when it does, else the reason (a template).
Rule = Callable[["Entry", bool], "str | None"]


class CliSpec(NamedTuple):
    """How the kind appears as a ``pyshelf`` subcommand."""

    help: str
    pinned: bool = False  # with no request: what UV_PYTHON or .python-version pins, as uv
    no_bin: bool = False  # takes --no-bin
    compile: bool = False  # takes --compile-bytecode / --no-compile-bytecode, as uv's
    default: bool = False  # takes --default and --force (the bin dir's links), as uv's install
    yes: str | None = None  # takes -y/--yes (counted), with this help


class JobSpec(NamedTuple):
    kind: JobKind
    title: str  # the footer's and the queue's word: "Fetch"
    palette: str  # the command palette's name: "Reinstall from cache"
    help: str  # one line: what it does
    key: str | None  # the app's default key; None: not an action of the builds table
    runner: str  # the JobQueue method that runs it
    rule: Rule | None = None  # None: applies to anything it is given
    destroys: bool = False  # deletes files: asks first, and never under a running job
    cli: CliSpec | None = None
    notes: str = ""  # more for the help page, after ``help``
    question: str = ""  # the app's confirmation title; {what} is the build or "N builds"

    @property
    def verb(self) -> str:
        return self.kind.value

    @property
    def action(self) -> str:
        """The app's action and binding id."""
        return self.kind.value

    def why_not(
        self, entry: Entry, *, offline: bool = False, busy: JobKind | None = None
    ) -> str | None:
        """Why this kind does not apply to ``entry`` (a template, see ``reason``), or None.

        ``busy`` is the kind of an unfinished job on the same build: nothing is deleted under it.
        """
        if busy is not None and self.destroys:
            return f"a {busy.value} job is running on it ({{cancel}} in the queue cancels it)"
        return self.rule(entry, offline) if self.rule is not None else None


def reason(template: str, keys: Mapping[str, str]) -> str:
    """Fill a ``why_not`` template: each ``{action}`` becomes ``keys[action]``."""
    import string  # the app's hints need it; the CLI's commands never do

    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    return template.format_map({name: keys.get(name, name) for name in names})


def _fetch(entry: Entry, offline: bool) -> str | None:
    # On a cached archive a fetch verifies its sha256 again; that needs the catalog's.
    if not entry.available:
        return "not in the catalog: nothing to download or verify against"
    if offline and entry.cached is None:
        return "offline: cannot download"
    return None


def _install(entry: Entry, offline: bool) -> str | None:
    cached = entry.cached is not None
    if entry.installation is not None:
        return "already installed: press {reinstall} to reinstall" + (
            "" if cached else " ({fetch} first)"
        )
    if not cached and not entry.available:
        return "neither in the catalog nor in the cache"
    if not cached and offline:
        return "not cached and offline: cannot download"
    return None


def _reinstall(entry: Entry, offline: bool) -> str | None:
    return "not cached: press {fetch} to fetch" if entry.cached is None else None


def _uninstall(entry: Entry, offline: bool) -> str | None:
    return "not installed" if entry.installation is None else None


def _evict(entry: Entry, offline: bool) -> str | None:
    if entry.cached is None and not entry.partial_bytes:
        return "no archive in the cache"
    return None


def _verify(entry: Entry, offline: bool) -> str | None:
    # unpacked_size is 0 without an unpacked copy (None: one is there, not measured yet).
    if entry.cached is None and entry.unpacked_size == 0:
        return "nothing cached to verify: press {fetch} to fetch"
    return None


SPECS: tuple[JobSpec, ...] = (
    JobSpec(
        JobKind.FETCH, "Fetch", "Fetch",
        "download and verify the archive into the cache",
        key="f", runner="_fetch", rule=_fetch,
        notes="resumes a partial one; on a cached archive, checks its sha256 again",
        cli=CliSpec("download archives into the cache (verified, resumable)", pinned=True),
    ),
    JobSpec(
        JobKind.INSTALL, "Install", "Install",
        "install, fetching the archive first when it is not cached",
        key="i", runner="_install", rule=_install,
        cli=CliSpec(
            "install interpreters (from the cache, fetching when missing)",
            pinned=True, no_bin=True, compile=True, default=True,
        ),
    ),
    JobSpec(
        JobKind.REINSTALL, "Reinstall", "Reinstall from cache",
        "reinstall from the cached archive; works offline",
        key="r", runner="_install", rule=_reinstall,
        question="Reinstall {what} over the existing install?",
        cli=CliSpec(
            "reinstall from the cache; works offline when the archive is cached",
            no_bin=True, compile=True,
            yes="reinstall even when that discards files added to or edited in the install "
            "(asked on a terminal, refused otherwise)",
        ),
    ),
    JobSpec(
        JobKind.UNINSTALL, "Uninstall", "Uninstall",
        "remove the installed interpreter",
        key="u", runner="_uninstall", rule=_uninstall, destroys=True,
        question="Uninstall {what}?",
        notes="asks first, shows the space it frees; if environments, `.python-version` "
        "files or other managers' pins use it, asks again naming them: answer {break}",
        cli=CliSpec(
            "remove installed interpreters",
            yes="twice (-yy): also remove interpreters that environments, .python-version "
            "files or other managers' pins use (refused otherwise)",
        ),
    ),
    JobSpec(
        JobKind.EVICT, "Evict", "Evict archive",
        "remove the cached archive",
        key="e", runner="_evict", rule=_evict, destroys=True,
        question="Evict the cached archive of {what}?",
        notes="and any partial download (asks first)",
        cli=CliSpec(
            "remove cached archives",
            yes="accepted as uninstall does; an archive going breaks no environment",
        ),
    ),
    # `pyshelf verify` is older than this job and checks the whole cache with no request,
    # so the CLI keeps its own subcommand (tui.cli.main) rather than a generated one.
    JobSpec(
        JobKind.VERIFY, "Verify", "Verify",
        "hash the cached archive and the unpacked copy in full again",
        key="V", runner="_verify", rule=_verify,
        notes="a damaged unpacked copy is dropped, so the next install unpacks the archive "
        "again; a damaged archive is left for fetch to replace",
    ),
    JobSpec(
        JobKind.REMOVE, "Remove", "Remove",
        "remove something the disk-usage view marked",
        key=None, runner="_remove", destroys=True,
    ),
    JobSpec(
        JobKind.REPOINT, "Repoint", "Repoint",
        "move an environment to the new patch of its interpreter",
        key=None, runner="_task",
    ),
    JobSpec(
        JobKind.EXPORT, "Export", "Export",
        "write cached archives to a bundle, verifying each",
        key=None, runner="_task",
    ),
    JobSpec(
        JobKind.IMPORT, "Import", "Import",
        "add a bundle's archives to the cache, verifying each",
        key=None, runner="_task",
    ),
)  # fmt: skip

BY_KIND: dict[JobKind, JobSpec] = {spec.kind: spec for spec in SPECS}


def spec(kind: JobKind) -> JobSpec:
    return BY_KIND[kind]


def table_specs() -> list[JobSpec]:
    """The kinds the builds table offers, in key order."""
    return [s for s in SPECS if s.key is not None]


def cli_specs() -> list[JobSpec]:
    """The kinds that are ``pyshelf`` subcommands."""
    return [s for s in SPECS if s.cli is not None]

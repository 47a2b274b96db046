"""Every kind of job as the engine knows it: its verb, rule, runner and subcommand.

A kind is one ``register(JobSpec(...))``: the queue runs its ``runner``, the CLI makes its
subcommand from its ``CliSpec`` and resolves the requests by the spec's ``targets`` rule,
and the app offers it once it has words for it (``tui.app.kinds``). The built-in kinds are
registered at the end of this module; their runners are in ``tui.engine.runners``.

Reasons that point at another action name it as ``{action}`` (e.g. ``{reinstall}``); the app
puts the key bound to it there, the CLI the subcommand (see ``reason``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from tui.engine import runners

if TYPE_CHECKING:  # the CLI's parser reads this module: it must not load the shelf
    from tui.engine.jobs import Job, JobQueue
    from tui.engine.shelf import Entry, Shelf


class JobKind(str):
    """A kind of job, named by its verb ("fetch"): the built-in kinds are attributes
    (``JobKind.FETCH``), and ``register`` adds others."""

    __slots__ = ()

    FETCH: ClassVar[JobKind]
    INSTALL: ClassVar[JobKind]
    REINSTALL: ClassVar[JobKind]
    UNINSTALL: ClassVar[JobKind]
    EVICT: ClassVar[JobKind]
    VERIFY: ClassVar[JobKind]
    REMOVE: ClassVar[JobKind]  # anything else the clean-up removes: another manager's Python
    # Steps that are not an action on one build, each a callable run as a job (``submit_task``).
    REPOINT: ClassVar[JobKind]  # an environment moved to a new patch (upgrade)
    EXPORT: ClassVar[JobKind]  # cached archives written to a bundle
    IMPORT: ClassVar[JobKind]  # a bundle's or a file's archives verified into the cache

    @property
    def value(self) -> str:
        """The verb, as plain text (as an enum member's ``value``)."""
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"JobKind({self.value!r})"


JobKind.FETCH = JobKind("fetch")
JobKind.INSTALL = JobKind("install")
JobKind.REINSTALL = JobKind("reinstall")
JobKind.UNINSTALL = JobKind("uninstall")
JobKind.EVICT = JobKind("evict")
JobKind.VERIFY = JobKind("verify")
JobKind.REMOVE = JobKind("remove")
JobKind.REPOINT = JobKind("repoint")
JobKind.EXPORT = JobKind("export")
JobKind.IMPORT = JobKind("import")


# Whether a kind applies to an entry: None when it does, else the reason (a template).
Rule = Callable[["Entry", bool], "str | None"]
# What runs a job of the kind on the queue's worker thread: it reports to the job, takes the
# queue's slots (``JobQueue.download_slot``, ``disk_slot``) and sets ``job.result``.
Runner = Callable[["JobQueue", "Job"], None]
# The build one CLI request names for the kind: (shelf, every entry, the request, a function
# that prints a warning) -> the entry; raises PyshelfError when none fits.
Warn = Callable[[str], None]
Targets = Callable[["Shelf", "Sequence[Entry]", str, Warn], "Entry"]


def available(shelf: Shelf, entries: Sequence[Entry], request: str, warn: Warn) -> Entry:
    """The newest downloadable (or cached) build the request names."""
    return shelf.resolve_available(request, entries)


def installed(shelf: Shelf, entries: Sequence[Entry], request: str, warn: Warn) -> Entry:
    """An installed build the request names."""
    return shelf.find(request, entries, want=lambda e: e.installation is not None)


def cached(shelf: Shelf, entries: Sequence[Entry], request: str, warn: Warn) -> Entry:
    """A build whose archive (or part of it) is in the cache."""
    return shelf.find(request, entries, want=lambda e: e.cached is not None or e.partial_bytes > 0)


def _install_target(shelf: Shelf, entries: Sequence[Entry], request: str, warn: Warn) -> Entry:
    """As ``available``, but the build installed under that key when it is a rebuild."""
    from tui.engine.shelf.rebuilds import installed_build

    return installed_build(shelf.resolve_available(request, entries), entries, on_rebuild=warn)


def _reinstall_target(shelf: Shelf, entries: Sequence[Entry], request: str, warn: Warn) -> Entry:
    """As an install's, without the warning: a reinstall means the build that is there."""
    from tui.engine.shelf.rebuilds import installed_build

    return installed_build(shelf.resolve_available(request, entries), entries)


class CliSpec(NamedTuple):
    """How the kind appears as a ``pyshelf`` subcommand."""

    help: str
    targets: Targets = available  # what each request resolves to
    pinned: bool = False  # with no request: what UV_PYTHON or .python-version pins, as uv
    no_bin: bool = False  # takes --no-bin
    compile: bool = False  # takes --compile-bytecode / --no-compile-bytecode, as uv's
    default: bool = False  # takes --default and --force (the bin dir's links), as uv's install
    yes: str | None = None  # takes -y/--yes (counted), with this help


class JobSpec(NamedTuple):
    kind: JobKind
    runner: Runner
    rule: Rule | None = None  # None: applies to anything it is given
    destroys: bool = False  # deletes files: asks first, and never under a running job
    cli: CliSpec | None = None

    @property
    def verb(self) -> str:
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


# -- the registry ------------------------------------------------------------------------

_SPECS: dict[JobKind, JobSpec] = {}
_VERB = re.compile(r"[a-z][a-z0-9-]{0,31}")


def register(job: JobSpec) -> JobSpec:
    """Add a kind: the queue runs it, the CLI offers it when it has a ``cli``. Its verb is a
    lowercase word, new to the registry."""
    if not _VERB.fullmatch(job.verb):
        raise ValueError(f"not a job verb: {job.verb!r}")
    if job.kind in _SPECS:
        raise ValueError(f"job kind {job.verb!r} is registered already")
    _SPECS[job.kind] = job
    return job


def unregister(kind: JobKind) -> None:
    """Take a kind out again (tests that add one)."""
    del _SPECS[kind]


def specs() -> list[JobSpec]:
    """Every kind, in the order registered."""
    return list(_SPECS.values())


def spec(kind: JobKind) -> JobSpec:
    return _SPECS[kind]


def cli_specs() -> list[JobSpec]:
    """The kinds that are ``pyshelf`` subcommands."""
    return [s for s in _SPECS.values() if s.cli is not None]


# -- the built-in kinds --------------------------------------------------------------------


def _fetch(entry: Entry, offline: bool) -> str | None:
    # On a cached archive a fetch verifies its sha256 again; that needs the catalog's.
    if not entry.available:
        return "not in the catalog: nothing to download or verify against"
    if offline and entry.cached is None:
        return "offline: cannot download"
    return None


def _install(entry: Entry, offline: bool) -> str | None:
    has_archive = entry.cached is not None
    if entry.installation is not None:
        return "already installed: press {reinstall} to reinstall" + (
            "" if has_archive else " ({fetch} first)"
        )
    if not has_archive and not entry.available:
        return "neither in the catalog nor in the cache"
    if not has_archive and offline:
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


for _job in (
    JobSpec(
        JobKind.FETCH, runners.fetch, rule=_fetch,
        cli=CliSpec("download archives into the cache (verified, resumable)", pinned=True),
    ),
    JobSpec(
        JobKind.INSTALL, runners.install, rule=_install,
        cli=CliSpec(
            "install interpreters (from the cache, fetching when missing)",
            targets=_install_target, pinned=True, no_bin=True, compile=True, default=True,
        ),
    ),
    JobSpec(
        JobKind.REINSTALL, runners.install, rule=_reinstall,
        cli=CliSpec(
            "reinstall from the cache; works offline when the archive is cached",
            targets=_reinstall_target, no_bin=True, compile=True,
            yes="reinstall even when that discards files added to or edited in the install "
            "(asked on a terminal, refused otherwise)",
        ),
    ),
    JobSpec(
        JobKind.UNINSTALL, runners.uninstall, rule=_uninstall, destroys=True,
        cli=CliSpec(
            "remove installed interpreters", targets=installed,
            yes="twice (-yy): also remove interpreters that environments, .python-version "
            "files or other managers' pins use (refused otherwise)",
        ),
    ),
    JobSpec(
        JobKind.EVICT, runners.evict, rule=_evict, destroys=True,
        cli=CliSpec(
            "remove cached archives", targets=cached,
            yes="accepted as uninstall does; an archive going breaks no environment",
        ),
    ),
    # `pyshelf verify` is older than this job and checks the whole cache with no request,
    # so the CLI keeps its own subcommand (tui.cli.main) rather than a generated one.
    JobSpec(JobKind.VERIFY, runners.verify, rule=_verify),
    JobSpec(JobKind.REMOVE, runners.remove, destroys=True),
    JobSpec(JobKind.REPOINT, runners.task),
    JobSpec(JobKind.EXPORT, runners.task),
    JobSpec(JobKind.IMPORT, runners.task),
):  # fmt: skip
    register(_job)

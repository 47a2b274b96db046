"""The app's words for each kind of job, in one table: its footer word, help line, palette
name, confirmation question, default key and notes.

The engine knows what a kind does (``tui.engine.jobspec``); this module says how the app
names and offers it. The builds table offers every registered kind with a ``key`` here, in
the engine's order: its binding, footer word, help line and palette entry all come from its
``Words``, so a kind added with ``jobspec.register`` and ``add`` needs nothing else.
"""

from __future__ import annotations

from typing import NamedTuple

from textual.binding import Binding

from tui.app.keys import forget, known_ids, register
from tui.engine.jobspec import JobKind, JobSpec, specs


class Words(NamedTuple):
    title: str  # the binding's and the dialogs' word: "Fetch"
    help: str  # one line: what it does (the tooltip, the palette's hint)
    footer: tuple[str, str] = ("", "")  # the footer's word, and a shorter one for narrow ones
    line: str = ""  # the help page's line, shorter than ``help``
    palette: str = ""  # the command palette's name: "Reinstall from cache" (default: title)
    key: str | None = None  # the default key; None: not an action of the builds table
    question: str = ""  # the confirmation's title; {what} is the build or "N builds"
    notes: str = ""  # more for the help page, after ``help``


_WORDS: dict[JobKind, Words] = {
    JobKind.FETCH: Words(
        "Fetch", "download and verify the archive into the cache",
        footer=("fetch", "fetch"), line="fetch into the cache", key="f",
        notes="resumes a partial one; on a cached archive, checks its sha256 again",
    ),
    JobKind.INSTALL: Words(
        "Install", "install, fetching the archive first when it is not cached",
        footer=("install", "inst"), line="install (fetches first)", key="i",
    ),
    JobKind.REINSTALL: Words(
        "Reinstall", "reinstall from the cached archive; works offline",
        footer=("reinstall", "reinst"), line="reinstall from the cache",
        palette="Reinstall from cache", key="r",
        question="Reinstall {what} over the existing install?",
    ),
    JobKind.UNINSTALL: Words(
        "Uninstall", "remove the installed interpreter",
        footer=("uninstall", "uninst"), line="uninstall (asks first)", key="u",
        question="Uninstall {what}?",
        notes="asks first, shows the space it frees; if environments, `.python-version` "
        "files or other managers' pins use it, asks again naming them: answer {break}",
    ),
    JobKind.EVICT: Words(
        "Evict", "remove the cached archive",
        footer=("evict", "evict"), line="evict the archive (asks)",
        palette="Evict archive", key="e",
        question="Evict the cached archive of {what}?",
        notes="and any partial download (asks first)",
    ),
    JobKind.VERIFY: Words(
        "Verify", "hash the cached archive and the unpacked copy in full again",
        footer=("Verify", "Verify"), line="verify: hash cached files", key="V",
        notes="a damaged unpacked copy is dropped, so the next install unpacks the archive "
        "again; a damaged archive is left for fetch to replace",
    ),
    JobKind.REMOVE: Words("Remove", "remove something the disk-usage view marked"),
    JobKind.REPOINT: Words("Repoint", "move an environment to the new patch of its interpreter"),
    JobKind.EXPORT: Words("Export", "write cached archives to a bundle, verifying each"),
    JobKind.IMPORT: Words("Import", "add a bundle's archives to the cache, verifying each"),
}  # fmt: skip


def add(kind: JobKind, words: Words) -> None:
    """Give a registered kind its words (and, with a key, its place in the builds table)."""
    if kind in _WORDS or (words.key is not None and action(kind) in known_ids()):
        raise ValueError(f"job kind {kind.value!r} has its words (or its binding id) already")
    _WORDS[kind] = words
    register(bindings(kind))


def remove(kind: JobKind) -> None:
    """Take a kind's words out again (tests that add one)."""
    del _WORDS[kind]
    forget({kind.value})


def words(kind: JobKind) -> Words:
    """A kind's words; one the app has none for reads as its verb."""
    return _WORDS.get(kind) or Words(kind.value.capitalize(), kind.value)


def action(kind: JobKind) -> str:
    """The builds table's action and binding id for ``kind``."""
    return kind.value


def table_specs() -> list[JobSpec]:
    """The kinds the builds table offers, in the engine's order."""
    return [s for s in specs() if (w := _WORDS.get(s.kind)) is not None and w.key is not None]


def table_actions() -> list[str]:
    return [action(s.kind) for s in table_specs()]


def footer_word(binding_id: str) -> tuple[str, str] | None:
    """The footer's words for a job's binding id, or None when it is not one."""
    w = _WORDS.get(JobKind(binding_id))
    return None if w is None or w.key is None else w.footer


def help_line(binding_id: str) -> str | None:
    """The help page's line for a job's binding id, or None when it is not one."""
    w = _WORDS.get(JobKind(binding_id))
    return None if w is None or w.key is None else (w.line or f"{binding_id}: {w.help}")


def bindings(kind: JobKind) -> list[Binding]:
    """A table kind's two bindings: the job, and when that is disabled (it applies to nothing
    highlighted), the same key saying why instead of doing nothing. The same id: a keymap
    moves both."""
    w = _WORDS[kind]
    if w.key is None:
        return []
    return [
        Binding(w.key, f"job('{kind.value}')", w.title, tooltip=w.help, id=action(kind)),
        Binding(w.key, f"explain('{kind.value}')", w.title, show=False, id=action(kind)),
    ]


def table_bindings() -> list[Binding]:
    """Every table kind's bindings, registered (``tui.app.keys``) as the table declares them."""
    return [b for s in table_specs() for b in bindings(s.kind)]

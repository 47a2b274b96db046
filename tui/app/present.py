"""How an entry reads on screen: table cells, state words, totals and the filter.

Pure functions over engine objects (no widgets), so the table and the tests share them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text

from tui.engine.jobs import JobEvent, Phase
from tui.engine.shelf import Entry
from tui.format import human_size

if TYPE_CHECKING:
    from tui.engine.usage.ledger import Ledger

PENDING = "…"  # a size being probed or measured right now
NONE = "—"  # nothing to size: not cached, not installed

# Mid-tone colours so the state column reads on dark and light themes alike; the symbol and
# the word carry the meaning, colour only helps.
INSTALLED_STYLE = "#3fa34d"
CACHED_STYLE = "#3b82f6"
PARTIAL_STYLE = "#d97706"
JOB_STYLE = "#a855f7"
ERROR_STYLE = "#dc2626"
UPGRADE_STYLE = "#0891b2"
PINNED_STYLE = "italic #a855f7"

# (column key, header label); the order is the table's.
COLUMNS: list[tuple[str, str]] = [
    ("mark", "✓"),
    ("version", "Version"),
    ("impl", "Impl"),
    ("variant", "Variant"),
    ("build", "Build"),
    ("state", "State"),
    ("download", "Download"),
    ("cached", "Cached"),
    ("installed", "Installed"),
]
COLUMN_LABELS = dict(COLUMNS)
# Below this width the table drops the build and implementation columns (the variant column
# then names a non-CPython implementation), so all sizes fit in 80 columns.
NARROW_COLUMNS = ["mark", "version", "variant", "state", "download", "cached", "installed"]
WIDE_MIN = 97
SIZE_COLUMNS = {"download", "cached", "installed"}
# Sizes and versions read best largest / newest first.
DESCENDING = {"version", "build", "state", "download", "cached", "installed"}
# Fixed widths for cells whose text changes while the app runs, so columns do not jump;
# each leaves room for the sort arrow after its label.
COLUMN_WIDTHS = {"mark": 1, "state": 13, "download": 9, "cached": 9, "installed": 10}

_JOB_WORDS = {
    Phase.QUEUED: "queued",
    Phase.DOWNLOADING: "fetch",
    Phase.VERIFYING: "verify",
    Phase.EXTRACTING: "unpack",
    Phase.COMPILING: "compile",
    Phase.LINKING: "link",
    Phase.REMOVING: "remove",
}
_STATE_RANK = {"available": 0, "partial": 1, "cached": 2, "installed": 3, "installed+cached": 4}


@dataclass(frozen=True, slots=True)
class Cell:
    """A table cell that renders as ``text`` and sorts by ``sort`` (sizes sort as numbers)."""

    text: Text
    sort: tuple[Any, ...] = ()
    rid: str = ""  # the disk-usage table's mark column: lets DataTable.sort find the row's rank

    def __rich__(self) -> Text:
        return self.text

    @property
    def plain(self) -> str:
        return self.text.plain


def _cell(text: str, sort: tuple[Any, ...], style: str = "", justify: str = "left") -> Cell:
    return Cell(Text(text, style=style, justify=justify, no_wrap=True, overflow="ellipsis"), sort)  # type: ignore[arg-type]


def row_id(entry: Entry) -> str:
    """Unique per row: a key can appear twice when uv cached an older build of it."""
    rid = f"{entry.key}@{entry.build.build}"
    if not entry.available and entry.cached is not None:
        rid += f"#{entry.cached.path.name}"
    return rid


def columns(narrow: bool) -> list[tuple[str, str]]:
    return [(k, label) for k, label in COLUMNS if not narrow or k in NARROW_COLUMNS]


def variant_text(entry: Entry, narrow: bool = False) -> str:
    b = entry.build
    if narrow and b.implementation != "cpython":
        return f"{b.implementation} {b.variant}" if b.variant else b.implementation
    return b.variant or ""


def percent(done: int, total: int | None) -> str:
    if not total:
        return ""
    return f"{min(100, int(100 * done / total))}%"


def state_parts(entry: Entry, job: JobEvent | None = None) -> tuple[str, str, str]:
    """(symbol, words, style): a symbol AND a word, so colour is never the only signal."""
    if job is not None and not job.phase.final:
        pct = percent(job.done, job.total) if job.phase != Phase.QUEUED else ""
        return "◌", f"{_JOB_WORDS.get(job.phase, job.phase.value)} {pct}".strip(), JOB_STYLE
    state = entry.state
    if entry.installation is not None:
        # ◐ beside ●: a newer download of it, or an earlier one, waits to be resumed.
        return ("●◐" if entry.partial_bytes else "●"), "installed", INSTALLED_STYLE
    if state == "cached":
        return "◆", "cached", CACHED_STYLE
    if state == "partial":
        pct = percent(entry.partial_bytes, entry.download_size)
        return "◐", f"partial {pct or human_size(entry.partial_bytes)}", PARTIAL_STYLE
    if state == "unverifiable":
        return "⊘", "no checksum", "dim"
    return "○", "available", "dim"


def state_text(entry: Entry, job: JobEvent | None = None) -> str:
    symbol, words, _ = state_parts(entry, job)
    return f"{symbol} {words}"


def _size_cell(size: int | None, *, applies: bool, pending: bool, unknown: str = "unknown") -> Cell:
    if not applies:
        return _cell(NONE, (0, 0), "dim", "right")
    if size is None:
        return _cell(PENDING if pending else unknown, (0, 0), "dim", "right")
    return _cell(human_size(size), (1, size), justify="right")


def version_sort(entry: Entry) -> tuple[Any, ...]:
    b = entry.build
    return (*b.sort_key(), b.implementation, not b.variant, b.variant or "")


def version_text(version: str, newer: str | None = None, pinned: bool = False) -> Text:
    """``3.12.7 → 3.12.14 pinned``: ``newer`` (``→ 3.12.14``, or ``+20991231 → +20991232``
    for a rebuild) names what an upgrade installs."""
    text = Text(version, style="bold", justify="left", no_wrap=True, overflow="ellipsis")
    if newer:
        text.append(f" {newer}", style=UPGRADE_STYLE)
    if pinned:
        text.append(" pinned", style=PINNED_STYLE)
    return text


def row_cells(
    entry: Entry,
    *,
    marked: bool = False,
    job: JobEvent | None = None,
    probing: bool = False,
    measuring: bool = False,
    narrow: bool = False,
    offline: bool = False,
    newer: str | None = None,
    pinned: bool = False,
) -> dict[str, Cell]:
    """``offline``: a download size nobody could ask for reads "offline", not "unknown";
    ``newer``: what an upgrade would install; ``pinned``: a pin of the folder matches."""
    b = entry.build
    symbol, words, style = state_parts(entry, job)
    on_disk = entry.cached is not None
    return {
        "mark": _cell("✓" if marked else " ", (marked,), "bold"),
        "version": Cell(version_text(b.version, newer, pinned), version_sort(entry)),
        "impl": _cell(b.implementation, (b.implementation,)),
        "variant": _cell(variant_text(entry, narrow), (variant_text(entry, narrow),)),
        "build": _cell(b.build, (b.build,), "dim"),
        "state": _cell(
            f"{symbol} {words}", (_STATE_RANK.get(entry.state, 0), entry.partial_bytes), style
        ),
        "download": _size_cell(
            entry.download_size,
            applies=entry.available or on_disk,
            pending=probing,
            unknown="offline" if offline and entry.available else "unknown",
        ),
        "cached": _size_cell(entry.cache_size, applies=entry.in_cache, pending=measuring),
        "installed": _size_cell(
            entry.install_size, applies=entry.installation is not None, pending=measuring
        ),
    }


_VERSIONISH = re.compile(r"\d+(\.\d*)*")


def matches(entry: Entry, text: str, tags: Iterable[str] = ()) -> bool:
    """Every word of the filter matches the row.

    A version-like word is a prefix of the version ("3.12" is 3.12.x, not 3.13.12); any
    other word may appear anywhere in the key, name, build, state or the row's ``tags``
    (``pinned``, ``newer``, ``offline``: see tui.app.builds.row_tags).
    """
    words = text.lower().split()
    b = entry.build
    partial = "partial" if entry.partial_bytes else ""
    parts = [entry.key, b.describe(), b.build, entry.state, state_text(entry), partial, *tags]
    haystack = " ".join(parts).lower()
    return all(
        b.version.startswith(word) if _VERSIONISH.fullmatch(word) else word in haystack
        for word in words
    )


# What "could free" in the header means, where it is shown (the header's tooltip, the help page):
# exactly what the palette's "Evict what could be freed" frees, asking first.
COULD_FREE = (
    "could free: what evicting the cache of installed builds (their archives and unpacked "
    "copies) and partial downloads frees. Installs keep working; reinstalling one then "
    "downloads it again. The palette's “Evict what could be freed” does it, asking first."
)


def freeable(entries: Iterable[Entry]) -> list[Entry]:
    """The builds "could free" counts: installed ones with an archive in the cache (their
    eviction takes the unpacked copy along), and partial downloads of the others."""
    return [
        e for e in entries
        if (e.cached is not None if e.installation is not None else e.partial_bytes > 0)
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Totals:
    installed: int
    installed_size: int  # the install dir, as ``du -sb`` counts it (see tui.engine.usage.ledger)
    installed_unknown: int  # installs whose size is not measured yet
    cached: int  # builds the cache holds anything of
    cache_size: int  # the whole cache dir, as ``du -sb`` counts it after the install dir
    could_free: int  # what evicting ``freeable`` entries frees: their Cached column
    measured: bool = True  # False: the sizes are what is known so far


def totals(entries: Iterable[Entry], ledger: Ledger | None = None) -> Totals:
    """Counts from ``entries``; sizes from ``ledger`` (whole directories, so they agree with
    ``du -sb``), or, until it is measured, the sum of what the entries know."""
    entries = list(entries)
    installed = installed_size = unknown = cached = cache_size = 0
    for e in entries:
        if e.installation is not None:
            installed += 1
            if e.install_size is None:
                unknown += 1
            else:
                installed_size += e.install_size
        if e.in_cache:
            cached += 1
            cache_size += e.cache_size or 0
    # Evicting a build frees its Cached column: for an installed one, its archive and what
    # its unpacked copy holds beyond the install; for the others, the partial download.
    could_free = sum(e.cache_size or 0 for e in freeable(entries))
    if ledger is None:
        return Totals(installed, installed_size, unknown, cached, cache_size, could_free, False)
    return Totals(installed, ledger.installs_total, 0, cached, ledger.cache_total, could_free)


def totals_text(t: Totals) -> str:
    def size(n: int) -> str:
        # While a measure is pending a sum is a floor ("+"); nothing measured yet says so.
        if t.measured:
            return human_size(n)
        return f"{human_size(n)}+" if n else "measuring…"

    return (
        f"installed {t.installed} · {size(t.installed_size)}   "
        f"cache {t.cached} · {size(t.cache_size)}   could free {size(t.could_free)}"
    )


def show_path(path: Path | str) -> str:
    """A path with the home directory written as ``~``: shorter, and the same on every machine."""
    text = str(path)
    home = os.path.expanduser("~")
    if home not in ("", "/") and (text == home or text.startswith(home + os.sep)):
        return "~" + text[len(home) :]
    return text

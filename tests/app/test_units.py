"""The app's pure parts: cells, state words, totals, rules, message coalescing."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import World
from tui.app.app import PyshelfApp
from tui.app.builds.subtitle import fit_parts
from tui.app.messages import JobUpdated
from tui.app.present import (
    Totals,
    matches,
    row_cells,
    show_path,
    state_text,
    totals,
    totals_text,
)
from tui.app.rules import needs_confirmation, replacements
from tui.app.sorting import rank_keys
from tui.app.wrap import break_lines
from tui.engine.archives.cache import CachedArchive
from tui.engine.jobs import JobEvent, JobKind, Phase
from tui.engine.shelf import Entry
from tui.engine.usage.ledger import Ledger

KEY = "cpython-3.12.7-linux-x86_64-gnu"


def _entry(world: World, key: str = KEY) -> Entry:
    return next(e for e in world.shelf().entries() if e.key == key)


def _event(job_id: int, phase: Phase, done: int = 0, total: int | None = None) -> JobEvent:
    return JobEvent(job_id, JobKind.FETCH, KEY, phase, done, total, None, None, None, None)


def test_states_read_without_colour(world: World) -> None:
    e = _entry(world)
    assert state_text(e) == "○ available"
    e = e._replace(partial_bytes=40, download_size=100)
    assert state_text(e) == "◐ partial 40%"
    e = e._replace(cached=CachedArchive(Path("/x"), 100, 0.0, "x"))
    assert state_text(e) == "◆ cached"
    assert state_text(e, _event(1, Phase.DOWNLOADING, 50, 200)) == "◌ fetch 25%"
    assert state_text(e, _event(1, Phase.QUEUED)) == "◌ queued"


def test_sizes_show_unknown_or_pending_and_sort_as_numbers(world: World) -> None:
    e = _entry(world)
    e = e._replace(download_size=None)
    assert row_cells(e, probing=True)["download"].plain == "…"
    assert row_cells(e)["download"].plain == "unknown"
    assert row_cells(e)["installed"].plain == "—"
    e = e._replace(download_size=2048)
    small, big = row_cells(e)["download"], None
    e = e._replace(download_size=10 * 1024 * 1024)
    big = row_cells(e)["download"]
    assert (small.plain, big.plain) == ("2.0 KiB", "10.0 MiB")
    assert small.sort < big.sort  # numbers, not text ("10.0 MiB" < "2.0 KiB" as text)


def test_filter_words_match_version_variant_and_state(world: World) -> None:
    entries = world.shelf().entries()
    assert [e.key for e in entries if matches(e, "3.13 freethreaded")] == [
        "cpython-3.13.1+freethreaded-linux-x86_64-gnu"
    ]
    assert {e.build.implementation for e in entries if matches(e, "PyPy")} == {"pypy"}
    assert {e.build.version for e in entries if matches(e, "3.1")} == {
        "3.13.1",
        "3.12.7",
        "3.12.6",
        "3.11.9",
        "3.10.14",
    }
    assert {e.build.version for e in entries if matches(e, "3.12")} == {"3.12.7", "3.12.6"}
    assert len([e for e in entries if matches(e, "available")]) == len(entries)


def test_removals_ask_first_and_a_reinstall_only_over_an_install(world: World) -> None:
    e = _entry(world)
    e = e._replace(cached=CachedArchive(Path("/c/a.tar.gz"), 100, 0.0, "a.tar.gz"))
    assert needs_confirmation(JobKind.EVICT, [e])
    assert not needs_confirmation(JobKind.REINSTALL, [e])  # nothing installed to replace
    assert replacements([e]) == []  # not installed: a reinstall would replace nothing


def test_totals_and_could_free(world: World) -> None:
    shelf = world.shelf()
    assert world.cli("install", "3.12")[0] == 0
    entries = shelf.entries()
    ledger = Ledger.measure(shelf)
    assert ledger is not None
    entries = ledger.sized(shelf, entries)
    t = totals(entries, ledger)
    assert (t.installed, t.cached) == (1, 1)
    (installed,) = [e for e in entries if e.installation]
    assert t.could_free == installed.cache_size  # what the installed build holds in the cache
    assert t.cache_size == ledger.cache_total > t.could_free  # plus state files, directories
    assert totals_text(t).startswith("installed 1 · ")
    assert "+" not in totals_text(t) and "+" in totals_text(totals(entries))
    # Before the walk: a sum with nothing measured in it yet says so, not "0 Bytes+".
    pending = Totals(2, 0, 2, 1, 1024, 0, measured=False)
    assert totals_text(pending) == (
        "installed 2 · measuring…   cache 1 · 1.0 KiB+   could free measuring…"
    )


def test_paths_under_home_read_with_a_tilde() -> None:
    assert show_path(Path.home() / ".cache" / "pyshelf") == "~/.cache/pyshelf"
    assert show_path("/opt/python") == "/opt/python"


def test_progress_messages_collapse_per_job() -> None:
    first, newer, other = (
        JobUpdated(_event(1, Phase.DOWNLOADING, 1, 10)),
        JobUpdated(_event(1, Phase.DOWNLOADING, 5, 10)),
        JobUpdated(_event(2, Phase.DOWNLOADING, 1, 10)),
    )
    assert first.can_replace(newer)
    assert not first.can_replace(other)


def test_app_takes_settings_and_a_clock(world: World) -> None:
    app = PyshelfApp(world.make_settings(), clock=lambda: 42.0)
    try:
        assert app.queue.clock() == 42.0 and app.shelf.settings.catalog == str(world.catalog_path)
    finally:
        app.queue.close()


def test_paths_break_after_slashes_then_dashes_never_mid_name() -> None:
    path = "~/.local/share/uv/python/cpython-3.12.7-linux-x86_64-gnu"
    assert break_lines(path, 30) == [
        "~/.local/share/uv/python/",
        "cpython-3.12.7-linux-x86_64-",
        "gnu",
    ]
    assert break_lines(path, 80) == [path]
    assert break_lines("abcdefgh", 3, "/", "") == ["abc", "def", "gh"]  # one name: folded


def test_the_subtitle_drops_whole_parts_from_the_right() -> None:
    parts = ["5 of 17", "newest per minor (a: all)", "linux-x86_64-gnu"]
    assert fit_parts(parts, 80) == " · ".join(parts)
    assert fit_parts(parts, 40) == "5 of 17 · newest per minor (a: all)"
    assert fit_parts(parts, 10) == "5 of 17"
    assert fit_parts(parts, 4) == "5 o…"


def test_sort_ranks_reverse_the_column_but_never_the_versions() -> None:
    pairs = [("cpython", 3), ("pypy", 2), ("cpython", 1), ("cpython", 2)]
    for reverse, first in ((False, "cpython"), (True, "pypy")):
        keys = rank_keys(pairs, reverse=reverse)
        order = sorted(pairs, key=lambda p: keys[p])
        assert order[0][0] == first
        assert [v for c, v in order if c == "cpython"] == [3, 2, 1]

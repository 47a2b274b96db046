"""Every action in the command palette (Ctrl+P), offered only where it applies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.engine.jobs import JobKind, Phase

if TYPE_CHECKING:
    from tui.app.app import PyshelfApp
    from tui.app.screens.cleanup import CleanupScreen

_JOBS = [
    (JobKind.FETCH, "Fetch", "download and verify the archive into the cache (f)"),
    (JobKind.INSTALL, "Install", "install, fetching first when needed (i)"),
    (JobKind.REINSTALL, "Reinstall from cache", "from the cached archive, offline too (r)"),
    (JobKind.UNINSTALL, "Uninstall", "remove the installed interpreter (u)"),
    (JobKind.EVICT, "Evict archive", "remove the cached archive (e)"),
]


class _ListedCommands(Provider):
    """A provider whose commands come from ``_commands()``: (name, callback, key hint)."""

    def _commands(self) -> Iterator[tuple[str, Callable[[], object], str]]:
        raise NotImplementedError

    async def discover(self) -> Hits:
        for name, command, help_text in self._commands():
            yield DiscoveryHit(name, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, command, help_text in self._commands():
            if (score := matcher.match(name)) > 0:
                yield Hit(score, matcher.highlight(name), command, help=help_text)


class ShelfCommands(_ListedCommands):
    def _commands(self) -> Iterator[tuple[str, Callable[[], object], str]]:
        app: PyshelfApp = self.app  # type: ignore[assignment]
        if self.screen is not app.table.screen:
            return  # another view (disk usage) offers its own commands
        table = app.table
        targets = table.targets()
        what = f"{len(targets)} marked builds" if len(targets) > 1 else ""
        if len(targets) == 1:
            what = targets[0].build.describe()
        for kind, label, text in _JOBS:
            if any(table.why_not(kind, e) is None for e in targets):
                yield f"{label}: {what}", partial(app.request_jobs, kind), text
        if targets:
            yield "Mark / unmark the highlighted build", table.action_toggle_mark, "space"
        if table.marked:
            yield "Clear marks", table.action_clear_marks, "Esc in the table"
        yield (
            "Show only the newest patch of each minor" if app.show_all else "Show all versions",
            app.action_toggle_all,
            "a",
        )
        yield "Filter builds", app.action_filter, "/"
        yield "Sort by the next column", table.action_cycle_sort, "s"
        yield "Show / hide the job queue", app.action_toggle_queue, "q"
        selected = app.queue_panel.selected
        if selected is not None and not selected.phase.final:
            yield (
                f"Cancel job: {selected.kind} {selected.key}",
                partial(app.cancel_job, selected.job_id),
                "c in the queue",
            )
        if selected is not None and selected.phase in (Phase.FAILED, Phase.CANCELLED):
            yield (
                f"Retry job: {selected.kind} {selected.key}",
                partial(app.retry_job, selected.job_id),
                "R in the queue",
            )
        yield "Clear finished jobs", app.queue_panel.action_clear_finished, "x in the queue"
        yield "Show / hide details", app.action_toggle_details, "d"
        yield (
            "Disk usage: what every interpreter and archive costs, and clean-up",
            app.action_cleanup,
            "D",
        )
        yield "Toggle dark / light theme", app.action_toggle_theme, "t"
        yield "Reload the list", app.action_reload, "Ctrl+R"
        yield "Help: every key", app.action_help, "F1 or ?"


class CleanupCommands(_ListedCommands):
    """The disk-usage view's actions (its screen lists this provider in COMMANDS)."""

    def _commands(self) -> Iterator[tuple[str, Callable[[], object], str]]:
        from tui.app.screens.prune_menu import PruneChoice

        screen: CleanupScreen = self.screen  # type: ignore[assignment]
        table = screen.table
        if table.highlighted is not None:
            yield "Mark / unmark the highlighted item", table.action_toggle_mark, "space"
        group = table.highlighted_group
        if group is not None:
            yield f"Mark / unmark the whole {group} group", table.action_toggle_group, "g"
        if table.marked:
            yield f"Remove the {len(table.marked)} marked items", screen.action_remove, "x"
            yield "Clear marks", table.clear_marks, "Esc"
        for preset in ("newest", "uninstalled"):
            choice = PruneChoice(preset)
            yield f"Prune: {choice.title}", partial(screen.prune, choice), "p; previewed first"
        yield "Prune: older than N days, or cap the cache…", screen.action_prune, "p"
        yield "Sort by size, name, version, age", table.action_cycle_sort, "s"
        yield "Measure again", screen.action_rescan, "Ctrl+R"
        yield "Back to the builds", screen.action_close, "Esc"
        app: PyshelfApp = self.app  # type: ignore[assignment]
        yield "Toggle dark / light theme", app.action_toggle_theme, "t"
        yield "Help: every key", app.action_help, "F1 or ?"

"""Bundles in the builds view: export the marked rows, import a bundle or an archive.

The same engine as ``pyshelf export`` / ``pyshelf import`` (tui.engine.bundle): missing
archives are fetched first (jobs of their own), every archive is hashed as it is copied, and
nothing unverified lands in a bundle or in the cache. Each export or import is one job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from tui.app.builds.table import ShelfTable
from tui.app.commands import Command
from tui.app.keys import bound_key, register
from tui.app.present import show_path
from tui.app.view import View
from tui.engine.errors import PyshelfError
from tui.engine.jobs import Job, JobKind, JobQueue, Phase
from tui.engine.shelf import Entry, Shelf
from tui.format import human_size

if TYPE_CHECKING:  # the bundle engine loads with the first export or import
    from tui.engine.bundle import Report

DEFAULT_BUNDLE = "python-bundle"


class PathScreen(ModalScreen[Path | None]):
    """Ask for a path: Enter takes it, Esc cancels; ``must_exist`` refuses a missing one."""

    CSS_PATH = "dialogs.tcss"  # loaded when first shown, not for the first frame

    BINDINGS: ClassVar[list[BindingType]] = register(
        [Binding("escape", "cancel", "Cancel", show=False, id="path-cancel")]
    )

    def __init__(self, title: str, note: str, default: str, *, must_exist: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.note = note
        self.default = default
        self.must_exist = must_exist

    def compose(self) -> ComposeResult:
        with Vertical(id="path-dialog"):
            yield Label(self.title_text, id="path-title")
            yield Label(self.note, id="path-note")
            yield Input(self.default, id="path-input")
            yield Label("", id="path-problem")
            cancel = bound_key(self.app, "path-cancel")
            yield Label(f"Enter: go · {cancel}: cancel", id="path-keys")

    def on_mount(self) -> None:
        self.query_one("#path-problem", Label).display = False
        self.query_one(Input).focus()

    @on(Input.Submitted, "#path-input")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        problem = self.query_one("#path-problem", Label)
        path = Path(text).expanduser() if text else None
        if path is None or (self.must_exist and not path.exists()):
            problem.update(f"⚠ {'no such file or folder: ' + text if text else 'give a path'}")
            problem.display = True
            return
        self.dismiss(path.absolute())

    def action_cancel(self) -> None:
        self.dismiss(None)


def _summary(report: Report, there: str) -> str:
    parts = [f"added {len(report.added)}"]
    if report.present:
        parts.append(f"{len(report.present)} already {there}")
    return ", ".join(parts)


def _finish(job: Job, report: Report, there: str) -> str:
    """The job's result; failures are its warnings, or its error when nothing went through."""
    if report.failed and not (report.added or report.present):
        more = f" (+{len(report.failed) - 1} more)" if len(report.failed) > 1 else ""
        raise PyshelfError(f"{report.failed[0]}{more}")
    job.warnings = tuple(f"failed: {line}" for line in report.failed)
    return _summary(report, there)


def _export_task(shelf: Shelf, entries: list[Entry], root: Path, job: Job) -> str:
    from tui.engine.bundle import export

    job.set_phase(Phase.VERIFYING)  # each archive is hashed as it is copied
    ready = [(e.build, shelf.cache.path_for(e.build)) for e in entries]
    return _finish(job, export(shelf, ready, root), "in the bundle")


def _import_task(shelf: Shelf, path: Path, job: Job) -> str:
    from tui.engine.bundle import import_paths

    job.set_phase(Phase.VERIFYING)
    return _finish(job, import_paths(shelf, [path]), "in the cache")


def export_size(entries: list[Entry]) -> tuple[int, bool]:
    """What the archives weigh, and whether every size is known."""
    known = True
    total = 0
    for e in entries:
        size = e.cached.size if e.cached is not None else e.download_size
        known &= size is not None
        total += size or 0
    return total, known


class BundleActions(View):
    """The builds view's export and import: a mixin over its table, shelf and queue."""

    shelf: Shelf
    queue: JobQueue
    table: ShelfTable
    _cwd: Callable[[], Path]  # the folder a bundle's path starts from (BuildJobs)

    BINDINGS: ClassVar[list[BindingType]] = register(
        [
            Binding(
                "E", "export", "Export", key_display="E", show=False,
                tooltip="Write the marked builds' archives to a bundle folder", id="export",
            ),
            Binding(
                "I", "import", "Import", key_display="I", show=False,
                tooltip="Add a bundle's or an archive file's builds to the cache", id="import",
            ),
        ]
    )  # fmt: skip

    def _exportable(self, entry: Entry) -> str | None:
        if not entry.available:
            return "not in the catalog: a bundle lists only published, checksummed builds"
        if entry.cached is None and self.shelf.settings.offline:
            return "not cached and offline: cannot download it"
        return None

    def action_export(self) -> None:
        targets = self.table.targets()
        if not targets:
            self.notify("no build highlighted", severity="warning")
            return
        ok = [e for e in targets if self._exportable(e) is None]
        if not ok:
            why = self._exportable(targets[0])
            self.notify(f"{targets[0].build.describe()}: {why}", severity="warning", timeout=5)
            return
        size, known = export_size(ok)
        what = ok[0].build.describe() if len(ok) == 1 else f"{len(ok)} builds"
        note = f"{what}: {'' if known else 'at least '}{human_size(size)} of archives"
        if missing := sum(e.cached is None for e in ok):
            note += f", {missing} to download first"
        if skipped := len(targets) - len(ok):
            note += f"; {skipped} skipped (not exportable)"
        default = str(self._cwd() / DEFAULT_BUNDLE)
        screen = PathScreen("Export to a bundle folder", note, default)

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.table.action_clear_marks()
                self._run_export(ok, path)

        self.app.push_screen(screen, chosen)

    @work(thread=True, group="export", exit_on_error=False)
    def _run_export(self, entries: list[Entry], root: Path) -> None:
        """Fetch what is missing (each a job), then write the bundle as one job."""
        fetches = [self.queue.submit(JobKind.FETCH, e) for e in entries if e.cached is None]
        self.queue.wait(fetches)
        failed = {j.key for j in fetches if j.phase != Phase.DONE}
        ready = [e for e in entries if e.key not in failed]
        if ready:
            label = f"{len(ready)} archive{'s' if len(ready) > 1 else ''} → {show_path(root)}"
            self.queue.submit_task(
                JobKind.EXPORT, label, partial(_export_task, self.shelf, ready, root)
            )

    def action_import(self) -> None:
        note = (
            "A bundle folder, or archives downloaded by hand: each is checked against the "
            "bundle's catalog or SHA256SUMS (a lone archive: against the catalog), and "
            "nothing unverified is added."
        )
        screen = PathScreen(
            "Import into the cache", note, str(self._cwd() / DEFAULT_BUNDLE), must_exist=True
        )

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.queue.submit_task(
                    JobKind.IMPORT, show_path(path), partial(_import_task, self.shelf, path)
                )

        self.app.push_screen(screen, chosen)

    def bundle_commands(self) -> Iterator[Command]:
        key = partial(bound_key, self.app)
        if any(self._exportable(e) is None for e in self.table.targets()):
            yield "Export the marked builds to a bundle", self.action_export, key("export")
        yield "Import a bundle or an archive into the cache", self.action_import, key("import")

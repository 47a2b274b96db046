"""Bundles in the builds view: export the marked rows, import a bundle or an archive.

The same flows as ``pyshelf export`` / ``pyshelf import`` (tui.engine.flows.bundle): missing
archives are fetched first (jobs of their own), every archive is hashed as it is copied, and
nothing unverified lands in a bundle or in the cache. Each export or import is one job. What
this module asks is the bundle's folder, before the flow starts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label

from tui.app.commands import Command
from tui.app.keys import bound_key, register
from tui.app.present import show_path
from tui.app.widgets.shelf_table import ShelfTable
from tui.engine.errors import PyshelfError
from tui.engine.jobs import JobQueue
from tui.engine.shelf import Entry, Shelf
from tui.format import human_size

if TYPE_CHECKING:  # the bundle engine and its flows load with the first export or import
    from tui.engine.bundle import Report
    from tui.engine.flows.questions import Flow

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


def export_size(entries: list[Entry]) -> tuple[int, bool]:
    """What the archives weigh, and whether every size is known."""
    known = True
    total = 0
    for e in entries:
        size = e.cached.size if e.cached is not None else e.download_size
        known &= size is not None
        total += size or 0
    return total, known


BUNDLE_BINDINGS: list[BindingType] = register(
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


class BundleActions:
    """The builds view's export and import: what ``E`` and ``I`` do, on ``table``'s rows and
    ``queue``; a bundle's path starts from ``cwd``."""

    def __init__(
        self,
        screen: Screen[Any],
        shelf: Shelf,
        queue: JobQueue,
        table: ShelfTable,
        *,
        cwd: Callable[[], Path],
    ) -> None:
        self.screen = screen
        self.shelf = shelf
        self.queue = queue
        self.table = table
        self.cwd = cwd

    def _exportable(self, entry: Entry) -> str | None:
        if not entry.available:
            return "not in the catalog: a bundle lists only published, checksummed builds"
        if entry.cached is None and self.shelf.settings.offline:
            return "not cached and offline: cannot download it"
        return None

    def export(self) -> None:
        targets = self.table.targets()
        notify = self.screen.notify
        if not targets:
            notify("no build highlighted", severity="warning")
            return
        ok = [e for e in targets if self._exportable(e) is None]
        if not ok:
            why = self._exportable(targets[0])
            notify(f"{targets[0].build.describe()}: {why}", severity="warning", timeout=5)
            return
        size, known = export_size(ok)
        what = ok[0].build.describe() if len(ok) == 1 else f"{len(ok)} builds"
        note = f"{what}: {'' if known else 'at least '}{human_size(size)} of archives"
        if missing := sum(e.cached is None for e in ok):
            note += f", {missing} to download first"
        if skipped := len(targets) - len(ok):
            note += f"; {skipped} skipped (not exportable)"
        default = str(self.cwd() / DEFAULT_BUNDLE)
        screen = PathScreen("Export to a bundle folder", note, default)

        def chosen(path: Path | None) -> None:
            if path is not None:
                from tui.engine.flows.bundle import export_flow

                self.table.action_clear_marks()
                flow = partial(export_flow, self.shelf, self.queue, ok, path, label=show_path(path))
                self._run(flow, "export")

        self.screen.app.push_screen(screen, chosen)

    def import_(self) -> None:
        note = (
            "A bundle folder, or archives downloaded by hand: each is checked against the "
            "bundle's catalog or SHA256SUMS (a lone archive: against the catalog), and "
            "nothing unverified is added."
        )
        screen = PathScreen(
            "Import into the cache", note, str(self.cwd() / DEFAULT_BUNDLE), must_exist=True
        )

        def chosen(path: Path | None) -> None:
            if path is not None:
                from tui.engine.flows.bundle import import_flow

                flow = partial(import_flow, self.shelf, self.queue, [path], label=show_path(path))
                self._run(flow, "import")

        self.screen.app.push_screen(screen, chosen)

    def _run(self, flow: Callable[[], Flow[Report]], group: str) -> None:
        def run() -> None:
            from tui.app.asking import DialogAsker
            from tui.engine.flows.questions import drive

            # A step that failed is the queue's to show, as a failed job: not said twice.
            with contextlib.suppress(PyshelfError):
                drive(flow(), DialogAsker(self.screen, title=group))

        self.screen.run_worker(run, thread=True, group=group, exit_on_error=False)

    def commands(self) -> Iterator[Command]:
        key = partial(bound_key, self.screen.app)
        if any(self._exportable(e) is None for e in self.table.targets()):
            yield "Export the marked builds to a bundle", self.export, key("export")
        yield "Import a bundle or an archive into the cache", self.import_, key("import")

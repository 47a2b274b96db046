"""Everything known about the highlighted build: paths, URL, checksum, sizes."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.app.present import NONE, show_path, state_parts
from tui.engine.jobs import JobEvent
from tui.engine.redact import redact_url
from tui.engine.shelf import Entry
from tui.format import human_size


class DetailsPane(VerticalScroll):
    HELP = "Details of the highlighted build. {details} hides this pane."

    entry: Entry | None = None  # the build shown
    _grid: Table | None = None

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="details-body")

    def on_mount(self) -> None:
        self.border_title = "Details"

    def show(
        self, entry: Entry | None, *, verified: bool = False, job: JobEvent | None = None
    ) -> None:
        self.entry = entry
        body = self.query_one("#details-body", Static)
        if entry is None:
            body.update(Text("no build highlighted", style="dim"))
            self._grid = None
            return
        b = entry.build
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        symbol, words, style = state_parts(entry, job)
        grid.add_row(Text(b.describe(), style="bold"), "")
        grid.add_row("key", b.key)
        grid.add_row("build", b.build or NONE)
        grid.add_row("state", Text(f"{symbol} {words}", style=style))
        installation = entry.installation
        grid.add_row("install", show_path(installation.path) if installation else "not installed")
        if installation:
            grid.add_row("", f"size {human_size(entry.install_size)}")
        if entry.cached:
            grid.add_row("archive", show_path(entry.cached.path))
            check = "verified this session" if verified else "not verified this session (f does)"
            grid.add_row("", f"size {human_size(entry.cached.size)}, {check}")
        elif entry.partial_bytes:
            grid.add_row("archive", f"partial, {human_size(entry.partial_bytes)} so far")
        else:
            grid.add_row("archive", "not cached")
        if entry.unpacked_size != 0 and entry.build.sha256:
            shared = ", the rest shared with the install" if installation else ""
            grid.add_row("unpacked", f"{human_size(entry.unpacked_size)} of its own{shared}")
        grid.add_row("url", redact_url(b.url) if b.url else "none: no catalog lists this build")
        grid.add_row("sha256", b.sha256 or "not published")
        grid.add_row("download", human_size(entry.download_size))
        body.update(grid)
        self._grid = grid

    def text(self) -> str:
        """What the pane shows, as plain text (for tests and copying)."""
        if self._grid is None:
            return ""
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(self._grid)
        return console.export_text()

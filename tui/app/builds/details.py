"""Everything known about the highlighted build: paths, URL, checksum, sizes."""

from __future__ import annotations

import io
from collections.abc import Mapping

from rich.console import Console
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, Static

from tui.app.present import NONE, percent, show_path, state_parts
from tui.app.wrap import Breakable
from tui.engine.jobs import JobEvent
from tui.engine.redact import redact_url
from tui.engine.shelf import Entry, Shelf
from tui.format import human_size


def short_hash(digest: str) -> str:
    """The start and end of a digest: enough to compare by eye; y copies it whole."""
    return digest if len(digest) <= 24 else f"{digest[:12]}…{digest[-8:]}"


def copy_text(entry: Entry) -> str:
    """The highlighted build's names, paths, URL and whole sha256, one per line (y copies
    it): what the pane shortens or wraps, in full."""
    b = entry.build
    lines = [f"key {b.key}"]
    if entry.installation is not None:
        lines.append(f"install {entry.installation.path}")
    if entry.cached is not None:
        lines.append(f"archive {entry.cached.path}")
    if b.url:
        lines.append(f"url {redact_url(b.url)}")
    if b.sha256:
        lines.append(f"sha256 {b.sha256}")
    return "\n".join(lines)


class DetailsPane(VerticalScroll):
    HELP = "Details of the highlighted build. {details} hides this pane."

    entry: Entry | None = None  # the build shown
    _grid: Table | None = None

    def compose(self) -> ComposeResult:
        yield Label(id="details-title")
        yield Static(id="details-body")

    def on_mount(self) -> None:
        self.border_title = "Details"

    def show_row(self, entry: Entry | None, shelf: Shelf, jobs: Mapping[str, JobEvent]) -> None:
        """``show`` for the table's highlighted row, with what ``shelf`` knows of it and the
        job on it (``jobs``: by key)."""
        self.show(
            entry,
            verified=bool(entry and entry.build.sha256 in shelf.downloader.verified),
            job=jobs.get(entry.key) if entry else None,
            size_unknown=shelf.why_size_unknown(entry) if entry else None,
        )

    def show(
        self,
        entry: Entry | None,
        *,
        verified: bool = False,
        job: JobEvent | None = None,
        size_unknown: str | None = None,
    ) -> None:
        """``size_unknown``: why the download size is not known (offline, the mirror's
        answer), said beside it."""
        self.entry = entry
        body = self.query_one("#details-body", Static)
        if entry is None:
            body.update(Text("no build highlighted", style="dim"))
            self.query_one("#details-title", Label).update("")
            self._grid = None
            return
        b = entry.build
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True, min_width=8)
        grid.add_column(overflow="fold")
        symbol, words, style = state_parts(entry, job)
        # Its own line, not a grid row: a row would widen the labels' column.
        self.query_one("#details-title", Label).update(b.describe())
        grid.add_row("key", Breakable(b.key, breaks="-", then=""))
        grid.add_row("build", b.build or NONE)
        grid.add_row("state", Text(f"{symbol} {words}", style=style))
        installation = entry.installation
        grid.add_row(
            "install", Breakable(show_path(installation.path)) if installation else "not installed"
        )
        if installation:
            grid.add_row("", f"size {human_size(entry.install_size)}")
        if entry.cached:
            grid.add_row("archive", Breakable(show_path(entry.cached.path)))
            check = "verified this session" if verified else "not verified this session (f does)"
            grid.add_row("", f"size {human_size(entry.cached.size)}, {check}")
        if entry.partial_bytes:
            done = percent(entry.partial_bytes, entry.download_size)
            so_far = f"{human_size(entry.partial_bytes)}{f' ({done})' if done else ''}"
            grid.add_row("partial", f"{so_far} downloaded; fetching resumes it")
        if entry.cached is None and not entry.partial_bytes:
            grid.add_row("archive", "not cached")
        if entry.unpacked_size != 0 and entry.build.sha256:
            shared = ", the rest shared with the install" if installation else ""
            grid.add_row("unpacked", f"{human_size(entry.unpacked_size)} of its own{shared}")
        url = redact_url(b.url) if b.url else ""
        grid.add_row("url", Breakable(url) if url else "none: no catalog lists this build")
        grid.add_row("sha256", short_hash(b.sha256) if b.sha256 else "not published")
        if entry.download_size is None:
            grid.add_row("download", f"unknown: {size_unknown or 'not asked yet'}")
        else:
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

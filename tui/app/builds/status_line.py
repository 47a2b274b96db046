"""Totals (installed, cache, could free), the view in use, and any catalog trouble."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label

from tui.app.present import COULD_FREE


class StatusLine(Vertical):
    _jobs: str | None = ""  # what the jobs label says; "" until the first set_jobs

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._warned: set[str] = set()  # warnings notified so far, each once

    def compose(self) -> ComposeResult:
        yield Label(id="status-totals")
        yield Label(id="status-warning")
        yield Label(id="status-jobs")

    def on_mount(self) -> None:
        self.query_one("#status-totals", Label).tooltip = COULD_FREE  # defined where it shows
        self.set_warning(None)
        self.set_jobs(None)

    def set_totals(self, text: str) -> None:
        self.query_one("#status-totals", Label).update(text)

    def set_warning(self, text: str | None) -> None:
        label = self.query_one("#status-warning", Label)
        label.update(f"⚠ {text}" if text else "")
        label.display = bool(text)

    def warn(self, text: str) -> None:
        """Show a catalog or network problem here, and notify it once."""
        self.set_warning(text)
        if text not in self._warned:
            self._warned.add(text)
            self.notify(text, severity="warning", timeout=8)

    def set_jobs(self, text: str | None) -> None:
        """Jobs at work while the queue panel is closed; None: nothing to say."""
        if text == self._jobs:
            return  # called on every progress event: touch the label only on a change
        self._jobs = text
        label = self.query_one("#status-jobs", Label)
        label.update(text or "")
        label.display = bool(text)

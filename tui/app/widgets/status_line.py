"""Totals (installed, cache, could free), the view in use, and any catalog trouble."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label


class StatusLine(Vertical):
    def compose(self) -> ComposeResult:
        yield Label(id="status-totals")
        yield Label(id="status-warning")

    def on_mount(self) -> None:
        self.set_warning(None)

    def set_totals(self, text: str) -> None:
        self.query_one("#status-totals", Label).update(text)

    def set_warning(self, text: str | None) -> None:
        label = self.query_one("#status-warning", Label)
        label.update(f"⚠ {text}" if text else "")
        label.display = bool(text)

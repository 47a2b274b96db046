"""Type-to-filter: rows narrow as you type; Enter keeps the filter, Escape clears it."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input

from tui.app.keys import register


class FilterInput(Input):
    BINDINGS: ClassVar[list[BindingType]] = register(
        [Binding("escape", "clear_filter", "Clear filter", id="clear-filter")]
    )

    HELP = "Words to match: a version (3.12), an implementation (pypy), a state (installed)."

    class Done(Message):
        """The user cleared the filter with Escape."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            placeholder="filter: 3.12, pypy, freethreaded, installed…", id=id, compact=True
        )

    def action_clear_filter(self) -> None:
        self.value = ""
        self.post_message(self.Done())

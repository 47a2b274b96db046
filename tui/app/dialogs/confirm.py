"""Ask before something drastic: list what it touches and the bytes involved."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from tui.app.keys import bound_key, register
from tui.app.rules import Replacement
from tui.app.wrap import Breakable
from tui.format import human_size


class ConfirmScreen(ModalScreen[bool]):
    CSS_PATH = "../dialogs.tcss"  # loaded when first shown, not for the first frame
    BINDINGS: ClassVar[list[BindingType]] = register(
        [
            Binding("y", "answer(True)", "Yes", show=False, id="yes"),
            Binding("n,escape,q", "answer(False)", "No", show=False, id="no"),
        ]
    )

    def __init__(
        self,
        title: str,
        rows: list[Replacement],
        *,
        verb: str = "Remove",
        total_label: str = "frees",
        note: str = "",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.rows = rows
        self.verb = verb
        self.total_label = total_label
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Label(self.title_text, id="confirm-title")
            if self.rows:
                yield Static(self._listing(), id="confirm-list")
            yield from self.compose_answers()

    # The binding ids whose keys answer: the second confirmation has keys of its own.
    ANSWER_KEYS = ("yes", "no")

    def compose_answers(self) -> ComposeResult:
        """The note and the two buttons every confirmation ends with."""
        if self.note:
            yield Label(self.note, id="confirm-note")
        with Horizontal(id="confirm-buttons"):
            yes, no = (bound_key(self.app, action) for action in self.ANSWER_KEYS)
            yield Button(f"{self.verb} ({yes})", variant="error", id="confirm-yes")
            yield Button(f"Cancel ({no})", variant="default", id="confirm-no")

    def _listing(self) -> Table:
        grid = Table.grid(padding=(0, 2), expand=True)
        grid.add_column(overflow="fold", ratio=1)
        grid.add_column(justify="right", no_wrap=True)
        for r in self.rows:
            size = human_size(r.size) if r.size is not None else "size unknown"
            grid.add_row(Breakable(r.path), size)
        known = sum(r.size or 0 for r in self.rows)
        unknown = any(r.size is None for r in self.rows)
        total = f"{'at least ' if unknown else ''}{human_size(known)}"
        grid.add_row(
            Text(self.total_label, style="bold"), Text(total, style="bold", justify="right")
        )
        return grid

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()  # the safe answer is the default

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

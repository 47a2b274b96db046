"""F1 / ?: every key, from help.md beside this file."""

from __future__ import annotations

from importlib import resources
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Markdown


def help_text() -> str:
    return resources.files(__package__).joinpath("help.md").read_text("utf-8")


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,question_mark,q", "dismiss", "Close", show=False),
    ]

    def __init__(self, context: str = "") -> None:
        super().__init__()
        self.context = context  # the focused widget's own help line

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            if self.context:
                yield Label(self.context, id="help-context")
            with VerticalScroll(id="help-scroll"):
                yield Markdown(help_text())
            yield Label("Esc closes", id="help-close")

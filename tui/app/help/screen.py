"""F1 / ?: every key on one page, grouped, with the keys bound now (tui.app.help.key_lines)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.console import Group as RichGroup
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui.app.help.key_lines import Group, groups, rows
from tui.app.keys import bound_key, register
from tui.app.navigation import move, moving
from tui.app.present import COULD_FREE

LEGEND = "● installed  ◆ cached  ◐ partial  ○ available  ◌ a job at work"


def _grid(group: Group, keys: Mapping[str, str]) -> RenderableType:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for key, does in rows(group, keys):
        grid.add_row(Text(key, style="bold"), does)
    # The title above the grid, not in its key column: a long title would widen that column.
    return RichGroup(Text(group.title, style="bold underline"), grid)


def help_text(keys: Mapping[str, str]) -> str:
    """The page as plain lines, ``key  what it does`` (for tests and the palette's search)."""
    lines = []
    for group in groups():
        lines.append(f"{group.title}:")
        lines += [f"{key}  {does}" for key, does in rows(group, keys)]
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "../dialogs.tcss"  # loaded when first shown, not for the first frame
    BINDINGS: ClassVar[list[BindingType]] = register(
        [
            Binding("escape,f1,question_mark,q", "dismiss", "Close", show=False, id="help-close"),
            *moving("#help-scroll"),
        ]
    )

    def __init__(self, context: str = "", keys: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.context = context  # the focused widget's own help line
        self.keys = dict(keys or {})
        self.text = help_text(self.keys)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            if self.context:
                yield Label(self.context, id="help-context")
            with VerticalScroll(id="help-scroll"):
                yield Label(LEGEND, id="help-legend")
                every = groups()
                for pair in (every[i : i + 2] for i in range(0, len(every), 2)):
                    with Horizontal(classes="help-groups"):
                        for group in pair:
                            yield Static(_grid(group, self.keys), classes="help-group")
                yield Label(COULD_FREE, id="help-could-free")  # the header's figure
            yield Label(f"{bound_key(self.app, 'help-close')} closes", id="help-close")

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()  # the arrows and page keys scroll it too

    def action_move(self, selector: str, action: str) -> None:
        move(self, selector, action)

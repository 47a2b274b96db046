"""The builds view's title line: what Textual's Header shows, drawn by one widget.

Header is four widgets (itself, its icon, its title and the clock's space), and each widget
costs the first frame a mount, a styling and a draw. This one draws the same line: the icon
in the first cells (hovered, it lights up and says it opens the command palette; clicked, it
opens it), the screen's title and sub-title centred between it and the clock's cells; a click
elsewhere makes the bar three lines tall and back, as on Header.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import RenderResult
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

ICON_CELLS = 8  # Header's icon: 8 cells, the glyph after one cell of padding
CLOCK_CELLS = 10  # the cells Header keeps for its clock on the right, shown or not
PALETTE_TIP = "Open the command palette"


class TitleBar(Widget):
    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        width: 100%;
        height: 1;
        background: $panel;
        color: $foreground;
        content-align-vertical: middle;
    }
    TitleBar.-tall {
        height: 3;
    }
    TitleBar > .title-bar--icon-hover {
        background: $foreground 10%;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"title-bar--icon-hover"}

    icon_hover: reactive[bool] = reactive(False)

    def __init__(self, icon: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.icon = icon

    def on_mount(self) -> None:
        for owner in (self.app, self.screen):
            self.watch(owner, "title", self._retitle, init=False)
            self.watch(owner, "sub_title", self._retitle, init=False)

    def _retitle(self) -> None:
        self.refresh()

    def render(self) -> RenderResult:
        screen = self.screen
        title = screen.title if screen.title is not None else self.app.title
        sub_title = screen.sub_title if screen.sub_title is not None else self.app.sub_title
        room = max(0, self.size.width - ICON_CELLS - CLOCK_CELLS)
        text = self.app.format_title(title, sub_title).truncate(room, ellipsis=True)
        left = (room - text.cell_length) // 2
        icon = Content(f" {self.icon}").pad_right(ICON_CELLS - 1 - Content(self.icon).cell_length)
        if self.icon_hover:
            icon = icon.stylize(self.get_visual_style("title-bar--icon-hover"))
        return Content.assemble(
            icon,
            " " * left,
            text,
            " " * (room - left - text.cell_length + CLOCK_CELLS),
        )

    def _over_icon(self, x: int) -> bool:
        return x < ICON_CELLS and self.app.ENABLE_COMMAND_PALETTE

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self.icon_hover = self._over_icon(event.x)
        self.tooltip = PALETTE_TIP if self.icon_hover else None

    def on_leave(self, event: events.Leave) -> None:
        self.icon_hover = False
        self.tooltip = None

    async def on_click(self, event: events.Click) -> None:
        event.stop()
        if self._over_icon(event.x):
            await self.run_action("app.command_palette")
        else:
            self.toggle_class("-tall")

"""The movement keys of lists and tables: arrows, and the vi keys people bring from
lazygit, k9s and less (``j`` ``k``, ``g`` ``G``, ``ctrl+d`` ``ctrl+u``), the same in every
view and dialog."""

from __future__ import annotations

from textual.binding import Binding
from textual.widget import Widget

# The actions the six keys run, by kind of widget: (down, up, first, last, page down, page up).
TABLE = ("cursor_down", "cursor_up", "scroll_top", "scroll_bottom", "page_down", "page_up")
OPTIONS = ("cursor_down", "cursor_up", "first", "last", "page_down", "page_up")  # a list
TEXT = ("scroll_down", "scroll_up", "scroll_home", "scroll_end", "page_down", "page_up")


def vi_bindings(actions: tuple[str, ...] = TABLE) -> list[Binding]:
    """Bindings for a widget's (or a dialog's) ``BINDINGS``: ``actions`` are what j, k, g,
    G, ctrl+d and ctrl+u run there (``TABLE``, ``OPTIONS`` or ``TEXT``, or a dialog's own)."""
    down, up, first, last, page_down, page_up = actions
    return [
        Binding("j", down, "Down", show=False, id="down"),
        Binding("k", up, "Up", show=False, id="up"),
        Binding("g", first, "First", show=False, id="top"),
        Binding("G", last, "Last", key_display="G", show=False, id="bottom"),
        Binding("ctrl+d", page_down, "Page down", show=False, id="page-down"),
        Binding("ctrl+u", page_up, "Page up", show=False, id="page-up"),
    ]


def moving(selector: str) -> list[Binding]:
    """The bindings of a dialog whose keys scroll the widget ``selector`` picks, wherever
    the focus is (a confirmation keeps it on its safe answer): the screen's ``action_move``
    runs them, through ``move``."""
    return vi_bindings(tuple(f"move({selector!r}, {action!r})" for action in TEXT))


def move(screen: Widget, selector: str, action: str) -> None:
    """Run ``action`` (one of ``TEXT``) on the widget ``selector`` picks in ``screen``."""
    getattr(screen.query_one(selector), f"action_{action}")()

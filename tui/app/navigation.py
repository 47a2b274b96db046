"""The movement keys of lists and tables: arrows, and the vi keys people bring from
lazygit, k9s and less (``j`` ``k``, ``g`` ``G``, ``ctrl+d`` ``ctrl+u``)."""

from __future__ import annotations

from textual.binding import Binding


def vi_bindings(*, cursor: bool = True, ends: bool = True, top: bool = True) -> list[Binding]:
    """Bindings for a widget's ``BINDINGS``.

    ``cursor``: j and k move a cursor (tables, lists), else they scroll (a page of text).
    ``ends``: G (and g, unless ``top`` is False because g means something else there) jump
    to the last and first row.
    """
    down, up = ("cursor_down", "cursor_up") if cursor else ("scroll_down", "scroll_up")
    first, last = ("scroll_top", "scroll_bottom") if cursor else ("scroll_home", "scroll_end")
    out = [
        Binding("j", down, "Down", show=False, id="down"),
        Binding("k", up, "Up", show=False, id="up"),
        Binding("ctrl+d", "page_down", "Page down", show=False, id="page-down"),
        Binding("ctrl+u", "page_up", "Page up", show=False, id="page-up"),
    ]
    if ends:
        out.append(Binding("G", last, "Last", key_display="G", show=False, id="bottom"))
        if top:
            out.append(Binding("g", first, "First", show=False, id="top"))
    return out

"""Where notifications go: at the right of a view's table, on the side away from the
highlighted row and never reaching it, and nowhere while a dialog or the palette is up.

Textual docks its toasts at one edge of the screen, over whatever is there. A view says which
area toasts may use and which row to keep clear (``View.toast_room``); ``place`` picks the edge
of that area with more room and caps the stack's height at that room, so a long stack loses
its oldest toasts (the newest stay in view), never the row.
"""

from __future__ import annotations

from typing import NamedTuple

from textual.geometry import Region, Size

MIN_TOAST = 3  # rows one toast needs: its margin, its title and a line of message


class Placement(NamedTuple):
    edge: str  # "top" or "bottom": where the stack is docked
    margin: int  # rows between that edge of the screen and the stack
    height: int  # rows the stack may take (0: none fits, the toasts wait)


def place(screen: Size, area: Region, row: Region | None) -> Placement:
    """Dock toasts in ``area`` (screen coordinates), clear of ``row``."""
    if row is None or not area.overlaps(row):
        above, below = area.height, 0
    else:
        above = row.y - area.y
        below = area.bottom - row.bottom
    if above >= below:
        edge, margin, room = "top", area.y, above
    else:
        edge, margin, room = "bottom", screen.height - area.bottom, below
    return Placement(edge, margin, room if room >= MIN_TOAST else 0)

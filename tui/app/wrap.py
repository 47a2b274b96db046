"""Text that wraps where its kind of text allows: a path after a ``/``, a key after a ``-``.

Rich wraps at spaces and folds a word that does not fit anywhere, so a long path in a
narrow column breaks mid-name ("…linux-x86_" / "64-gnu"). ``Breakable`` breaks after its
separators instead, and folds only a part that alone is wider than the column.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rich.console import Console, ConsoleOptions
from rich.measure import Measurement
from rich.text import Text


def parts(text: str, breaks: str) -> list[str]:
    """``text`` cut after each character of ``breaks``: ``a/b/c`` -> ``a/`` ``b/`` ``c``."""
    sep = re.escape(breaks)
    return re.findall(rf"[^{sep}]*[{sep}]|[^{sep}]+$", text) or [text]


def break_lines(text: str, width: int, breaks: str = "/", then: str = "-") -> list[str]:
    """``text`` packed into lines of at most ``width``, broken after ``breaks``; a part
    still too wide breaks after ``then`` (a name's dashes), and only then anywhere."""
    width = max(1, width)
    lines: list[str] = []
    line = ""
    for part in parts(text, breaks):
        if len(line) + len(part) <= width:
            line += part
            continue
        if line:
            lines.append(line)
        if len(part) > width and then:
            *whole, part = break_lines(part, width, then, "")
            lines += whole
        while len(part) > width:  # one name wider than the column: fold it
            lines.append(part[:width])
            part = part[width:]
        line = part
    if line or not lines:
        lines.append(line)
    return lines


class Breakable:
    """A Rich renderable: ``text`` in ``style``, wrapped after ``breaks``."""

    def __init__(self, text: str, *, breaks: str = "/", then: str = "-", style: str = "") -> None:
        self.text = text
        self.breaks = breaks
        self.then = then
        self.style = style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        for line in break_lines(self.text, options.max_width, self.breaks, self.then):
            yield Text(line, style=self.style, no_wrap=True, overflow="ignore")

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        every = self.breaks + self.then
        longest = max(len(p) for p in parts(self.text, every))
        return Measurement(min(longest, options.max_width), len(self.text))

    def __str__(self) -> str:
        return self.text

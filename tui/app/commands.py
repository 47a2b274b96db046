"""The command palette (Ctrl+P): what the current view offers, then what the app does anywhere.

Views and the app list their own commands (``commands()``), each with the key bound to it
now; this module knows none of them, so it imports no screen and no app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Provider

# A palette entry: its name, what it runs, and a hint (the key, or where the key works).
Command = tuple[str, Callable[[], object], str]


@runtime_checkable
class Commanded(Protocol):
    def commands(self) -> Iterator[Command]: ...


class ViewCommands(Provider):
    """The current screen's commands, then the app's."""

    def _commands(self) -> Iterator[Command]:
        for source in (self.screen, self.app):
            if isinstance(source, Commanded):
                yield from source.commands()

    async def discover(self) -> Hits:
        for name, command, help_text in self._commands():
            yield DiscoveryHit(name, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, command, help_text in self._commands():
            if (score := matcher.match(name)) > 0:
                yield Hit(score, matcher.highlight(name), command, help=help_text)

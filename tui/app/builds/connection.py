"""Check the connection from the builds view: the doctor's checks off the UI thread, their
result in a dialog, and what the header says about the network since.

The checks are ``pyshelf doctor``'s (tui.engine.checks.doctor): the catalog and mirror URLs in use,
redacted, and whether each answers, with timing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from tui.app.commands import Command
from tui.app.keys import bound_key, register
from tui.app.present import ERROR_STYLE, INSTALLED_STYLE
from tui.app.threads import in_thread
from tui.engine.shelf import Shelf

if TYPE_CHECKING:  # the doctor loads with the first check
    from tui.engine.checks.doctor import Check

OFFLINE, ONLINE, NO_CONNECTION = "offline", "online", "no connection"

# N, in the builds view's BINDINGS.
CHECK_BINDING = Binding(
    "N", "check_connection", "Check connection", key_display="N", show=False,
    tooltip="Does the catalog answer, and each mirror? (URLs redacted)", id="check-connection",
)  # fmt: skip


def connection_state(offline: bool, checks: list[Check] | None) -> str | None:
    """What the header says: offline by setting, else what the last check found (None: not
    checked yet)."""
    if offline:
        return OFFLINE
    if checks is None:
        return None
    return ONLINE if all(c.ok for c in checks) else NO_CONNECTION


class ChecksScreen(ModalScreen[None]):
    CSS_PATH = "../dialogs.tcss"  # loaded when first shown, not for the first frame
    BINDINGS: ClassVar[list[BindingType]] = register(
        [Binding("escape,enter,q", "dismiss", "Close", show=False, id="checks-close")]
    )

    def __init__(self, checks: list[Check]) -> None:
        super().__init__()
        self.checks = checks

    def compose(self) -> ComposeResult:
        failed = sum(not c.ok for c in self.checks)
        title = f"Connection: {failed} failed" if failed else "Connection: every source answers"
        with Vertical(id="checks-dialog"):
            yield Label(title, id="checks-title")
            yield Static(self.listing(), id="checks-list")
            yield Label(f"{bound_key(self.app, 'checks-close')} closes", id="checks-keys")

    def listing(self) -> Table:
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True, style="bold")
        grid.add_column(overflow="fold", ratio=1)
        for check in self.checks:
            mark = Text("✓", INSTALLED_STYLE) if check.ok else Text("✗", ERROR_STYLE)
            grid.add_row(mark, check.what, Text(f"{check.target}  {check.detail}"))
        return grid


class ConnectionCheck:
    """The builds view's connection check: the doctor's checks on ``shelf`` off the UI
    thread, their result in a dialog over ``view``; ``changed`` shows ``state`` again."""

    def __init__(self, view: Screen[None], shelf: Shelf, changed: Callable[[], None]) -> None:
        self.view = view
        self.shelf = shelf
        self.changed = changed
        self.last_checks: list[Check] | None = None

    @property
    def state(self) -> str | None:
        """What the header says about the network (``connection_state``)."""
        return connection_state(self.shelf.settings.offline, self.last_checks)

    def start(self) -> None:
        self.view.notify("checking the catalog and mirrors…", title="connection", timeout=3)
        in_thread(self.view, "_check_connection", self._run, group="connection", exclusive=True)

    def _run(self) -> None:
        from tui.engine.checks.doctor import run_checks

        checks = list(run_checks(self.shelf))
        self.view.app.call_from_thread(self._checked, checks)

    def _checked(self, checks: list[Check]) -> None:
        self.last_checks = checks
        self.changed()
        self.view.app.push_screen(ChecksScreen(checks))

    def commands(self) -> Iterator[Command]:
        yield (
            "Check connection: does the catalog answer, and each mirror?",
            self.start,
            bound_key(self.view.app, "check-connection"),
        )

"""Confirmations for a removal plan: exactly what goes and what it frees, then, when the plan
breaks environments, a second question that names them.

Both look like ``ConfirmScreen`` (same ids, same styles) and answer through it; only the
contents differ, because a plan knows more than a list of paths.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import ClassVar

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static

from tui.app import screen_keys
from tui.app.present import show_path
from tui.app.screens.confirm import ConfirmScreen
from tui.app.wrap import Breakable
from tui.engine.usage.removal import Plan, count_users, how_used
from tui.format import human_size


def plain(renderable: RenderableType) -> str:
    """What a listing says, as plain text on one wide line per row (for tests)."""
    console = Console(width=300, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


class _PlanDialog(ConfirmScreen):
    """A long listing scrolls, and the buttons stay in view on a small terminal."""

    # Rows the dialog needs besides the listing: border, padding, title and buttons (each
    # with its margin). Keep in step with app.tcss.
    FIXED_ROWS = 2 + 2 + 2 + 4
    DIALOG_WIDTH = 76

    def on_mount(self) -> None:
        super().on_mount()
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        # An auto-height dialog cannot give its listing "what is left", so count it here.
        width = max(10, min(self.DIALOG_WIDTH, int(self.size.width * 0.96)) - 6)
        note = -(-len(self.note) // width) + 1 if self.note else 0
        room = int(self.size.height * 0.9) - self.FIXED_ROWS - note
        self.query_one("#confirm-scroll").styles.max_height = max(3, room)


class PlanConfirmScreen(_PlanDialog):
    """The first question: every removal of the plan, with its path and the bytes it frees."""

    def __init__(self, title: str, plan: Plan, *, verb: str = "Remove", note: str = "") -> None:
        super().__init__(title, [], verb=verb, note=note)
        self.plan = plan
        # The total (and the warning that a second question follows) stay below the list.
        self.FIXED_ROWS = _PlanDialog.FIXED_ROWS + 1 + (1 if plan.broken_envs else 0)

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Label(self.title_text, id="confirm-title")
            with VerticalScroll(id="confirm-scroll"):
                yield Static(self.listing(), id="confirm-list")
            yield Static(self.total(), id="confirm-total")
            yield from self.compose_answers()

    def listing(self) -> Group:
        plan = self.plan
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(no_wrap=True, style="bold")
        grid.add_column(overflow="fold", ratio=1)
        grid.add_column(justify="right", no_wrap=True)
        for step in plan.steps:
            for n, removal in enumerate(step.removals):
                path: RenderableType = Breakable(show_path(removal.item.path))
                if removal.reason != "marked":
                    path = Group(path, Text(removal.reason, style="dim"))
                grid.add_row(str(step.action) if n == 0 else "", path, human_size(removal.freed))
        notes = [Text(f"skipped {item.name}: {why}", style="dim") for item, why in plan.refused]
        for venv, item in plan.switched_envs:
            notes.append(
                Text(f"{show_path(venv.path)} moves from {item.name} to the newest patch left")
            )
        return Group(grid, *notes)

    def total(self) -> Group:
        plan = self.plan
        line = Text(justify="right")
        line.append("frees ", style="bold")
        line.append(human_size(plan.freed), style="bold")
        if not plan.broken_envs:
            return Group(line)
        broken = count_users(v for v, _ in plan.broken_envs)
        return Group(line, Text(f"⚠ this breaks {broken}: you will be asked again", style="bold"))


class BreakConfirmScreen(_PlanDialog, inherit_bindings=False):
    ANSWER_KEYS = ("break", "break-no")

    """The second question, asked only when the plan breaks environments. Its answer is a
    different key from the first (b, not y), so a doubled keypress cannot say yes twice."""

    BINDINGS: ClassVar[list[BindingType]] = screen_keys.BREAK

    def __init__(self, plan: Plan) -> None:
        super().__init__(
            f"Removing these breaks {count_users(v for v, _ in plan.broken_envs)}. Remove anyway?",
            [],
            verb="Break them",
            note="An environment whose interpreter is gone stops working until it is made "
            "again with another Python.",
        )
        self.plan = plan

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Label(self.title_text, id="confirm-title")
            with VerticalScroll(id="confirm-scroll"):
                yield Static(self.listing(), id="confirm-list")
            yield from self.compose_answers()

    def listing(self) -> Table:
        grid = Table.grid(padding=(0, 2), expand=True)
        grid.add_column(overflow="fold", ratio=1)
        grid.add_column(overflow="fold", style="dim")
        for venv, item in self.plan.broken_envs:
            grid.add_row(Breakable(show_path(venv.path)), how_used(venv, item))
        return grid


def confirm_plan(
    app: App[object], plan: Plan, title: str, verb: str, run: Callable[[bool], None]
) -> None:
    """Ask about ``plan``, a second time (naming them) if it breaks environments; on yes,
    ``run(in_use_ok)``. The one confirmation every removal in the app goes through."""

    def first(yes: bool | None) -> None:
        if not yes:
            return
        if plan.needs_second_confirmation:
            app.push_screen(BreakConfirmScreen(plan), second)
        else:
            run(False)

    def second(yes: bool | None) -> None:
        if yes:
            run(True)

    app.push_screen(PlanConfirmScreen(title, plan, verb=verb), first)

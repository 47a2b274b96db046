"""Confirmations for a removal plan: exactly what goes and what it frees, then, when the plan
breaks environments, a second question that names them.

Both look like ``ConfirmScreen`` (same ids, same styles) and answer through it; only the
contents differ, because a plan knows more than a list of paths. Every path has a line of its
own (wrapped after a ``/`` only when it is longer than that line) with what it is and why it
goes on the line under it: no column competes with a path for the width.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import ClassVar

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static

from tui.app import deferred_keys
from tui.app.dialogs.confirm import ConfirmScreen
from tui.app.navigation import move, moving
from tui.app.present import show_path
from tui.app.wrap import Breakable
from tui.engine.usage.inventory import Kind
from tui.engine.usage.removal import Plan, Removal, count_users, how_used
from tui.format import human_size


def plain(renderable: RenderableType) -> str:
    """What a listing says, as plain text on one wide line per row (for tests)."""
    console = Console(width=300, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


# What each kind of item is called where the tables show its size: the builds table's
# Installed column, the parts of its Cached column, another manager's interpreter.
WORDS = {
    Kind.INSTALL: "Installed",
    Kind.ARCHIVE: "archive",
    Kind.PARTIAL: "partial download",
    Kind.UNPACKED: "unpacked copy",
    Kind.INTERPRETER: "interpreter",
}


def what_it_is(removal: Removal) -> str:
    """The line under a removal's path: its kind and size as the tables show them (the
    measured size; what removing it frees when that is not known), and why it goes."""
    item = removal.item
    size = human_size(item.size if item.size is not None else removal.freed)
    word = WORDS.get(item.kind, str(item.kind))
    reason = removal.reason
    if reason == "marked":
        return f"{word} {size}"
    if word.lower() in reason.lower():  # "its unpacked copy goes with …": not named twice
        return f"{reason}: {size}"
    return f"{word} {size} · {reason}"


def path_and_line(path: str, line: str, indent: int) -> Group:
    """A path on its own line (broken after a ``/`` only when it is wider than the line),
    and ``line`` under it, indented two more."""
    return Group(
        Padding(Breakable(path), (0, 0, 0, indent)),
        Padding(Text(line, style="dim"), (0, 0, 0, indent + 2)),
    )


class _PlanDialog(ConfirmScreen):
    """A long listing scrolls (j k g G ctrl+d ctrl+u, while the focus stays on the safe
    answer), and the buttons stay in view on a small terminal."""

    BINDINGS: ClassVar[list[BindingType]] = [*moving("#confirm-scroll")]

    # Rows the dialog needs besides its texts and the listing: border, padding, the title's
    # margin and the buttons (each with its margin). Keep in step with dialogs.tcss.
    FIXED_ROWS = 2 + 2 + 1 + 4
    DIALOG_WIDTH = 100  # #confirm-dialog.-plan in dialogs.tcss

    def dialog(self) -> Vertical:
        return Vertical(id="confirm-dialog", classes="-plan")

    def action_move(self, selector: str, action: str) -> None:
        move(self, selector, action)

    def texts(self) -> list[str]:
        """What the dialog says besides its listing, each text wrapped to the width."""
        return [self.title_text, self.note]

    def on_mount(self) -> None:
        super().on_mount()
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        # An auto-height dialog cannot give its listing "what is left", so count it here.
        width = max(10, min(self.DIALOG_WIDTH, int(self.size.width * 0.96)) - 6)
        rows = sum(-(-len(text) // width) for text in self.texts() if text)
        rows += 1 if self.note else 0  # its margin
        room = self.size.height - self.FIXED_ROWS - rows
        self.query_one("#confirm-scroll").styles.max_height = max(3, room)


class PlanConfirmScreen(_PlanDialog):
    """The first question: every removal of the plan, with its path, what it is in the
    tables' words and figures, and the bytes the whole plan frees."""

    def __init__(self, title: str, plan: Plan, *, verb: str = "Remove", note: str = "") -> None:
        super().__init__(title, [], verb=verb, note=note)
        self.plan = plan

    def texts(self) -> list[str]:
        # The total, and the warning that a second question follows, stay below the list.
        return [*super().texts(), *(line.strip() for line in plain(self.total()).splitlines())]

    def compose(self) -> ComposeResult:
        with self.dialog():
            yield Label(self.title_text, id="confirm-title")
            with VerticalScroll(id="confirm-scroll"):
                yield Static(self.listing(), id="confirm-list")
            yield Static(self.total(), id="confirm-total")
            yield from self.compose_answers()

    def listing(self) -> Group:
        plan = self.plan
        blocks: list[RenderableType] = []
        for step in plan.steps:
            head = Table.grid(expand=True)
            head.add_column(style="bold", no_wrap=True)
            head.add_column(justify="right", no_wrap=True)
            # Several steps: each says what it frees; one step: the total below says it.
            freed = f"frees {human_size(step.freed)}" if len(plan.steps) > 1 else ""
            head.add_row(str(step.action), freed)
            blocks.append(head)
            for removal in step.removals:
                blocks.append(path_and_line(show_path(removal.item.path), what_it_is(removal), 2))
        for item, why in plan.refused:
            blocks.append(Text(f"skipped {item.name}: {why}", style="dim"))
        for venv, item in plan.switched_envs:
            blocks.append(
                Text(f"{show_path(venv.path)} moves from {item.name} to the newest patch left")
            )
        return Group(*blocks)

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
    """The second question, asked only when the plan breaks environments: each one's path on
    its own line, and how it uses what goes under it. Its answer is a different key from the
    first (b, not y), so a doubled keypress cannot say yes twice."""

    ANSWER_KEYS = ("break", "break-no")
    BINDINGS: ClassVar[list[BindingType]] = [*deferred_keys.BREAK, *moving("#confirm-scroll")]

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
        with self.dialog():
            yield Label(self.title_text, id="confirm-title")
            with VerticalScroll(id="confirm-scroll"):
                yield Static(self.listing(), id="confirm-list")
            yield from self.compose_answers()

    def listing(self) -> Group:
        return Group(
            *(
                path_and_line(show_path(user.path), how_used(user, item), 0)
                for user, item in self.plan.broken_envs
            )
        )


def confirm_plan(
    app: App[object],
    plan: Plan,
    title: str,
    verb: str,
    run: Callable[[bool], object],
    note: str = "",
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

    app.push_screen(PlanConfirmScreen(title, plan, verb=verb, note=note), first)

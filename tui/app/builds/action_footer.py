"""The builds view's footer: the main actions in a fixed order, dimmed where they do not
apply, so nothing moves when the highlighted row changes.

Each action reads as its word with its key picked out ("fetch" with the f lit, "Disk" with
the D), which fits a dozen actions in 80 columns; a key its word does not contain (after a
remap) is written before the word. When even that is too wide, the actions listed last in
``DROP_FIRST`` go first, and the help key reads "more": the help page and the palette
(``ctrl+p``) list every action, those the footer never shows (U, E, I, N) among them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

from tui.app import kinds
from tui.app.keys import bound
from tui.app.textual_private import current_keymap

# binding id -> (word, shorter word for narrow terminals); the job kinds' are in tui.app.kinds
WORDS: dict[str, tuple[str, str]] = {
    "mark": ("mark", "mark"),
    "filter": ("filter", "filter"),
    "sort": ("sort", "sort"),
    "all": ("all", "all"),
    "details": ("details", "details"),
    "queue": ("Queue", "Queue"),
    "cleanup": ("Disk", "Disk"),
    "help": ("help", "help"),
    "quit": ("quit", "quit"),
    "cancel": ("cancel", "cancel"),
    "retry": ("Retry", "Retry"),
    "clear": ("clear done", "clear"),
    "clear-filter": ("clear", "clear"),
    "queue-close": ("close", "close"),
}


def table_actions(jobs: Sequence[str]) -> list[str]:
    """The builds table's actions in footer order, ``jobs`` being the job kinds' ids."""
    return ["mark", *jobs, "filter", "sort", "all", "details", "queue", "cleanup", "help", "quit"]


# In the queue, Esc and q close it: nothing quits from inside a panel (ctrl+q still does).
QUEUE_ACTIONS = ("cancel", "retry", "clear", "queue-close", "cleanup", "help")
FILTER_ACTIONS = ("clear-filter",)
# What goes first when the footer is too narrow for every action.
DROP_FIRST = ("all", "details", "verify", "sort", "mark")


@dataclass(frozen=True, slots=True)
class Item:
    """One action as the footer shows it: its key, its word, and whether it applies now."""

    binding_id: str
    display: str  # the key as shown: "f", "D", "/", "^r"
    word: str
    enabled: bool

    def text(self, key_style: Style, off_style: Style) -> Text:
        if not self.enabled:
            return Text(self._plain(), style=off_style)
        at = self.word.find(self.display) if len(self.display) == 1 else -1
        if at < 0:
            return Text.assemble((self.display, key_style), f" {self.word}")
        return Text.assemble(self.word[:at], (self.display, key_style), self.word[at + 1 :])

    def _plain(self) -> str:
        single = len(self.display) == 1 and self.display in self.word
        return self.word if single else f"{self.display} {self.word}"

    @property
    def width(self) -> int:
        return len(self._plain())


def _display(shown: str) -> str:
    return "␣" if shown == "space" else shown


class ActionFooter(Widget):
    """Renders ``ids()`` (binding ids, in order) against the screen's active bindings."""

    DEFAULT_CSS = """
    ActionFooter {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
        padding: 0 1;
    }
    ActionFooter > .action-footer--key {
        color: $footer-key-foreground;
        text-style: bold underline;
    }
    ActionFooter > .action-footer--off {
        color: $foreground-darken-3;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"action-footer--key", "action-footer--off"}

    def __init__(self, ids: Callable[[], Sequence[str]], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.ids = ids
        self._screen: Screen[object] | None = None
        self._drawn: tuple[object, ...] | None = None  # ``_state()`` when last drawn

    def on_mount(self) -> None:
        self._screen = self.screen
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        if self._screen is not None:
            self._screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        # Bindings change several times as the view opens (focus, the first rows, the cursor)
        # and on every move; most change nothing drawn here, and a draw costs more than this.
        if self._state() != self._drawn:
            self.refresh()

    def _applies(self) -> dict[str, bool]:
        """Binding id -> whether it applies now, from the screen's active bindings."""
        state: dict[str, bool] = {}
        for active in self.screen.active_bindings.values():
            binding_id = active.binding.id
            if binding_id is not None and binding_id not in state:
                state[binding_id] = active.enabled
        return state

    def _state(self) -> tuple[object, ...]:
        """What the line shows besides its width: the actions, the keys bound to them (the
        keymap) and whether each applies."""
        ids = tuple(self.ids())
        applies = self._applies()
        keymap = current_keymap(self.app)
        return ids, tuple(applies.get(i, False) for i in ids), tuple(keymap.items())

    def items(self, *, short: bool = False) -> list[Item]:
        """The actions in order, each with whether it applies to what is highlighted now."""
        state = self._applies()
        out = []
        for binding_id in self.ids():
            binding = next(iter(bound(self.app, binding_id)))
            shown = [b for b in bound(self.app, binding_id) if b.key_display] or [binding]
            display = _display(self.app.get_key_display(shown[0]))
            full, brief = kinds.footer_word(binding_id) or WORDS.get(
                binding_id, (binding.description.lower(),) * 2
            )
            out.append(
                Item(
                    binding_id,
                    display,
                    brief if short else full,
                    state.get(binding_id, False),
                )
            )
        return out

    def fit(self, width: int) -> tuple[list[Item], int, bool]:
        """The items that fit ``width``, the gap between them, and whether the palette hint
        fits too: full words first, then shorter words, narrower gaps, fewer actions."""
        for short, gap in ((False, 2), (True, 2), (True, 1)):
            items = self.items(short=short)
            used = sum(i.width for i in items) + gap * (len(items) - 1)
            if used <= width:
                return items, gap, used + 2 + len(self._palette_hint()) <= width
        # Too narrow: the help key says it leads to the rest ("? more"), then the actions
        # least used go until the line fits.
        items = [replace(i, word="more") if i.binding_id == "help" else i for i in items]
        for binding_id in DROP_FIRST:
            items = [i for i in items if i.binding_id != binding_id]
            if sum(i.width for i in items) + len(items) - 1 <= width:
                break
        return items, 1, False

    def _palette_hint(self) -> str:
        key = self.app.get_key_display(Binding(self.app.COMMAND_PALETTE_BINDING, ""))
        return f"{key} palette"

    def render(self) -> RenderResult:
        self._drawn = self._state()
        width = self.content_region.width or self.size.width
        items, gap, hint = self.fit(width)
        key_style = self.get_component_rich_style("action-footer--key")
        off_style = self.get_component_rich_style("action-footer--off")
        line = Text(no_wrap=True, overflow="crop")
        for n, item in enumerate(items):
            if n:
                line.append(" " * gap)
            line.append_text(item.text(key_style, off_style))
        if hint:
            palette = self._palette_hint()
            line.append(" " * (width - line.cell_len - len(palette)))
            line.append(palette, style=off_style)
        return line

"""PyshelfApp: the config, the theme and the screens, over one Shelf and one JobQueue.

The builds view is ``MainScreen`` (builds/screen.py); the disk-usage view is pushed over it.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.theme import Theme

from tui.app import deferred_keys  # noqa: F401  (the keys of the views that load later)
from tui.app.builds.listing import Measure, measure_ledger
from tui.app.builds.screen import MainScreen
from tui.app.commands import Command, ViewCommands
from tui.app.dialogs.confirm import ConfirmScreen
from tui.app.help.screen import HelpScreen
from tui.app.keys import bound_key, known_ids, register, spelled
from tui.app.present import COLUMN_LABELS
from tui.config import Allowed, Preferences, config_path
from tui.engine.jobs import JobQueue
from tui.engine.settings import Settings
from tui.engine.shelf import Shelf

if TYPE_CHECKING:
    from tui.app.disk.scope import Scope


def _collect_again() -> None:
    """After the first frame: what the app was built from lives as long as it, so it is
    frozen (the collector never walks it again), and the collector runs again."""
    gc.freeze()
    gc.enable()


# Where the config comes from when the caller does not say: the user's config dir.
DEFAULT_CONFIG = object()


class PyshelfApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "pyshelf"
    COMMANDS = App.COMMANDS | {ViewCommands}
    BINDINGS: ClassVar[list[BindingType]] = register(
        [
            Binding("t", "toggle_theme", "Theme", show=False, id="theme"),
            Binding("f1,question_mark", "help", "Help", key_display="?", id="help"),
            # q closes the dialog or view on top first; ctrl+q quits from anywhere. Both ask
            # while jobs run. Not priority: q typed into an input is a letter.
            Binding("q", "close_or_quit", "Quit", show=False, id="quit"),
            Binding("ctrl+q", "quit", "Quit now", show=False, priority=True, id="quit-now"),
        ]
    )

    def __init__(
        self,
        shelf: Shelf | Settings | None = None,
        queue: JobQueue | None = None,
        *,
        clock: Callable[[], float] | None = None,
        config: Path | object | None = DEFAULT_CONFIG,
        scope: Scope | None = None,
        measure: Measure = measure_ledger,
    ) -> None:
        """``config``: the config file (None: defaults, nothing remembered); ``scope``: where
        the disk-usage view looks; ``measure``: how sizes are measured (tests fix them).

        ``NO_COLOR`` set to anything but "" draws in shades of grey (Textual reads it here);
        an empty one counts as unset, as no-color.org and every variable pyshelf reads say.
        """
        if os.environ.get("NO_COLOR") == "":
            del os.environ["NO_COLOR"]
        super().__init__()
        self.shelf = shelf if isinstance(shelf, Shelf) else Shelf(shelf)
        self._owns_queue = queue is None
        self.queue = queue or JobQueue(self.shelf, clock=clock or time.monotonic)
        path = config_path() if config is DEFAULT_CONFIG else config
        assert path is None or isinstance(path, Path)
        allowed = Allowed(
            binding_ids=known_ids(),
            themes=list(self.available_themes),
            columns=[c for c in COLUMN_LABELS if c != "mark"],
        )
        self.prefs = Preferences(path, allowed, on_problem=self._config_problem)
        self._scope = scope
        self._measure = measure

    def get_default_screen(self) -> Screen[None]:
        return MainScreen(
            self.shelf, self.queue, self.prefs, scope=self._scope, measure=self._measure
        )

    @property
    def main(self) -> MainScreen:
        """The builds view, at the bottom of the screen stack."""
        screen = self.screen_stack[0]
        assert isinstance(screen, MainScreen)
        return screen

    def on_mount(self) -> None:
        config = self.prefs.config
        if config.keymap:
            self.set_keymap(config.keymap)
        if config.theme is not None:
            self.theme = config.theme
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        for problem in self.prefs.problems:
            self._config_problem(problem)
        if not gc.isenabled():  # run_app builds the app with the collector off
            self.call_after_refresh(_collect_again)

    def on_unmount(self) -> None:
        if self._owns_queue:
            self.queue.close(cancel=True)  # downloads keep their partial files

    def on_notify(self) -> None:
        """A notification arrived (Textual's Notify message, on the app's thread): its toast
        goes clear of the view's highlighted row."""
        place = getattr(self.screen, "place_toasts", None)
        if place is not None:
            place()
            self.call_after_refresh(place)  # again once its toast is drawn and measured

    def _config_problem(self, line: str) -> None:
        self.notify(line, title="config", severity="warning", timeout=10)

    def _theme_changed(self, theme: Theme) -> None:
        self.prefs.remember(theme=theme.name)

    # -- actions -------------------------------------------------------------------------

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def action_help(self) -> None:
        context = ""
        for node in [self.focused, *(self.focused.ancestors if self.focused else [])]:
            if text := getattr(node, "HELP", ""):
                context = text
                break
        keys = {binding_id: bound_key(self, binding_id, every=True) for binding_id in known_ids()}
        keys["palette"] = spelled(self.get_key_display(Binding(self.COMMAND_PALETTE_BINDING, "")))
        short = {binding_id: bound_key(self, binding_id) for binding_id in known_ids()}
        context = context.format_map(short)
        context = context[:1].upper() + context[1:]  # it may begin with a key: "Space marks"
        self.push_screen(HelpScreen(context, keys))

    def commands(self) -> Iterator[Command]:
        """What the palette offers on every view."""
        key = partial(bound_key, self)
        yield "Toggle dark / light theme", self.action_toggle_theme, key("theme")
        yield "Help: every key", self.action_help, key("help")
        yield (
            "Quit (asks first while jobs run)",
            self.action_quit,
            f"{key('quit-now')}; {key('quit')} on the builds view",
        )

    def get_system_commands(self, screen: Screen[object]) -> Iterator[SystemCommand]:
        # Textual's own Quit runs the same action without naming a key: ours replaces it.
        for command in super().get_system_commands(screen):
            if command.callback != self.action_quit:
                yield command

    async def action_close_or_quit(self) -> None:
        """q: close what is on top (a dialog answers "no", the builds view's queue panel
        closes, a view goes back); on the builds view with nothing open, quit."""
        if len(self.screen_stack) > 1:
            self.screen.dismiss(None)
        elif not self.main.close_top():
            await self.action_quit()

    async def action_quit(self) -> None:
        running = self.queue.active()
        if not running:
            self.exit(0)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit(0)

        self.push_screen(
            ConfirmScreen(
                f"Quit and cancel {len(running)} running job{'s' if len(running) > 1 else ''}?",
                [],
                verb="Quit",
                note="Downloads keep their partial files and resume next time.",
            ),
            answered,
        )

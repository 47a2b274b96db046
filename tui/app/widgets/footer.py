"""The key footer: Textual's, recomposed only when what it shows changes."""

from __future__ import annotations

from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """Textual recomposes its footer (every key a widget, styled anew) after each bindings
    change, though most change nothing it shows: the builds view changes them several times
    as it opens (focus, the screen stack, the first rows and their cursor), and each cursor
    move does. A recompose whose keys, words and states are those already shown is skipped."""

    _composed: object = None  # what the footer was last composed with

    def _showing(self) -> object:
        if not self._bindings_ready:
            return ()
        app = self.app
        return (
            self.compact,
            self.show_command_palette,
            tuple(
                (b.action, app.get_key_display(b), b.description, enabled, tooltip, b.group)
                for _, b, enabled, tooltip in self.screen.active_bindings.values()
                if b.show
            ),
        )

    async def recompose(self) -> None:
        showing = self._showing()
        if showing == self._composed:
            return
        self._composed = showing
        await super().recompose()

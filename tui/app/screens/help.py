"""F1 / ?: every key, from help.md beside this file, with the keys bound now filled in."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label

from tui.app.keys import bound_key, register
from tui.engine.jobspec import table_specs


def _job_rows(keys: Mapping[str, str]) -> str:
    """One row per job kind the table offers (tui.engine.jobspec), with its key now."""
    rows = []
    for job in table_specs():
        notes = f" ({job.notes})" if job.notes else ""
        rows.append(f"| `{keys[job.action]}` | **{job.verb}**: {job.help}{notes} |")
    return "\n".join(rows).format_map(keys)


def help_text(keys: Mapping[str, str]) -> str:
    """help.md with ``{binding-id}`` as the keys bound to them, and ``{jobs}`` as job rows."""
    text = resources.files(__package__).joinpath("help.md").read_text("utf-8")
    return text.format_map({**keys, "jobs": _job_rows(keys)})


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = register(
        [Binding("escape,f1,question_mark,q", "dismiss", "Close", show=False, id="help-close")]
    )

    def __init__(self, context: str = "", text: str = "") -> None:
        super().__init__()
        self.context = context  # the focused widget's own help line
        self.text = text

    def compose(self) -> ComposeResult:
        # Loaded when the help first opens: the Markdown widget brings markdown-it and
        # pygments, a sizeable part of the app's start-up otherwise.
        from textual.widgets import Markdown

        with Vertical(id="help-dialog"):
            if self.context:
                yield Label(self.context, id="help-context")
            with VerticalScroll(id="help-scroll"):
                yield Markdown(self.text)
            yield Label(f"{bound_key(self.app, 'help-close')} closes", id="help-close")

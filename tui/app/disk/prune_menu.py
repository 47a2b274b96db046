"""p in the disk-usage view: pick a prune preset. The answer is previewed as a plan next."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from tui.app import deferred_keys
from tui.app.keys import bound_key
from tui.app.navigation import OPTIONS, vi_bindings
from tui.engine.errors import PyshelfError
from tui.engine.usage.prune import parse_days, parse_size

PRESETS = ["newest", "uninstalled", "older", "cap"]


@dataclass(frozen=True, slots=True)
class PruneChoice:
    preset: str  # one of PRESETS
    days: float = 30.0
    cap: int = 2 << 30
    cap_text: str = "2G"

    @property
    def title(self) -> str:
        return {
            "newest": "keep only the newest patch of each minor",
            "uninstalled": "evict archives of versions not installed",
            "older": f"evict archives older than {self.days:g} days",
            "cap": f"cap the cache at {self.cap_text}",
        }[self.preset]

    def options(self) -> dict[str, Any]:
        """``prune_plan``'s keyword arguments for this preset."""
        options: dict[str, dict[str, Any]] = {
            "newest": {"keep_newest_patch": True},
            "uninstalled": {"evict_uninstalled": True},
            "older": {"older_than_days": self.days},
            "cap": {"max_cache": self.cap},
        }
        return options[self.preset]


class PresetList(OptionList):
    """The presets; j k g G ctrl+d ctrl+u move as in every list."""

    BINDINGS: ClassVar[list[BindingType]] = [*vi_bindings(OPTIONS)]


class PruneScreen(ModalScreen[PruneChoice | None]):
    CSS_PATH = "../dialogs.tcss"  # loaded when first shown, not for the first frame
    BINDINGS: ClassVar[list[BindingType]] = deferred_keys.PRUNE

    def __init__(self, days: str = "30", cap: str = "2G") -> None:
        super().__init__()
        self.days_text = days
        self.cap_text = cap

    def compose(self) -> ComposeResult:
        with Vertical(id="prune-dialog"):
            yield Label("Prune the shelf", id="prune-title")
            yield Label(
                "Only uv installs and the cache; each preset is shown as a plan first and "
                "nothing goes until you confirm.",
                id="prune-note",
            )
            yield PresetList(*self._options(), id="prune-presets")
            with Horizontal(classes="prune-field"):
                yield Label("older than (days)")
                yield Input(self.days_text, id="prune-days", compact=True)
            with Horizontal(classes="prune-field"):
                yield Label("cache cap (2G, 500M)")
                yield Input(self.cap_text, id="prune-cap", compact=True)
            key = partial(bound_key, self.app)
            picks = " ".join(key(f"prune-{n}") for n in range(1, 5))
            yield Label(
                f"{picks} or Enter previews · Tab to the numbers · {key('prune-cancel')} cancels",
                id="prune-keys",
            )

    def action_pick(self, index: int) -> None:
        self._choose(PRESETS[index])

    def _options(self) -> list[Option]:
        days = self.days_text.strip() or "N"
        cap = self.cap_text.strip() or "a size"
        texts = [
            "Keep only the newest patch of each minor",
            "Evict archives of versions not installed",
            f"Evict archives older than {days} days",
            f"Cap the cache at {cap}",
        ]
        keys = [bound_key(self.app, f"prune-{n}") for n in range(1, 5)]
        rows = zip(keys, PRESETS, texts, strict=True)
        return [Option(f"{key}  {text}", id=preset) for key, preset, text in rows]

    @on(Input.Changed)
    def _numbers_changed(self, event: Input.Changed) -> None:
        if event.input.id == "prune-days":
            self.days_text = event.value
        else:
            self.cap_text = event.value
        presets = self.query_one(OptionList)
        for option in self._options():
            presets.replace_option_prompt(option.id or "", option.prompt)

    @on(Input.Submitted)
    def _number_submitted(self, event: Input.Submitted) -> None:
        self._choose("older" if event.input.id == "prune-days" else "cap")

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option.id or "")

    def _choose(self, preset: str) -> None:
        try:
            days = parse_days(self.days_text)
        except PyshelfError as exc:
            if preset == "older":
                self.notify(str(exc), severity="error")
                return
            days = 30.0
        try:
            cap = parse_size(self.cap_text)
        except PyshelfError as exc:
            if preset == "cap":
                self.notify(str(exc), severity="error")
                return
            cap = 2 << 30
        self.dismiss(PruneChoice(preset, days, cap, self.cap_text.strip()))

"""Textual's private attributes pyshelf reads, in one place: an upgrade that renames one
breaks here, and nowhere else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.app import App


def current_keymap(app: App[Any]) -> Mapping[str, str]:
    """The keymap ``set_keymap`` was given last, by binding id, normalized (Textual keeps it
    in ``App._keymap``; the bindings take it only when keys are pressed)."""
    keymap: Mapping[str, str] = app._keymap
    return keymap

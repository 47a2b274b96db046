"""Every binding by its id, and the key bound to it now.

Classes declare their ``BINDINGS`` through ``register``, so a hint can name the key a user's
keymap bound (``bound_key``) and the config can refuse an id that names no binding.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.app import App
from textual.binding import Binding, BindingType

from tui.app.textual_private import current_keymap

_DEFAULTS: dict[str, Binding] = {}


def register(bindings: Iterable[BindingType]) -> list[BindingType]:
    """Note ``bindings`` by id and return them, for a ``BINDINGS`` class variable."""
    out = list(bindings)
    for binding in out:
        assert isinstance(binding, Binding) and binding.id, f"a binding without an id: {binding}"
        _DEFAULTS.setdefault(binding.id, binding)
    return out


def forget(binding_ids: Iterable[str]) -> None:
    """Drop what ``register`` noted for these ids (a job kind taken out again)."""
    for binding_id in binding_ids:
        _DEFAULTS.pop(binding_id, None)


def known_ids() -> set[str]:
    return set(_DEFAULTS)


def bound(app: App[Any], binding_id: str) -> list[Binding]:
    """The binding ``binding_id`` as the app's keymap has it now, one per key."""
    binding = _DEFAULTS[binding_id]
    keymap = current_keymap(app)
    if remapped := keymap.get(binding_id):
        return [binding.with_key(k.strip(), key_display=None) for k in remapped.split(",")]
    keys = [k.strip() for k in binding.key.split(",")]
    # A key_display stands for the binding's last key, as in "f1,question_mark" shown "?".
    return [
        binding.with_key(k, key_display=binding.key_display if k == keys[-1] else None)
        for k in keys
    ]


def bound_key(app: App[Any], binding_id: str, *, every: bool = False) -> str:
    """The key bound to ``binding_id`` now, as the footer shows it (``^r``, ``F``, ``?``);
    ``every``: all of its keys, as the help page lists them (``F1 ?``)."""
    bindings = bound(app, binding_id)
    if every:
        return " ".join(spelled(app.get_key_display(b)) for b in bindings)
    return spelled(app.get_key_display(next((b for b in bindings if b.key_display), bindings[0])))


_NAMES = {"esc": "Esc", "del": "Del", "tab": "Tab", "enter": "Enter"}


def spelled(display: str) -> str:
    """The footer's short form spelled out for a sentence: ``^r`` reads Ctrl+R, ``f1`` F1."""
    if display.startswith("^") and len(display) > 1:
        return f"Ctrl+{display[1:].upper()}"
    if len(display) > 1 and display[0] == "f" and display[1:].isdigit():
        return display.upper()
    return _NAMES.get(display, display)


def bound_keys(app: App[Any]) -> dict[str, str]:
    """Every binding id with its key now: fills ``{action}`` in hints."""
    return {binding_id: bound_key(app, binding_id) for binding_id in _DEFAULTS}

"""Lines the builds view says about itself: why the table is empty, what a reload changed."""

from __future__ import annotations

from collections.abc import Iterable

from tui.app.present import row_id, state_text
from tui.engine.shelf import Entry


def empty_filter_note(text: str, *, clear_key: str, all_key: str, more: bool) -> str:
    """Why a filtered table is empty and how to get rows back; ``more``: the filter would
    match builds hidden by the newest-per-minor view."""
    note = f"no build matches “{text}” — {clear_key} clears the filter"
    if more:
        note += f", {all_key} shows all versions (some match there)"
    return note


def reload_summary(before: Iterable[Entry], after: Iterable[Entry]) -> str:
    """``reloaded: 17 builds, 2 changed`` — rows added, gone or in another state count."""
    old = {row_id(e): state_text(e) for e in before}
    new = {row_id(e): state_text(e) for e in after}
    changed = sum(old.get(rid) != state for rid, state in new.items())
    changed += sum(rid not in new for rid in old)
    what = "nothing changed" if not changed else f"{changed} changed"
    return f"reloaded: {len(new)} build{'s' if len(new) != 1 else ''}, {what}"

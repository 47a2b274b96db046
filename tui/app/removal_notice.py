"""What the app says once a removal plan has run: one notification per removal, however many
steps (jobs) it took, with what came free and what went wrong."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.format import human_size

if TYPE_CHECKING:  # the removal engine loads with the first removal
    from tui.engine.usage.removal import Outcome


def notice(outcome: Outcome) -> tuple[str, bool]:
    """The notification's text, and whether a step failed (it is then an error)."""
    results = outcome.results
    what = results[0].step.label if len(results) == 1 else f"{len(results)} removals"
    text = f"{what}: freed {human_size(outcome.freed)}"
    if outcome.cancelled:
        text += "; cancelled"
    failed = outcome.failed
    if failed:
        text += f"; {len(failed)} failed: {failed[0].error}"
    return text, bool(failed)

"""Which jobs ask first, and what a reinstall will replace.

Which jobs apply to which entry is each kind's rule in ``tui.engine.jobspec``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tui.app.present import show_path
from tui.engine.jobs import JobKind
from tui.engine.jobspec import spec
from tui.engine.shelf import Entry


def needs_confirmation(kind: JobKind, entries: Iterable[Entry]) -> bool:
    """Removals always ask. A reinstall asks only when it would discard something, which
    the engine finds out (``Shelf.reinstall_losses``) before the builds view decides."""
    return spec(kind).destroys


@dataclass(frozen=True, slots=True)
class Replacement:
    """An install a reinstall replaces, with its size (None: not measured yet)."""

    path: str
    size: int | None


def replacements(entries: Iterable[Entry]) -> list[Replacement]:
    """What a reinstall replaces. Uninstalls and evictions are removal plans instead
    (``tui.engine.usage.removal.plan_builds``): they free space, and may break environments."""
    return [
        Replacement(show_path(e.installation.path), e.install_size)
        for e in entries
        if e.installation is not None
    ]

"""``pyshelf reinstall`` never throws work away without saying so.

A reinstall replaces the install with the archive's files: packages added to the interpreter
and files edited in it go. As the app does, the CLI first compares each install with its
unpacked copy (``Shelf.reinstall_losses``); when something would go it names it, asks on a
terminal, and without one refuses unless ``--yes`` was given.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tui.cli import prompt
from tui.engine.errors import PyshelfError

if TYPE_CHECKING:
    from tui.engine.shelf import Entry, Shelf


def keeps_work(shelf: Shelf, targets: Sequence[Entry], *, yes: int) -> bool:
    """Whether to go on with the reinstall of ``targets``: nothing would be lost, ``--yes``
    was given (what goes is still named), or the user said yes. Raises PyshelfError, with
    nothing reinstalled, when it would discard files and there is no terminal to ask on."""
    lost = []
    for entry in targets:
        losses = shelf.reinstall_losses(entry)
        if not losses.none:
            lost.append(f"{entry.key}: {losses.describe()}")
    if not lost:
        return True
    if yes:
        for line in lost:
            print(f"pyshelf: warning: {line}", file=sys.stderr)
        return True
    if not prompt.interactive():
        raise PyshelfError(
            f"{'; '.join(lost)}; nothing was reinstalled: pass --yes to reinstall anyway"
        )
    for line in lost:
        print(f"pyshelf: {line}", file=sys.stderr)
    if prompt.ask("Reinstall anyway?"):
        return True
    print("pyshelf: nothing reinstalled", file=sys.stderr)
    return False

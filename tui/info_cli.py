"""``pyshelf find``, ``dir`` and ``doctor``: which interpreter, where things are, what answers."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from tui.exit_codes import EXIT_FAILED

if TYPE_CHECKING:  # `dir` runs in shell start-up files: it loads neither
    from tui.engine.settings import Settings
    from tui.engine.shelf import Shelf


def cmd_doctor(shelf: Shelf) -> int:
    """One line per source: whether it answers, and how fast (URLs redacted)."""
    from tui.engine.doctor import run_checks

    failed = False
    for check in run_checks(shelf):
        failed |= not check.ok
        mark = "ok  " if check.ok else "FAIL"
        print(f"{mark} {check.what:<16} {check.target}  {check.detail}")
    return EXIT_FAILED if failed else 0


def cmd_find(shelf: Shelf, request: str | None) -> int:
    """Print the managed interpreter uv would pick for ``request`` (or the pin)."""
    if request is None:
        from tui.engine.pins import find_pins

        pins = find_pins()
        request = pins.requests[0] if pins else "default"
    entry = shelf.find(request, shelf.entries(), want=lambda e: e.installation is not None)
    assert entry.installation is not None
    print(entry.installation.executable)
    return 0


def cmd_dir(settings: Settings, args: argparse.Namespace) -> int:
    if args.env:
        from tui.engine.uvcache import env_line

        print(env_line(settings))
    else:
        print(
            settings.bin_dir
            if args.bin
            else settings.cache_dir
            if args.cache
            else settings.install_dir
        )
    return 0

"""``pyshelf find``, ``dir`` and ``doctor``: which interpreter, where things are, what answers."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from tui.cli.exit_codes import EXIT_FAILED

if TYPE_CHECKING:  # `dir` runs in shell start-up files: it loads neither
    from tui.engine.settings import Settings
    from tui.engine.shelf import Shelf


def cmd_doctor(shelf: Shelf, args: argparse.Namespace) -> int:
    """One line per source: whether it answers, and how fast (URLs redacted)."""
    from tui.engine.checks.doctor import run_checks

    failed = False
    for check in run_checks(shelf):
        failed |= not check.ok
        if args.json:
            from tui.cli.json_lines import emit

            emit({
                "check": check.what, "target": check.target, "ok": check.ok,
                "detail": check.detail, "ms": None if check.ms is None else round(check.ms, 1),
            })  # fmt: skip
            continue
        mark = "ok  " if check.ok else "FAIL"
        print(f"{mark} {check.what:<16} {check.target}  {check.detail}")
    return EXIT_FAILED if failed else 0


def cmd_find(shelf: Shelf, args: argparse.Namespace) -> int:
    """Print the managed interpreter uv would pick for the request (or the pin)."""
    request, source = args.request, None
    if request is None:
        from tui.engine.requests.pins import find_pins

        pins = find_pins()
        request, source = (pins.requests[0], pins.source) if pins else ("default", None)
    entry = shelf.find(request, shelf.entries(), want=lambda e: e.installation is not None)
    installation = entry.installation
    assert installation is not None
    if args.json:
        from tui.cli.json_lines import emit

        build = entry.build
        emit({
            "executable": str(installation.executable), "name": entry.key,
            "version": build.version, "implementation": build.implementation,
            "variant": build.variant, "install": str(installation.path),
            "request": request, "pinned_by": source,
        })  # fmt: skip
    else:
        print(installation.executable)
    return 0


def cmd_dir(settings: Settings, args: argparse.Namespace) -> int:
    if args.json:
        from tui.cli.json_lines import emit
        from tui.engine.checks.uvcache import env_line

        emit({
            "install_dir": str(settings.install_dir), "bin_dir": str(settings.bin_dir),
            "cache_dir": str(settings.cache_dir), "env": env_line(settings),
        })  # fmt: skip
    elif args.env:
        from tui.engine.checks.uvcache import env_line

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

"""``pyshelf pin``: write the ``.python-version`` that ``uv python pin`` writes, or show the pin.

Needs neither the catalog nor the installs: the file holds a request, not a build.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tui.engine.errors import PyshelfError
from tui.engine.requests.pins import (
    VERSION_FILE,
    find_pins,
    global_pin_file,
    global_pin_path,
    write_pin,
)


def cmd_pin(args: argparse.Namespace) -> int:
    if args.request is None:
        return _show(args)
    path = global_pin_path() if args.glob else Path.cwd() / VERSION_FILE
    before = write_pin(path, args.request)
    where = _display(path)
    if before is not None:
        _say(args, f"updated {where} from {before} to {args.request}", path, before)
    else:
        _say(args, f"pinned {args.request} in {where}", path, None)
    return 0


def _show(args: argparse.Namespace) -> int:
    """The requests in force, one a line on stdout (as ``uv python pin`` prints them), and
    where they come from on stderr."""
    from tui.engine.requests.canonical import canonical_request
    from tui.engine.requests.pins import read_pin_file

    if args.glob:
        path = global_pin_file()
        found = None if path is None else (read_pin_file(path, first_only=True), str(path))
    else:
        pins = find_pins()
        found = None if pins is None else (pins.requests, pins.source)
    if not found or not found[0]:
        where = "no global pin" if args.glob else "nothing is pinned here"
        raise PyshelfError(f"{where}; `pyshelf pin 3.12` pins a version")
    requests, source = found
    canonical = [canonical_request(r) for r in requests]
    if args.json:
        import json

        print(json.dumps({"requests": canonical, "source": source}))
    else:
        for request in canonical:
            print(request)
        print(f"from {source}", file=sys.stderr)
    return 0


def _say(args: argparse.Namespace, line: str, path: Path, before: str | None) -> None:
    if args.json:
        import json

        print(json.dumps({"request": args.request, "path": str(path), "replaced": before}))
    else:
        print(line)


def _display(path: Path) -> str:
    """The path as uv shows it: relative when under the current directory."""
    try:
        return os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(path)
    except (OSError, ValueError):
        return str(path)

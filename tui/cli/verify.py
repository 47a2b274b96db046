"""``pyshelf verify``: hash cached archives and unpacked copies in full again."""

from __future__ import annotations

import argparse
import sys

from tui.cli.exit_codes import EXIT_FAILED
from tui.engine.shelf import Shelf


def cmd_verify(shelf: Shelf, args: argparse.Namespace) -> int:
    from tui.engine.verify import verify
    from tui.format import counted

    targets = None
    if args.requests:
        entries = shelf.entries(all_platforms=True)
        targets = []
        for request in args.requests:
            entry = shelf.find(
                request,
                entries,
                want=lambda e: e.cached is not None or shelf.unpacked_tree(e) is not None,
            )
            if entry not in targets:
                targets.append(entry)
    # With --json, stdout holds the records alone; the problem lines go to stderr.
    say = (lambda line: print(line, file=sys.stderr)) if args.json else print
    result = verify(shelf, targets, on_line=say)
    if args.json:
        from tui.cli.json_lines import emit

        for item in result.checked:
            emit({
                "kind": item.kind, "path": str(item.path), "name": item.key,
                "ok": not item.problems, "problems": list(item.problems), "repair": item.repair,
            })  # fmt: skip
    archives = counted(result.archives, "archive")
    copies = counted(result.copies, "unpacked copy", "unpacked copies")
    if result.ok:
        print(f"verified {archives} and {copies}: all match", file=sys.stderr)
        return 0
    problems = counted(len(result.problems), "problem")
    print(f"verified {archives} and {copies}: {problems}", file=sys.stderr)
    return EXIT_FAILED

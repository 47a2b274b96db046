"""``pyshelf list``: the builds for this machine, their state and what they cost on disk."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import TYPE_CHECKING

from tui.cli.exit_codes import EXIT_FAILED
from tui.engine.redact import redact_url
from tui.engine.requests.resolve import no_match_message, parse_request
from tui.engine.shelf import Entry, Shelf
from tui.engine.shelf.listing import ANY, listed
from tui.engine.shelf.rebuilds import rebuilds_of
from tui.format import human_size

if TYPE_CHECKING:
    from tui.engine.usage.ledger import Cost


def _row(
    entry: Entry, cost: Cost, frees: tuple[int | None, int | None], rebuild: Entry | None
) -> dict[str, object]:
    b = entry.build
    inst = entry.installation
    return {
        "key": b.key,
        "version": b.version,
        "implementation": b.implementation,
        "variant": b.variant,
        "build": b.build or None,
        "platform": b.platform,
        "url": redact_url(b.url) if b.url else None,
        "sha256": b.sha256,
        "available": entry.available,
        "cached": entry.cached is not None,
        "installed": inst is not None,
        "installed_build": (inst.build or None) if inst else None,
        "rebuild": rebuild.build.build if rebuild else None,
        "download_size": entry.download_size,
        "partial_size": entry.partial_bytes or None,
        "cache_path": str(entry.cached.path) if entry.cached else None,
        "cache_size": entry.cache_size,
        "archive_size": entry.cached.size if entry.cached else None,
        "unpacked_size": entry.unpacked_size or None,
        "unpacked_shared": cost.shared or None,
        "install_path": str(inst.path) if inst else None,
        "install_size": entry.install_size,
        "uninstall_frees": frees[0],
        "evict_frees": frees[1],
    }


def cmd_list(shelf: Shelf, args: argparse.Namespace) -> int:
    from tui.engine.usage.ledger import Ledger  # the disk walk: only the commands that show sizes

    request = parse_request(args.request) if args.request else ANY
    # A request that names a platform lists builds for it, as uv's does.
    entries = shelf.entries(all_platforms=args.all_platforms or request.names_platform)
    rows = listed(
        entries, shelf.host, request, all_versions=args.all, all_platforms=args.all_platforms
    )
    rows = shelf.probe_download_sizes(rows)
    # The ledger names items by these entries: another platform's cached archive goes
    # unnamed here, but every row's figures and both totals are the same.
    ledger = Ledger.measure(shelf, entries)
    assert ledger is not None  # no cancel event: never stopped
    rows = ledger.sized(shelf, rows)
    offline = shelf.settings.offline
    rebuilds = rebuilds_of(rows, entries, offline=offline)
    if args.json:
        costs, frees = ledger.costs(shelf, rows), ledger.frees(shelf, rows)
        json.dump(
            [_row(*row) for row in zip(rows, costs, frees, rebuilds, strict=True)],
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
        return 0
    if not rows and args.request:  # a request that matches nothing is an error, as in uv
        pool = [e.build for e in entries]
        print(f"pyshelf: error: {no_match_message(args.request, pool)}", file=sys.stderr)
        return EXIT_FAILED
    if not rows:
        print("no builds listed; try --all-platforms or --catalog", file=sys.stderr)
        return 0
    table = [("KEY", "STATE", "DOWNLOAD", "CACHED", "INSTALLED")]
    keys = Counter(e.key for e in rows)
    for e, rebuild in zip(rows, rebuilds, strict=True):
        state = e.state
        if e.state == "partial":  # how far a resumed download will start from
            state = f"partial ({human_size(e.partial_bytes)} of {human_size(e.download_size)})"
        if rebuild is not None:
            state += f", rebuild +{rebuild.build.build}"
        key = f"{e.key} +{e.build.build}" if keys[e.key] > 1 else e.key  # builds of one key
        table.append((
            key, state, human_size(e.download_size),
            human_size(e.cache_size) if e.in_cache else "-",
            human_size(e.install_size) if e.installation else "-",
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0

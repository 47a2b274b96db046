"""``pyshelf install --default`` and ``--force``: the bin dir's links, by uv's rules.

The install job runs without its python3.X link; this step then makes the links the way
``uv python install --default`` (python3.12, python3, python) or ``--force`` does, once per
install that succeeded. A name it may not take is a warning, as in uv: the install itself
worked, and the exit status says so.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tui.engine.jobs import Job
from tui.engine.shelf import Shelf


def link_bin(
    shelf: Shelf, jobs: Sequence[Job], *, default: bool, force: bool
) -> dict[str, list[str]]:
    """Link each installed job's executables; returns the links made per key."""
    made = {}
    for job in jobs:
        if job.error or job.entry is None:
            continue
        done = shelf.installs.link_bin(job.key, default=default, force=force)
        if done is None:  # removed meanwhile by another process
            continue
        links, warnings = done
        for warning in warnings:
            print(f"pyshelf: warning: {warning}", file=sys.stderr)
        for link in links.refused:
            what = (
                "is a folder; remove it to link there"
                if link.is_dir() and not link.is_symlink()
                else "exists and neither uv nor pyshelf made it; --force replaces it"
            )
            print(f"pyshelf: warning: {link} {what}", file=sys.stderr)
        made[job.key] = [str(link) for link in links.linked]
        if links.linked:
            names = ", ".join(link.name for link in links.linked)
            print(f"{names} in {shelf.settings.bin_dir} now run {job.key}", file=sys.stderr)
    return made

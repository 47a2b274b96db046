"""Questions the CLI asks on a terminal, and whether there is one to ask on.

Small on purpose: a reinstall asks too, and must not load the clean-up code to do it.
"""

from __future__ import annotations

import sys


def interactive() -> bool:
    try:
        return sys.stdin.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError, OSError):  # closed or replaced streams
        return False


def ask(question: str) -> bool:
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")

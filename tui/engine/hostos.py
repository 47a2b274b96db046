"""The system pyshelf runs on, as ``sys.platform`` names it: ``linux``, ``darwin``, ``win32``.

The code whose rules differ per system (uv's directories, other managers' locations, the
macOS install-name fix) asks ``system()`` when it runs, so a test simulates another system for
that code alone by replacing ``system``. Never ``sys.platform`` itself: other code caches what
it saw (the atomic swap, the host), and would keep the simulated answer.
"""

from __future__ import annotations

import sys

MACOS = "darwin"
WINDOWS = "win32"


def system() -> str:
    return sys.platform

"""Where the disk-usage view looks, and the seams that make its pictures the same on every run.

The builds view holds one too: its removals (u, e) are planned as the disk-usage view's are.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tui.engine.sizerecords import SizeRecords
from tui.engine.usage import inventory as usage
from tui.engine.usage.inventory import Inventory, Item
from tui.engine.usage.managers import SYSTEM_DIRS
from tui.engine.usage.removal import Plan, make_plan, plan_builds

# As ``usage.scan_sizes``: items, on_size, cancel, and the records a full scan corrects.
SizeScan = Callable[
    [
        Sequence[Item],
        Callable[[Item, int], None] | None,
        threading.Event | None,
        SizeRecords | None,
    ],
    bool,
]
PlanMaker = Callable[[Inventory, list[Item]], Plan]
BuildPlanner = Callable[..., Plan]  # as ``plan_builds``: (shelf, action, entries, *, cwd)


@dataclass
class Scope:
    """Where the view looks, and the seams that make its pictures the same on every run."""

    system_dirs: Sequence[Path] = SYSTEM_DIRS
    cwd: Path | None = None  # environments below it count; None: the current directory
    clock: Callable[[], float] = time.time
    scan_sizes: SizeScan = field(default=usage.scan_sizes)
    make_plan: PlanMaker = field(default=make_plan)
    plan_builds: BuildPlanner = field(default=plan_builds)  # u and e in the builds view

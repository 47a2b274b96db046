"""``--json`` on the job commands, ``verify``, ``doctor`` and ``upgrade --dry-run``: one JSON
object per outcome, one a line on stdout, while the human lines stay on stderr.

The fields are listed in the README (The CLI: JSON output); a test parses each command's.
Loaded only with ``--json``, and ``json`` with it.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.engine.jobs import Job
    from tui.engine.usage.inventory import Item
    from tui.engine.usage.plan import Step
    from tui.engine.usage.removal import StepResult

Record = dict[str, object]


def emit(record: Record) -> None:
    import json

    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def job_record(job: Job) -> Record:
    """A fetch, install or reinstall: what it did, and where the result is."""
    entry = job.entry
    record: Record = {
        "action": str(job.kind), "name": job.key, "ok": job.error is None,
        "result": job.result, "error": job.error, "warnings": list(job.warnings),
    }  # fmt: skip
    if entry is not None:
        record["archive"] = str(entry.cached.path) if entry.cached is not None else None
        installed = entry.installation
        record["install"] = str(installed.path) if installed is not None else None
    return record


def step_record(result: StepResult) -> Record:
    """One step of an uninstall's or an eviction's plan, once it ran."""
    return _step(result.step, result.error, result.freed)


def refused_step(step: Step, why: str) -> Record:
    """A step of a plan refused as a whole (it would break environments): nothing ran."""
    return _step(step, why, 0)


def refused_item(action: str, item: Item, why: str) -> Record:
    """A target the plan would not take (nothing on disk to remove, say)."""
    return _record(action, item.name, why, 0, [item])


def _step(step: Step, error: str | None, freed: int) -> Record:
    return _record(step.action, step.label, error, freed, [r.item for r in step.removals])


def _record(action: str, name: str, error: str | None, freed: int, items: list[Item]) -> Record:
    return {
        "action": str(action), "name": name, "ok": error is None, "error": error,
        "freed": freed, "paths": [str(i.path) for i in items],
    }  # fmt: skip

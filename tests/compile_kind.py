"""A kind of job added from outside, as a plug-in would: ``compile`` checks that every module
of an installed interpreter compiles to bytecode (in memory: the install is not written).

Its whole definition is the two registrations below, the engine's and the app's words;
``registered`` takes both out again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tui.app import kinds
from tui.engine.jobs import Job, JobQueue, Phase
from tui.engine.jobspec import CliSpec, JobKind, JobSpec, installed, register, unregister
from tui.engine.runners import entry_of
from tui.engine.shelf import Entry

COMPILE = JobKind("compile")


def _compile(queue: JobQueue, job: Job) -> None:
    entry = entry_of(job)
    assert entry.installation is not None
    with queue.disk_slot(job):
        job.set_phase(Phase.COMPILING)
        sources = sorted(entry.installation.path.rglob("*.py"))
        for n, source in enumerate(sources, 1):
            compile(source.read_bytes(), str(source), "exec", dont_inherit=True)
            job.progress(n, len(sources))
    job.result = f"compiled {len(sources)} modules"


def _rule(entry: Entry, offline: bool) -> str | None:
    return None if entry.installation is not None else "not installed: press {install} first"


SPEC = JobSpec(
    COMPILE, _compile, rule=_rule,
    cli=CliSpec("compile installed interpreters' modules to bytecode", targets=installed),
)  # fmt: skip
WORDS = kinds.Words(
    "Compile", "compile the installed interpreter's modules to bytecode",
    footer=("bytecode", "bytecode"), line="compile to bytecode", key="b",
    palette="Compile bytecode",
)  # fmt: skip


@contextmanager
def registered() -> Iterator[JobKind]:
    register(SPEC)
    kinds.add(COMPILE, WORDS)
    try:
        yield COMPILE
    finally:
        kinds.remove(COMPILE)
        unregister(COMPILE)

"""A kind registered from outside (tests/compile_kind.py) is a queue job and a ``pyshelf``
subcommand, resolving its requests by its own rule, with nothing else changed."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.compile_kind import COMPILE, registered
from tests.conftest import World
from tui.cli.parser import build_parser
from tui.engine.jobs import JobQueue, Phase
from tui.engine.jobspec import JobKind, cli_specs, spec, specs

KEY = "cpython-3.12.7-linux-x86_64-gnu"


@pytest.fixture
def compile_kind() -> Iterator[JobKind]:
    with registered() as kind:
        yield kind
    assert COMPILE not in {s.kind for s in specs()}


def test_the_queue_runs_a_registered_kind(world: World, compile_kind: JobKind) -> None:
    shelf = world.shelf()
    entry = next(e for e in shelf.entries() if e.key == KEY)
    assert spec(compile_kind).why_not(entry) == "not installed: press {install} first"
    shelf.install(entry)
    entry = next(e for e in shelf.entries() if e.key == KEY)
    assert spec(compile_kind).why_not(entry) is None
    queue = JobQueue(shelf)
    job = queue.submit(compile_kind, entry)
    queue.wait([job])
    queue.close()
    assert (job.kind, job.phase, job.error) == ("compile", Phase.DONE, None)
    assert job.result == "compiled 3 modules"


def test_the_cli_offers_a_registered_kind_with_its_targets(
    world: World, compile_kind: JobKind
) -> None:
    assert compile_kind in {s.kind for s in cli_specs()}
    code, out, _ = world.cli("--help")
    assert code == 0 and "compile" in out and "modules to bytecode" in " ".join(out.split())
    code, _, err = world.cli("compile", "3.12")
    assert code != 0 and "3.12" in err  # its rule: only installed builds (none yet)
    assert world.cli("install", "3.12.7")[0] == 0
    code, out, err = world.cli("compile", "3.12", "--json")
    assert code == 0, err
    record = json.loads(out)
    assert (record["action"], record["name"], record["result"]) == (
        "compile", KEY, "compiled 3 modules"
    )  # fmt: skip


def test_a_kind_taken_out_leaves_no_subcommand(world: World) -> None:
    with registered():
        assert "compile" in _subcommands()
    assert "compile" not in _subcommands()
    assert world.cli("compile", "3.12")[0] == 2  # argparse: no such command


def _subcommands() -> set[str]:
    import argparse

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)

"""The job spec table: each kind's rule, its runner, and what is generated from it."""

from __future__ import annotations

import argparse
from pathlib import Path

from tests.conftest import World
from tui.app import kinds
from tui.cli.parser import build_parser
from tui.engine.archives.cache import CachedArchive
from tui.engine.jobs import JobKind, JobQueue, Phase
from tui.engine.jobspec import cli_specs, reason, spec, specs
from tui.engine.shelf import Entry, Shelf
from tui.engine.usage.removal import Action

KEY = "cpython-3.12.7-linux-x86_64-gnu"
KEYS = {"fetch": "f", "reinstall": "r", "cancel": "c"}


def _entry(shelf: Shelf, key: str = KEY) -> Entry:
    return next(e for e in shelf.entries() if e.key == key)


def why(kind: JobKind, entry: Entry, **kw: object) -> str | None:
    template = spec(kind).why_not(entry, **kw)  # type: ignore[arg-type]
    return None if template is None else reason(template, KEYS)


def test_rules_say_why_a_job_does_not_apply_naming_the_action(world: World) -> None:
    e = _entry(world.shelf())
    assert spec(JobKind.REINSTALL).why_not(e) == "not cached: press {fetch} to fetch"
    assert why(JobKind.REINSTALL, e) == "not cached: press f to fetch"
    assert why(JobKind.UNINSTALL, e) == "not installed"
    assert why(JobKind.FETCH, e, offline=True) == "offline: cannot download"
    assert why(JobKind.FETCH, e) is None
    assert why(JobKind.VERIFY, e) == "nothing cached to verify: press f to fetch"
    e = e._replace(cached=CachedArchive(Path("/c/a.tar.gz"), 100, 0.0, "a.tar.gz"))
    assert why(JobKind.EVICT, e) is None
    assert why(JobKind.VERIFY, e) is None
    assert why(JobKind.EVICT, e, busy=JobKind.INSTALL) == (
        "a install job is running on it (c in the queue cancels it)"
    )
    assert why(JobKind.FETCH, e, busy=JobKind.INSTALL) is None  # only removals wait


def test_every_kind_has_one_spec_a_runner_and_the_apps_words() -> None:
    assert len({s.kind for s in specs()}) == len(specs())
    for job in specs():
        assert callable(job.runner), job.kind
        assert kinds.words(job.kind).title, job.kind
    keys = [kinds.words(s.kind).key for s in kinds.table_specs()]
    assert len(keys) == len(set(keys)) and JobKind.VERIFY in {s.kind for s in kinds.table_specs()}
    for job in kinds.table_specs():
        if job.destroys:  # the app plans it as the removal of the same name, and asks first
            assert Action(job.verb) and "{what}" in kinds.words(job.kind).question


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_cli_job_subcommands_come_from_the_specs() -> None:
    commands = _subcommands()
    for job in cli_specs():
        assert job.cli is not None
        options = {o for a in commands[job.verb]._actions for o in a.option_strings}
        assert ("--yes" in options) == (job.cli.yes is not None), job.verb
        assert ("--no-bin" in options) == job.cli.no_bin, job.verb
    assert cli_specs() and {s.verb for s in cli_specs()} <= set(commands)


def test_cli_help_lists_every_job_subcommand(world: World) -> None:
    code, out, _ = world.cli("--help")
    assert code == 0
    for job in cli_specs():
        assert job.cli is not None
        assert job.verb in out and job.cli.help.split(" (")[0] in " ".join(out.split())


def _verify(shelf: Shelf) -> tuple[str, str | None, str | None]:
    queue = JobQueue(shelf)
    job = queue.submit(JobKind.VERIFY, _entry(shelf))
    queue.wait([job])
    queue.close()
    return job.phase, job.result, job.error


def test_verify_job_hashes_the_archive_again(world: World) -> None:
    shelf = world.shelf()
    shelf.fetch(_entry(shelf))
    assert _verify(shelf) == (Phase.DONE, "archive match", None)
    archive = _entry(shelf).cached
    assert archive is not None
    data = bytearray(archive.path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # the same size and name: only a hash sees it
    archive.path.write_bytes(bytes(data))
    phase, _, error = _verify(shelf)
    assert phase == Phase.FAILED
    assert error is not None and str(archive.path) in error and f"pyshelf fetch {KEY}" in error
    assert archive.path.exists()  # a damaged archive is left for fetch to replace


def test_verify_job_drops_a_damaged_unpacked_copy(world: World) -> None:
    shelf = world.shelf()
    shelf.install(_entry(shelf))
    assert _verify(shelf) == (Phase.DONE, "archive and copy match", None)
    tree = shelf.unpacked_tree(_entry(shelf))
    assert tree is not None
    victim = next(p for p in sorted(tree.rglob("*")) if p.is_file() and not p.is_symlink())
    victim.chmod(0o644)
    victim.write_bytes(b"x" * victim.stat().st_size)
    phase, _, error = _verify(shelf)
    assert phase == Phase.FAILED and error is not None and "dropped the unpacked copy" in error
    assert shelf.unpacked_tree(_entry(shelf)) is None

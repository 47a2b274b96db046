"""The workflow layer (tui.engine.flows) driven by scripted answers: the steps each answer
leads to, the CLI's answers (--yes, a prompt, none without a terminal) and the app's, against
the loopback fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import World
from tests.test_managers import make_venv
from tui.cli.answers import Answers
from tui.engine.errors import PyshelfError
from tui.engine.flows.bundle import export_flow, import_flow
from tui.engine.flows.questions import Answer, Asker, Note, Question, Removed, Topic, drive
from tui.engine.flows.removal import removal
from tui.engine.flows.upgrade import Upgraded, upgrade
from tui.engine.jobs import JobQueue, Phase
from tui.engine.shelf import Shelf
from tui.engine.usage.removal import Action, plan_builds
from tui.engine.usage.upgrade import find_upgrades

OLD = "cpython-3.12.6-linux-x86_64-gnu"
NEW = "cpython-3.12.7-linux-x86_64-gnu"
LINK = "cpython-3.12-linux-x86_64-gnu"

YES, NO, CANCEL = Answer.YES, Answer.NO, Answer.CANCEL


class Scripted:
    """An asker that answers from a script, in order, and keeps everything it was told."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.asked: list[Question] = []
        self.told: list[Note | Removed] = []

    def ask(self, question: Question) -> Answer:
        self.asked.append(question)
        return self.answers.pop(0)

    def tell(self, event: Note | Removed) -> None:
        self.told.append(event)

    @property
    def topics(self) -> list[Topic]:
        return [q.topic for q in self.asked]

    @property
    def lines(self) -> list[str]:
        return [n.text for n in self.told if isinstance(n, Note)]


class Recording:
    """Records the questions another asker answers (a front end's own asker)."""

    def __init__(self, inner: Answers | Scripted) -> None:
        self.inner = inner
        self.topics: list[Topic] = []
        self.told: list[Note | Removed] = []

    def ask(self, question: Question) -> Answer:
        self.topics.append(question.topic)
        return self.inner.ask(question)

    def tell(self, event: Note | Removed) -> None:
        self.told.append(event)


@pytest.fixture
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tui.cli.prompt.interactive", lambda: False)


@pytest.fixture
def upgradable(world: World, tmp_path: Path) -> Iterator[tuple[Shelf, JobQueue, Path]]:
    """3.12.6 installed, one environment made from its own path and one through the minor
    link; 3.12.7 in the catalog."""
    assert world.cli("install", "3.12.6")[0] == 0
    installs = world.root / "installs"
    work = tmp_path / "work"
    pinned = make_venv(work / "pinned", installs / OLD / "bin", "3.12.6")
    (pinned / "bin" / "python").symlink_to(installs / OLD / "bin" / "python3.12")
    linked = make_venv(work / "linked", installs / LINK / "bin", "3.12.6")
    (linked / "bin" / "python").symlink_to(installs / LINK / "bin" / "python3.12")
    shelf = world.shelf()
    queue = JobQueue(shelf)
    yield shelf, queue, work
    queue.close()


def _upgrade(shelf: Shelf, queue: JobQueue, work: Path, asker: Asker) -> Upgraded:
    upgrades = find_upgrades(shelf.entries(), ["3.12"])
    assert [(u.old.key, u.new.key) for u in upgrades] == [(OLD, NEW)]
    return drive(upgrade(shelf, queue, upgrades, cwd=work), asker)


def _steps(queue: JobQueue) -> list[tuple[str, Phase]]:
    return [(j.kind.value, j.phase) for j in queue.jobs]


def test_upgrade_yes_to_everything_installs_repoints_and_removes(
    upgradable: tuple[Shelf, JobQueue, Path], world: World
) -> None:
    shelf, queue, work = upgradable
    asker = Scripted(YES, YES, YES)
    done = _upgrade(shelf, queue, work, asker)
    assert asker.topics == [Topic.UPGRADE, Topic.REPOINT, Topic.UNINSTALL_OLD]
    first = asker.asked[0]
    assert first.text == "Upgrade CPython 3.12.6 to 3.12.7?"
    (up,) = first.upgrades
    assert [v.path for v in up.pinned] == [work / "pinned"]
    assert [v.path for v in up.via_link] == [work / "linked"]
    assert _steps(queue) == [("install", Phase.DONE), ("repoint", Phase.DONE),
                             ("uninstall", Phase.DONE)]  # fmt: skip
    assert done == Upgraded()
    assert f"repointed {work / 'pinned'} to {NEW}" in asker.lines
    assert isinstance(asker.told[-1], Removed) and asker.told[-1].verb == "Uninstall"
    assert not (world.root / "installs" / OLD).exists()


def test_upgrade_no_to_the_repoint_keeps_the_old_patch_without_asking_more(
    upgradable: tuple[Shelf, JobQueue, Path], world: World
) -> None:
    shelf, queue, work = upgradable
    asker = Scripted(YES, NO)
    done = _upgrade(shelf, queue, work, asker)
    assert asker.topics == [Topic.UPGRADE, Topic.REPOINT]  # the environment left uses it
    assert _steps(queue) == [("install", Phase.DONE)]
    assert not done.failed and [e.key for e in done.kept] == [OLD]
    assert asker.lines == [
        f"left on {OLD}: {work / 'pinned'}",
        "CPython 3.12.6 kept: 1 environment still use it",
    ]
    assert (world.root / "installs" / OLD).is_dir() and (world.root / "installs" / NEW).is_dir()


@pytest.mark.parametrize("answer", [NO, CANCEL])
def test_upgrade_not_confirmed_submits_nothing(
    upgradable: tuple[Shelf, JobQueue, Path], answer: Answer
) -> None:
    shelf, queue, work = upgradable
    asker = Scripted(answer)
    assert _upgrade(shelf, queue, work, asker) == Upgraded()
    assert asker.topics == [Topic.UPGRADE] and queue.jobs == [] and asker.told == []


def test_the_old_patch_in_use_is_kept_without_asking(
    upgradable: tuple[Shelf, JobQueue, Path], world: World
) -> None:
    shelf, queue, work = upgradable
    (work / ".python-version").write_text("3.12.6\n")  # asks for the old patch itself
    asker = Scripted(YES, YES)
    done = _upgrade(shelf, queue, work, asker)
    assert asker.topics == [Topic.UPGRADE, Topic.REPOINT]  # never the removal's questions
    assert [e.key for e in done.kept] == [OLD] and not done.failed
    kept = [n for n in asker.told if isinstance(n, Note) and "kept" in n.text]
    assert kept[0].text == "CPython 3.12.6 kept: 1 .python-version file still use it"


# -- the CLI's answers ---------------------------------------------------------------------


def test_cli_yes_answers_every_follow_up(
    upgradable: tuple[Shelf, JobQueue, Path], no_terminal: None
) -> None:
    shelf, queue, work = upgradable
    asker = Recording(Answers(1, implied={Topic.UPGRADE}))
    assert _upgrade(shelf, queue, work, asker) == Upgraded()
    assert asker.topics == [Topic.UPGRADE, Topic.REPOINT, Topic.UNINSTALL_OLD]
    assert [k for k, _ in _steps(queue)] == ["install", "repoint", "uninstall"]


def test_cli_without_a_terminal_or_yes_leaves_the_follow_ups_undone(
    upgradable: tuple[Shelf, JobQueue, Path], no_terminal: None
) -> None:
    shelf, queue, work = upgradable
    asker = Recording(Answers(0, implied={Topic.UPGRADE}))
    done = _upgrade(shelf, queue, work, asker)
    assert asker.topics == [Topic.UPGRADE, Topic.REPOINT]  # no: the environment keeps it
    assert [k for k, _ in _steps(queue)] == ["install"]
    assert not done.failed and [e.key for e in done.kept] == [OLD]


def test_cli_prompt_answers_on_a_terminal(
    upgradable: tuple[Shelf, JobQueue, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    shelf, queue, work = upgradable
    monkeypatch.setattr("tui.cli.prompt.interactive", lambda: True)
    said = iter(["y", "n"])
    monkeypatch.setattr("tui.cli.prompt.ask", lambda question: next(said) == "y")
    _upgrade(shelf, queue, work, Answers(0, implied={Topic.UPGRADE}))
    assert [k for k, _ in _steps(queue)] == ["install", "repoint"]


@pytest.mark.parametrize("front", ["cli", "app"])
def test_the_cli_and_the_app_take_the_same_steps(
    upgradable: tuple[Shelf, JobQueue, Path], front: str, no_terminal: None, world: World
) -> None:
    """The same answers (yes to the upgrade and to removing the old patch) through each front
    end's own answering: the CLI's --yes, the app's dialogs (each dialog answered yes, as
    pressing y does; the repoint is answered by the upgrade's own dialog)."""
    shelf, queue, work = upgradable
    if front == "cli":
        asker = Recording(Answers(1, implied={Topic.UPGRADE}))
    else:
        from tui.app.upgrade_jobs import upgrade_dialog

        class Dialogs(Scripted):
            def ask(self, question: Question) -> Answer:
                self.asked.append(question)
                shown = upgrade_dialog(question)
                return shown if isinstance(shown, Answer) else YES  # the user presses y

        asker = Recording(Dialogs())
    assert _upgrade(shelf, queue, work, asker) == Upgraded()
    assert asker.topics == [Topic.UPGRADE, Topic.REPOINT, Topic.UNINSTALL_OLD]
    assert _steps(queue) == [("install", Phase.DONE), ("repoint", Phase.DONE),
                             ("uninstall", Phase.DONE)]  # fmt: skip
    assert not (world.root / "installs" / OLD).exists()


# -- removal -------------------------------------------------------------------------------


@pytest.fixture
def in_use(world: World, tmp_path: Path) -> Iterator[tuple[Shelf, JobQueue, Path]]:
    """3.12.7 installed, and an environment made from it."""
    assert world.cli("install", "3.12.7")[0] == 0
    make_venv(tmp_path / "work" / "env", world.root / "installs" / NEW / "bin", "3.12.7")
    shelf = world.shelf()
    queue = JobQueue(shelf)
    yield shelf, queue, tmp_path / "work"
    queue.close()


def _removal(shelf: Shelf, queue: JobQueue, work: Path, asker: Asker) -> object:
    (entry,) = [e for e in shelf.entries() if e.key == NEW]
    plan = plan_builds(shelf, Action.UNINSTALL, [entry], cwd=work)
    assert plan.needs_second_confirmation
    return drive(removal(plan, shelf, queue, verb="Uninstall"), asker)


@pytest.mark.parametrize(("answers", "asked"), [
    ((NO,), [Topic.REMOVE]), ((YES, NO), [Topic.REMOVE, Topic.BREAK]),
    ((YES, CANCEL), [Topic.REMOVE, Topic.BREAK]),
])  # fmt: skip
def test_a_removal_that_breaks_an_environment_asks_twice(
    in_use: tuple[Shelf, JobQueue, Path], world: World, answers: tuple[Answer, ...],
    asked: list[Topic],
) -> None:  # fmt: skip
    shelf, queue, work = in_use
    asker = Scripted(*answers)
    assert _removal(shelf, queue, work, asker) is None
    assert asker.topics == asked and queue.jobs == []
    assert asker.asked[-1].firmness == (2 if asked[-1] == Topic.BREAK else 1)
    assert (world.root / "installs" / NEW).is_dir()


def test_a_removal_answered_yes_twice_runs(
    in_use: tuple[Shelf, JobQueue, Path], world: World
) -> None:
    shelf, queue, work = in_use
    asker = Scripted(YES, YES)
    outcome = _removal(shelf, queue, work, asker)
    assert [k for k, _ in _steps(queue)] == ["uninstall"]
    assert isinstance(asker.told[-1], Removed) and asker.told[-1].outcome == outcome
    assert not (world.root / "installs" / NEW).exists()


@pytest.mark.parametrize(("yes", "ran"), [(1, False), (2, True)])
def test_cli_yes_once_refuses_the_second_confirmation_twice_gives_it(
    in_use: tuple[Shelf, JobQueue, Path], no_terminal: None, yes: int, ran: bool
) -> None:
    shelf, queue, work = in_use
    asker = Answers(yes, refusal=lambda q: f"refused: {q.topic}")
    if ran:
        _removal(shelf, queue, work, asker)
        assert [k for k, _ in _steps(queue)] == ["uninstall"]
    else:
        with pytest.raises(PyshelfError, match="refused: break"):
            _removal(shelf, queue, work, asker)
        assert queue.jobs == []


def test_cli_without_a_terminal_refuses_a_removal_it_must_ask_about(
    in_use: tuple[Shelf, JobQueue, Path], no_terminal: None
) -> None:
    shelf, queue, work = in_use
    with pytest.raises(PyshelfError, match="not a terminal: pass --yes"):
        _removal(shelf, queue, work, Answers(0))
    assert queue.jobs == []


# -- export and import ---------------------------------------------------------------------


def test_export_fetches_what_is_missing_then_import_adds_it(world: World, tmp_path: Path) -> None:
    assert world.cli("fetch", "3.11")[0] == 0  # one cached, one to download
    shelf = world.shelf()
    entries = shelf.entries()
    targets = [shelf.resolve_available(r, entries) for r in ("3.12", "3.11")]
    queue = JobQueue(shelf)
    asker = Scripted()  # nothing is asked
    try:
        report = drive(export_flow(shelf, queue, targets, tmp_path / "bundle"), asker)
        assert [(j.kind.value, j.phase) for j in queue.jobs] == [
            ("fetch", Phase.DONE), ("export", Phase.DONE)
        ]  # fmt: skip
    finally:
        queue.close()
    assert sorted(report.added) == sorted(e.key for e in targets) and not report.failed
    assert asker.asked == [] and all(isinstance(n, Note) and n.detail for n in asker.told)

    fresh = world.shelf(cache_dir=tmp_path / "fresh")
    queue = JobQueue(fresh)
    try:
        report = drive(import_flow(fresh, queue, [tmp_path / "bundle"]), Scripted())
        assert [j.kind.value for j in queue.jobs] == ["import"]
        assert queue.jobs[0].result == "added 2"
    finally:
        queue.close()
    assert sorted(report.added) == sorted(e.key for e in targets)

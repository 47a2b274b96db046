"""A kind registered from outside (tests/compile_kind.py): its key, footer word, help line,
palette entry and queue line come from its two registrations, with nothing else changed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.widgets import Static

from tests.app.conftest import CPYTHON_312, AppMaker, highlight, loaded, settle, wait_for
from tests.app.test_flow import _palette_options as palette_options
from tests.compile_kind import registered
from tests.conftest import World
from tui.app.builds.action_footer import ActionFooter
from tui.app.help.key_lines import unlisted
from tui.app.help.screen import HelpScreen
from tui.app.keys import known_ids
from tui.engine.jobs import Phase
from tui.engine.jobspec import JobKind


@pytest.fixture
def compile_kind() -> Iterator[JobKind]:
    with registered() as kind:
        yield kind
    assert "compile" not in known_ids() and unlisted(known_ids()) == set()


async def test_a_registered_kind_is_in_the_footer_help_palette_and_queue(
    world: World, make_app: AppMaker, compile_kind: JobKind
) -> None:
    assert world.cli("install", "3.12.7")[0] == 0
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        await highlight(pilot, CPYTHON_312)
        footer = app.main.query_one(ActionFooter)
        items = {i.binding_id: i for i in footer.items()}
        ids = list(items)
        assert ids[ids.index("verify") + 1] == "compile"  # after the built-in kinds
        assert items["compile"].enabled and items["compile"].word == "bytecode"
        assert "bytecode" in str(footer.render())

        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        lines = app.screen.text.splitlines()  # type: ignore[attr-defined]
        assert any("b  compile to bytecode" in line for line in lines), lines
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main)

        await pilot.press("b")  # its key runs it on the highlighted build
        await settle(pilot)
        await pilot.press("ctrl+p", *"compile")  # and the palette offers it, with its key
        await wait_for(pilot, lambda: "Compile bytecode: " in palette_options(app))
        await pilot.press("enter")
        await settle(pilot)
        jobs = [j for j in app.queue.jobs if j.kind == compile_kind]
        assert [(j.key, j.phase, j.result) for j in jobs] == [
            (CPYTHON_312, Phase.DONE, "compiled 3 modules")
        ] * 2
        queued = [str(i.event.kind.value) for i in app.main.queue_panel.items]
        assert queued == ["compile", "compile"]
        await pilot.press("Q")
        await pilot.pause()
        head = str(app.main.queue_panel.items[0].query_one("#job-head", Static).render())
        assert head.startswith(f"compile   {CPYTHON_312}") and "compiled 3 modules" in head


async def test_a_registered_kind_says_why_it_does_not_apply(
    world: World, make_app: AppMaker, compile_kind: JobKind
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        await highlight(pilot, CPYTHON_312)  # not installed
        footer = app.main.query_one(ActionFooter)
        assert not next(i for i in footer.items() if i.binding_id == "compile").enabled
        await pilot.press("b")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("not installed: press i first" in m for m in messages), messages
        assert not app.queue.jobs

"""Keys as people who live in lazygit, k9s and btop expect them: vi movement, q quits (a
dialog first), the queue on its own key, sort both ways, one compact help page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.binding import Binding

from tests.app.conftest import CPYTHON_312, AppMaker, loaded, settle, wait_for
from tests.app.test_flow import _palette_options as palette_options
from tests.conftest import World
from tui.app.app import PyshelfApp
from tui.app.builds.action_footer import ActionFooter
from tui.app.dialogs.confirm import ConfirmScreen
from tui.app.help.key_lines import unlisted
from tui.app.help.screen import HelpScreen
from tui.app.keys import known_ids, spelled
from tui.engine.jobs import JobKind


def _row(app) -> int:
    return app.main.table.cursor_row


async def test_j_k_g_G_and_ctrl_d_u_move_the_cursor(world: World, make_app: AppMaker) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        last = app.main.table.row_count - 1
        await pilot.press("j", "j")
        assert _row(app) == 2
        await pilot.press("k")
        assert _row(app) == 1
        await pilot.press("G")
        assert _row(app) == last
        await pilot.press("g")
        assert _row(app) == 0
        await pilot.press("ctrl+d")
        assert _row(app) == last  # a page is more than the five rows
        await pilot.press("ctrl+u")
        assert _row(app) == 0


async def test_q_closes_a_dialog_first_then_quits(world: World, make_app: AppMaker) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("q")
        await wait_for(pilot, lambda: app.screen is app.main)
        assert app.is_running
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_q_asks_while_jobs_run_and_jobs_do_not_open_the_queue(
    world: World, make_app: AppMaker
) -> None:
    spec = world.spec(CPYTHON_312)
    world.server.fault(spec.filename, rate=16 * 1024)  # long enough to ask about
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"3.12.7", "enter")
        await wait_for(pilot, lambda: app.main.table.row_count == 1)
        await pilot.press("f")
        await wait_for(pilot, lambda: app.queue.active())
        jobs_line = app.main.query_one("#status-jobs")
        await wait_for(pilot, lambda: jobs_line.display)
        assert not app.main.queue_panel.display  # the queue stays closed: the line says so
        assert "1 job running · Q shows the queue" in str(jobs_line.render())
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Quit and cancel 1 running job" in app.screen.title_text  # type: ignore[attr-defined]
        await pilot.press("q")  # q on a dialog answers no: nothing quits
        await wait_for(pilot, lambda: app.screen is app.main)
        assert app.is_running and app.queue.active()
        await pilot.press("Q")
        assert app.main.queue_panel.display and app.focused in app.main.queue_panel.walk_children()
        await wait_for(pilot, lambda: not jobs_line.display)  # the panel shows the jobs itself
        await pilot.press("c")  # the queue has the focus: c cancels the selected job
        await settle(pilot)
        assert not app.queue.active()


async def test_s_and_S_step_through_the_columns_and_o_reverses_ties_staying_newest_first(
    world: World, make_app: AppMaker, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    app = make_app(config=config)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("a")  # every version: 3.12.7 and 3.12.6 tie on the implementation
        await wait_for(pilot, lambda: app.main.table.row_count == 6)
        table = app.main.table
        label = lambda key: str(table.columns[key].label)  # type: ignore[index]  # noqa: E731
        assert (table.sort_column, table.sort_reverse, label("version")) == (
            "version", True, "Version▼",
        )  # fmt: skip
        await pilot.press("s")  # version -> implementation, A to Z
        assert (table.sort_column, table.sort_reverse) == ("impl", False)
        assert (label("impl"), label("version")) == ("Impl▲", "Version")
        order = [(e.build.implementation, e.build.version) for e in table.ordered()]
        assert order == [
            ("cpython", "3.13.1"), ("cpython", "3.13.1"), ("cpython", "3.12.7"),
            ("cpython", "3.12.6"), ("cpython", "3.11.9"), ("pypy", "3.10.14"),
        ]  # fmt: skip
        await pilot.press("S")  # back to the version, newest first again
        assert (table.sort_column, table.sort_reverse) == ("version", True)
        await pilot.press("S")  # before the first column: the last one, largest first
        assert (table.sort_column, table.sort_reverse) == ("installed", True)
        assert label("installed").endswith("▼Installed")  # right-aligned: the arrow first
        await pilot.press("s", "s")
        assert table.sort_column == "impl"
        await pilot.press("o")
        assert (table.sort_column, table.sort_reverse) == ("impl", True)
        order = [(e.build.implementation, e.build.version) for e in table.ordered()]
        assert order[0] == ("pypy", "3.10.14")
        assert [v for _, v in order[1:]] == ["3.13.1", "3.13.1", "3.12.7", "3.12.6", "3.11.9"]
        assert label("impl") == "Impl▼"
        await pilot.press("ctrl+p", *"reverse")  # the palette offers it too, with its key
        await wait_for(pilot, lambda: "Reverse the sort order" in palette_options(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: table.sort_reverse is False)
        await pilot.press("o")
    again = make_app(config=config)  # the next run starts where this one left off
    async with again.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        table = again.main.table
        assert (table.sort_column, table.sort_reverse, again.main.show_all) == ("impl", True, True)
        assert table.ordered()[0].build.implementation == "pypy"
        assert str(table.columns["impl"].label) == "Impl▼"  # type: ignore[index]


def test_every_binding_has_a_line_in_the_help() -> None:
    assert unlisted(known_ids()) == set()


# Bindings of the builds view that need no palette command, each with why.
NOT_IN_THE_PALETTE = {
    "down": "moves the cursor: a key, not a command",
    "up": "moves the cursor: a key, not a command",
    "top": "moves the cursor: a key, not a command",
    "bottom": "moves the cursor: a key, not a command",
    "page-down": "moves the cursor: a key, not a command",
    "page-up": "moves the cursor: a key, not a command",
}


def _binding_ids(app: PyshelfApp) -> set[str]:
    """The ids of every binding active somewhere in the builds view: the app's, the
    screen's, the table's, the filter box's and the queue's."""
    nodes = [app, app.main, *app.main.walk_children()]
    return {b.id for node in nodes for _, b in node._bindings if b.id}


def _hints(app: PyshelfApp) -> str:
    """The palette's hints on the builds view, as ViewCommands lists them."""
    return " | ".join(hint for _, _, hint in [*app.main.commands(), *app.commands()])


async def test_every_binding_of_the_builds_view_and_the_queue_is_in_the_palette(
    world: World, make_app: AppMaker, tmp_path: Path
) -> None:
    """Each binding gets a key of its own (Ctrl+F1, Ctrl+F2, ...) through the config's
    keymap, so a hint naming that key proves the palette has the binding's command."""
    assert world.cli("install", "3.12.6")[0] == 0  # upgrade, reinstall, uninstall, evict apply
    probe = make_app()
    async with probe.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        ids = sorted(_binding_ids(probe))
    assert {"fetch", "sort-previous", "sort-reverse", "cancel", "retry", "quit"} <= set(ids)
    keys = {binding_id: f"ctrl+f{n}" for n, binding_id in enumerate(ids, 1)}
    config = tmp_path / "config.toml"
    config.write_text("[keymap]\n" + "".join(f'"{i}" = "{k}"\n' for i, k in keys.items()))
    spec = world.spec("cpython-3.13.1-linux-x86_64-gnu")
    world.server.fault(spec.filename, rate=16 * 1024)  # a job still running while we look
    app = make_app(config=config)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        main, table = app.main, app.main.table
        table.move_cursor(row=0)  # 3.13.1, newest first
        main.jobs.request(JobKind.FETCH)
        await wait_for(pilot, lambda: app.queue.active())
        main.show_all = True
        main.filter_to("cpython")
        await wait_for(pilot, lambda: table.row_count == 5)
        table.marked = set(table.entries)  # every job applies to one of them
        main.action_toggle_queue()
        await wait_for(pilot, lambda: main.queue_panel.selected is not None)
        running = _hints(app)  # cancel applies to the selected job
        main.queue_panel.action_cancel_job()
        await settle(pilot)
        cancelled = _hints(app)  # retry applies now
    missing = []
    for binding_id in [i for i in ids if i not in NOT_IN_THE_PALETTE]:
        key = spelled(app.get_key_display(Binding(keys[binding_id], "")))
        named = re.compile(re.escape(key) + r"(?!\d)")  # Ctrl+F1, not Ctrl+F12
        if not (named.search(running) or named.search(cancelled)):
            missing.append(binding_id)
    assert missing == []


async def test_help_shows_every_main_key_on_one_80x24_screen(
    world: World, make_app: AppMaker
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        screen = app.screen
        scroll = screen.query_one("#help-scroll")
        builds, view = list(screen.query(".help-group"))[:2]
        assert builds.region.bottom <= scroll.region.bottom
        assert view.region.bottom <= scroll.region.bottom
        for line in ("f  fetch into the cache", "D  disk usage and clean-up", "Q  show / hide"):
            assert any(x.startswith(line) for x in screen.text.splitlines())  # type: ignore[attr-defined]


async def test_the_footer_keeps_its_order_and_dims_what_does_not_apply(
    world: World, make_app: AppMaker
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        footer = app.main.query_one(ActionFooter)
        first = [(i.binding_id, i.enabled) for i in footer.items()]
        await pilot.press("j")  # another row, another state
        second = [(i.binding_id, i.enabled) for i in footer.items()]
        assert [i for i, _ in first] == [i for i, _ in second]
        shown, _, _ = footer.fit(footer.content_region.width)
        assert {"fetch", "cleanup", "queue", "help", "quit"} <= {i.binding_id for i in shown}
        assert "Disk" in str(footer.render())


async def test_the_footer_is_drawn_again_only_when_what_it_shows_changes(
    make_app: AppMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[str] = []
    render = ActionFooter.render

    def counted(self: ActionFooter) -> object:
        drawn.append(str(render(self)))
        return drawn[-1]

    monkeypatch.setattr(ActionFooter, "render", counted)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        table = app.main.table
        assert {e.state for e in table.ordered()} == {"available"}
        before = len(drawn)
        # Other available builds: the same actions apply; the bindings changed for nothing.
        await pilot.press("G", "up", "g")
        await pilot.pause()
        assert table.cursor_row == 0 and len(drawn) == before
        await pilot.press("slash")  # the filter's own actions
        await pilot.pause()
        assert len(drawn) > before and "clear" in drawn[-1] and "fetch" not in drawn[-1]


async def test_esc_and_q_close_the_queue_and_never_quit_from_inside_it(
    world: World, make_app: AppMaker
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        panel = app.main.queue_panel
        for key in ("escape", "q"):
            await pilot.press("Q")
            assert panel.display and app.focused in panel.walk_children()
            await pilot.press(key)
            await pilot.pause()
            assert not panel.display and app.focused is app.main.table
            assert app.is_running and app.screen is app.main
        # Open but not focused, the panel is still what q closes first; then q quits.
        await pilot.press("Q")
        app.main.table.focus()
        await pilot.press("q")
        await pilot.pause()
        assert not panel.display and app.is_running
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0

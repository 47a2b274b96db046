"""The app end to end with real keypresses against the loopback server."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.message import Message
from textual.widgets import ProgressBar

from tests.app.conftest import CPYTHON_312, AppMaker, cell, entry, loaded, settle, wait_for
from tests.conftest import World
from tests.test_managers import make_venv
from tui.app import kinds
from tui.app.builds.action_footer import ActionFooter
from tui.app.builds.details import DetailsPane
from tui.app.builds.table import ShelfTable
from tui.app.dialogs.confirm import ConfirmScreen
from tui.app.dialogs.plan_confirm import BreakConfirmScreen, PlanConfirmScreen, plain
from tui.app.messages import JobUpdated
from tui.app.present import show_path
from tui.engine.jobs import JobKind, Phase
from tui.format import human_size


async def _focus_312(pilot) -> None:
    """Filter the table down to 3.12.7 by typing, as a user would."""
    await pilot.press("slash", *"3.12.7", "enter")
    await wait_for(pilot, lambda: pilot.app.main.table.row_count == 1)


def _confirm_text(app) -> str:
    screen = app.screen
    assert isinstance(screen, ConfirmScreen)
    rows = [f"{r.path} {r.size}" for r in screen.rows]
    if isinstance(screen, PlanConfirmScreen):  # uninstall and evict: a removal plan
        rows.append(plain(screen.listing()))
    return " ".join([screen.title_text, *rows, screen.note])


async def test_fetch_install_reinstall_offline_uninstall_evict(
    world: World, make_app: AppMaker
) -> None:
    events: list[JobUpdated] = []

    def hook(message: Message) -> None:
        if isinstance(message, JobUpdated):
            events.append(message)

    app = make_app()
    spec = world.spec(CPYTHON_312)
    install_dir = world.root / "installs" / CPYTHON_312
    async with app.run_test(size=(120, 36), message_hook=hook) as pilot:
        await loaded(pilot)
        assert app.main.table.row_count == 5  # newest patch per minor, by default
        assert cell(app, CPYTHON_312, "state") == "○ available"
        assert cell(app, CPYTHON_312, "download") == human_size(spec.size)  # probed with HEAD
        await _focus_312(pilot)

        world.server.fault(spec.filename, rate=256 * 1024)  # a second: progress shows
        await pilot.press("f")
        await settle(pilot)
        world.server.clear_faults()
        downloading = [m.event for m in events if m.event.phase == Phase.DOWNLOADING]
        assert any(0 < e.done < spec.size for e in downloading)  # progress along the way
        assert cell(app, CPYTHON_312, "state") == "◆ cached"
        assert cell(app, CPYTHON_312, "cached") == human_size(spec.size)
        cached = app.shelf.cache.find(entry(app, CPYTHON_312).build)
        assert cached is not None and cached.size == spec.size

        await pilot.press("i")
        await settle(pilot)
        assert install_dir.is_dir()
        assert cell(app, CPYTHON_312, "state") == "● installed"
        assert cell(app, CPYTHON_312, "installed").endswith("KiB")  # measured in a worker

        # Reinstall needs no network, and one key: the install holds nothing it would lose.
        world.server.stop()
        await pilot.press("r")
        await wait_for(pilot, lambda: any(j.kind == "reinstall" for j in app.queue.jobs))
        assert not isinstance(app.screen, ConfirmScreen)
        await settle(pilot)
        last = [m.event for m in events if m.event.phase.final][-1]
        assert (last.kind, last.phase, last.result) == ("reinstall", Phase.DONE, "reinstalled")
        assert install_dir.is_dir()
        assert cell(app, CPYTHON_312, "state") == "● installed"

        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        text = _confirm_text(app)
        assert "Uninstall CPython 3.12.7?" in text and CPYTHON_312 in text
        await pilot.press("n")  # no: nothing happens
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen) and install_dir.is_dir()
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await settle(pilot)
        assert not install_dir.exists()
        assert cell(app, CPYTHON_312, "state") == "◆ cached"
        assert cell(app, CPYTHON_312, "installed") == "—"

        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert cached.path.name in _confirm_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert not cached.path.exists()
        assert cell(app, CPYTHON_312, "state") == "○ available"
        # Every job left its line in the queue panel.
        kinds = [i.event.kind.value for i in app.main.queue_panel.items]
        assert kinds == ["fetch", "install", "reinstall", "uninstall", "evict"]
        assert not app.main.queue_panel.display  # jobs never open the queue by themselves
        await pilot.press("Q", "x")  # open the queue (it takes the focus); clear finished jobs
        await pilot.pause()
        assert app.main.queue_panel.items == []


async def test_u_on_an_interpreter_in_use_asks_twice_and_names_the_environment(
    world: World, make_app: AppMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # environments are looked for below the current directory
    assert world.cli("install", "3.12.7")[0] == 0
    install_dir = world.root / "installs" / CPYTHON_312
    venv = make_venv(work / "proj" / ".venv", install_dir / "bin", "3.12.7")
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await _focus_312(pilot)
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanConfirmScreen))
        first: PlanConfirmScreen = app.screen  # type: ignore[assignment]
        assert "this breaks 1 environment" in plain(first.total())
        await pilot.press("y")  # the first yes
        await wait_for(pilot, lambda: isinstance(app.screen, BreakConfirmScreen))
        second: BreakConfirmScreen = app.screen  # type: ignore[assignment]
        assert "breaks 1 environment" in second.title_text
        listing = plain(second.listing())
        assert show_path(venv) in listing and f"uses {CPYTHON_312}" in listing
        await pilot.press("y")  # not the answer to this question: nothing happens
        await pilot.pause()
        assert app.screen is second
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await settle(pilot)
        assert install_dir.is_dir() and not app.queue.jobs  # one yes removed nothing

        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, BreakConfirmScreen))
        await pilot.press("b")
        await wait_for(pilot, lambda: not install_dir.exists())
        await settle(pilot)
        assert [j.kind.value for j in app.queue.jobs] == ["uninstall"]
        await wait_for(pilot, lambda: cell(app, CPYTHON_312, "state") == "◆ cached")


async def test_cancel_a_slow_download_then_retry_it(world: World, make_app: AppMaker) -> None:
    spec = world.spec(CPYTHON_312)
    world.server.fault(spec.filename, rate=48 * 1024)  # about five seconds for the archive
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await _focus_312(pilot)
        await pilot.press("f")
        await wait_for(
            pilot,
            lambda: (
                app.main.queue_panel.items
                and app.main.queue_panel.items[0].event.done > spec.size / 20
            ),
        )
        item = app.main.queue_panel.items[0]
        assert item.event.phase == Phase.DOWNLOADING
        assert 0 < item.query_one(ProgressBar).progress < spec.size
        await wait_for(pilot, lambda: cell(app, CPYTHON_312, "state").startswith("◌ fetch"))

        await pilot.press("Q")  # open the queue: it takes the focus
        await pilot.press("c")
        await settle(pilot)
        assert app.main.queue_panel.items[0].event.phase == Phase.CANCELLED
        partial = app.shelf.cache.partial_for(entry(app, CPYTHON_312).build)
        kept = partial.stat().st_size
        assert 0 < kept < spec.size
        assert cell(app, CPYTHON_312, "state").startswith("◐ partial")

        world.server.clear_faults()
        seen = len(world.server.requests)
        await pilot.press("R")
        await settle(pilot)
        items = app.main.queue_panel.items
        assert len(items) == 1 and items[0].event.phase == Phase.DONE  # the retry replaced it
        gets = [r for r in world.server.requests[seen:] if r.method == "GET"]
        assert gets[0].headers.get("Range") == f"bytes={kept}-"  # resumed, not restarted
        assert not partial.exists()
        assert cell(app, CPYTHON_312, "state") == "◆ cached"


async def test_four_downloads_at_once_keep_the_app_responsive(
    world: World, make_app: AppMaker
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        world.server.fault(None, rate=8 * 1024)  # the smallest archive takes eight seconds
        for _ in range(4):
            await pilot.press("space")  # marks and moves down
        await pilot.press("f")
        await wait_for(
            pilot,
            lambda: (
                sum(i.event.phase == Phase.DOWNLOADING for i in app.main.queue_panel.items) == 4
            ),
        )
        # Keys are answered while four downloads stream: the cursor moves, the view switches.
        await pilot.press("up", "up")
        assert app.main.table.cursor_row == 2
        await pilot.press("a")
        await wait_for(pilot, lambda: app.main.table.row_count == 6)
        assert len(app.queue.active()) == 4, [(j.key, j.phase, j.error) for j in app.queue.jobs]
        assert (
            sum(
                cell(app, k, "state").startswith("◌ fetch")
                for k in [
                    "cpython-3.13.1-linux-x86_64-gnu",
                    "cpython-3.13.1+freethreaded-linux-x86_64-gnu",
                    CPYTHON_312,
                    "cpython-3.11.9-linux-x86_64-gnu",
                ]
            )
            == 4
        )
        for job in app.queue.active():
            job.cancel()
        await settle(pilot)


async def test_inapplicable_actions_say_why_and_leave_the_footer(
    world: World, make_app: AppMaker
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await _focus_312(pilot)
        footer = app.main.query_one(ActionFooter)
        items = footer.items()
        # Every action keeps its place; those that do not apply to the row are dimmed.
        jobs = kinds.table_actions()  # the registered kinds the builds table offers
        assert [i.binding_id for i in items][: 1 + len(jobs)] == ["mark", *jobs]
        assert "cleanup" in [i.binding_id for i in items]
        off = {i.binding_id for i in items if not i.enabled}
        assert off == {"reinstall", "uninstall", "evict", "verify"}
        await pilot.press("down")  # another row: the same actions in the same places
        assert [i.binding_id for i in footer.items()] == [i.binding_id for i in items]
        await pilot.press("r")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("not cached: press f to fetch" in m for m in messages)
        assert not app.queue.jobs


async def test_catalog_refresh_failure_is_shown_and_the_cache_still_installs(
    world: World, make_app: AppMaker
) -> None:
    # The catalog comes from the server: once fetched, pyshelf keeps a copy.
    (world.server.root / "catalog.json").write_bytes(world.catalog_path.read_bytes())
    url = f"{world.server.url}/catalog.json"
    world.cli("fetch", "3.12", "--catalog", url)
    world.server.stop()  # now the refresh fails, and so would any download
    app = make_app(catalog=url)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert "catalog refresh failed" in str(app.query_one("#status-warning").render())
        assert any("catalog refresh failed" in n.message for n in app._notifications)
        assert cell(app, CPYTHON_312, "state") == "◆ cached"
        await _focus_312(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert (world.root / "installs" / CPYTHON_312).is_dir()
        assert cell(app, CPYTHON_312, "state") == "● installed"


async def test_without_any_catalog_the_cache_and_installs_are_listed(
    world: World, make_app: AppMaker
) -> None:
    world.cli("install", "3.12")
    app = make_app(catalog=str(world.root / "missing.json"))
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert "catalog failed" in str(app.query_one("#status-warning").render())
        assert [e.key for e in app.main.table.ordered()] == [CPYTHON_312]
        assert cell(app, CPYTHON_312, "state") == "● installed"
        assert cell(app, CPYTHON_312, "download") == human_size(world.spec(CPYTHON_312).size)


async def test_sort_filter_escape_and_view_toggle(world: World, make_app: AppMaker) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        order = lambda: [e.build.version for e in app.main.table.ordered()]  # noqa: E731
        assert order()[0] == "3.13.1"
        await pilot.press("s")  # next column: implementation, ascending
        assert app.main.table.sort_column == "impl" and order()[0] != "3.10.14"
        app.main.table.sort_by("download")
        await pilot.pause()
        assert order()[0] == "3.12.7"  # the largest archive first
        await pilot.press("slash", *"pypy")
        await wait_for(pilot, lambda: app.main.table.row_count == 1)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.main.table.row_count == 5)
        assert app.focused is app.main.table
        await pilot.press("a")
        await wait_for(pilot, lambda: app.main.table.row_count == 6)


async def test_help_palette_details_and_theme(world: World, make_app: AppMaker) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        assert app.main.table.narrow  # the narrow column set at 80 columns
        await pilot.press("f1")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.press("d")
        await pilot.pause()
        assert app.query_one(DetailsPane).entry is entry(app, "cpython-3.13.1-linux-x86_64-gnu")
        dark = app.current_theme.dark
        await pilot.press("t")
        assert app.current_theme.dark != dark
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"fetch")
        await wait_for(pilot, lambda: "Fetch: CPython 3.13.1" in _palette_options(app))
        await pilot.press("enter")
        await settle(pilot)
        assert entry(app, "cpython-3.13.1-linux-x86_64-gnu").cached is not None


def _palette_options(app) -> str:
    from textual.command import CommandList

    found = app.screen.query(CommandList)
    if not found:
        return ""
    options = found.first()
    return " | ".join(
        str(options.get_option_at_index(i).prompt) for i in range(options.option_count)
    )


async def test_sizes_fill_in_while_probing_and_unknown_stays_unknown(
    world: World, make_app: AppMaker
) -> None:
    world.server.fault(".tar.gz", hang=0.6)  # every HEAD of a CPython archive waits
    world.server.fault(world.spec("pypy-3.10.14-linux-x86_64-gnu").filename, status=404)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.main.table.row_count == 5)
        assert cell(app, CPYTHON_312, "download") == "…"  # being probed: the table is up already
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert cell(app, CPYTHON_312, "download") == human_size(world.spec(CPYTHON_312).size)
        assert cell(app, "pypy-3.10.14-linux-x86_64-gnu", "download") == "unknown"


async def test_click_a_header_to_sort_and_again_to_reverse(
    world: World, make_app: AppMaker
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        table = app.main.table
        x = sum(c.get_render_width(table) for c in table.ordered_columns[:6]) + 2
        await pilot.click(ShelfTable, offset=(x, 0))  # the Download header
        assert (table.sort_column, table.sort_reverse) == ("download", True)
        assert table.ordered()[0].key == CPYTHON_312
        await pilot.click(ShelfTable, offset=(x, 0))
        assert table.sort_reverse is False
        assert table.ordered()[-1].key == CPYTHON_312


async def test_worker_errors_become_notifications_not_tracebacks(
    world: World, make_app: AppMaker
) -> None:
    app = make_app()

    def broken(entries: object) -> None:
        raise RuntimeError("boom")

    app.shelf.probe_download_sizes = broken  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        # (workers.wait_for_complete would re-raise the worker's error: wait for its effect)
        await wait_for(
            pilot,
            lambda: any(
                "probing download sizes failed: unexpected error: RuntimeError: boom" in n.message
                for n in app._notifications
            ),
        )
        assert cell(app, CPYTHON_312, "download") == "unknown"
        await pilot.press("down")  # still running
        assert app.main.table.cursor_row == 1


async def test_details_show_paths_url_and_verification(world: World, make_app: AppMaker) -> None:
    app = make_app()
    async with app.run_test(size=(140, 36)) as pilot:
        await loaded(pilot)
        await _focus_312(pilot)
        await pilot.press("d", "f")
        await settle(pilot)
        pane = app.query_one(DetailsPane)
        assert pane.entry is entry(app, CPYTHON_312)
        assert world.spec(CPYTHON_312).sha256 in app.shelf.downloader.verified
        text = pane.text()
        assert "verified this session" in text and world.server.url in text
        digest = world.spec(CPYTHON_312).sha256
        assert digest not in text and f"{digest[:12]}…{digest[-8:]}" in text  # shortened
        await pilot.press("y")  # copies what the pane shortens, in full
        assert f"sha256 {digest}" in app.clipboard
        assert any("copied" in n.message for n in app._notifications)


async def test_an_install_warning_shows_in_the_job_and_a_notification(
    world: World, make_app: AppMaker
) -> None:
    bin_dir = world.root / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3.12").write_text("#!/bin/sh\necho mine\n")
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await _focus_312(pilot)
        await pilot.press("i")
        await settle(pilot)
        warning = f"{bin_dir / 'python3.12'} exists and is not managed by uv; left alone"
        [item] = app.main.queue_panel.items
        assert item.event.phase == Phase.DONE and item.event.warnings == (warning,)
        head = str(item.query_one("#job-head").render())
        assert "installed" in head and "⚠" in head and "not managed by uv" in head
        notes = [n for n in app._notifications if n.severity == "warning"]
        assert [n.message for n in notes] == [warning]


async def test_V_verifies_a_cached_build_and_says_why_not_on_an_uncached_one(
    world: World, make_app: AppMaker
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await _focus_312(pilot)
        await pilot.press("V")
        await pilot.pause()
        assert any("nothing cached to verify: press f to fetch" in n.message
                   for n in app._notifications)  # fmt: skip
        assert not app.queue.jobs
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("V")
        await settle(pilot)
        verify = [j for j in app.queue.jobs if j.kind == JobKind.VERIFY]
        assert [(j.phase, j.result) for j in verify] == [(Phase.DONE, "archive match")]
        kinds = [i.event.kind.value for i in app.main.queue_panel.items]
        assert kinds == ["fetch", "verify"]


async def test_reinstall_asks_only_when_it_would_discard_something(
    world: World, make_app: AppMaker
) -> None:
    app = make_app()
    async with app.run_test(size=(140, 36)) as pilot:
        await loaded(pilot)
        await _focus_312(pilot)
        await pilot.press("i")
        await settle(pilot)
        install = entry(app, CPYTHON_312).installation
        assert install is not None
        added = install.path / "lib" / "python3.12" / "site-packages" / "mine"
        added.mkdir(parents=True)
        (added / "__init__.py").write_text("x = 1\n")
        shared = next(p for p in install.path.rglob("*") if p.is_file() and p.stat().st_nlink > 1)
        with shared.open("ab") as handle:
            handle.write(b"# edited in place\n")
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        text = _confirm_text(app)
        assert "a reinstall discards" in text and "added" in text and "1 file edited" in text
        await pilot.press("n")
        await pilot.pause()
        assert not any(j.kind == "reinstall" for j in app.queue.jobs)


async def test_the_palette_makes_an_install_the_default_python(
    world: World, make_app: AppMaker
) -> None:
    assert world.cli("install", "3.12.7")[0] == 0
    bin_dir = world.root / "bin"
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await _focus_312(pilot)
        name, command, _ = next(
            c for c in app.main.commands() if c[0].startswith("Make the default python")
        )
        assert "3.12.7" in name
        command()
        await wait_for(pilot, lambda: (bin_dir / "python").is_symlink())
        await app.workers.wait_for_complete()
    target = (world.root / "installs" / CPYTHON_312 / "bin" / "python3.12").resolve()
    for link in ("python", "python3", "python3.12"):
        assert (bin_dir / link).resolve() == target

"""Start-up: each command loads what it runs and nothing more (checked by module, not time)."""

from __future__ import annotations

import contextlib
import gc
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import World
from tui.app.app import PyshelfApp
from tui.app.builds.events import LedgerMeasured
from tui.app.builds.listing import Listing
from tui.app.builds.screen import MainScreen
from tui.app.main import run_app
from tui.engine.errors import CatalogError, PyshelfError
from tui.engine.jobs import JobQueue
from tui.engine.shelf.listing import default_view


def _loaded_after(code: str, *args: str, cwd: Path, env: dict[str, str] | None = None) -> set[str]:
    """The modules a fresh interpreter holds after ``code`` ran with ``sys.argv[1:] = args``
    (and ``env`` added to the environment)."""
    script = f"import sys\n{code}\nprint('\\n'.join(sys.modules))\n"
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=cwd,
        timeout=60, env={**os.environ, **(env or {})},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


_CLI = "import contextlib, io, tui.cli.main\nwith contextlib.redirect_stdout(io.StringIO()):\n" \
    "    code = tui.cli.main.main(sys.argv[1:])\nassert code == {code}, code"  # fmt: skip


def _loaded_by_world_cli(world: World, cwd: Path, *args: str) -> set[str]:
    """The modules a fresh interpreter holds after the CLI ran ``args`` (exit 0) on
    ``world``'s catalog, cache, install dir and bin dir."""
    where = [
        "--catalog", str(world.catalog_path), "--cache-dir", str(world.root / "cache"),
        "--install-dir", str(world.root / "installs"), "--bin-dir", str(world.root / "bin"),
    ]  # fmt: skip
    cache = {"UV_PYTHON_CACHE_DIR": str(world.root / "cache")}  # no platformdirs look-up
    return _loaded_after(_CLI.format(code=0), *where, *args, cwd=cwd, env=cache)


@pytest.mark.parametrize(
    ("args", "code"),
    [(["--help"], 0), (["list", "--help"], 0), (["dir", "--env"], 0), (["--parallel", "0"], 2),
     (["pin", "cp312"], 0), (["pin"], 0), (["install", "--jsn"], 2)],
)  # fmt: skip
def test_help_dir_pin_and_usage_errors_load_no_shelf_and_no_http(
    tmp_path: Path, args: list[str], code: int
) -> None:
    (tmp_path / ".python-version").write_text("3.12\n")
    loaded = _loaded_after(_CLI.format(code=code), *args, cwd=tmp_path)
    assert "tui.cli.main" in loaded
    for heavy in ("tui.engine.shelf", "tui.engine.archives.catalog", "httpx", "textual"):
        assert heavy not in loaded
    # JSON and suggestions load only for --json and a usage error
    assert "json" not in loaded and ("difflib" in loaded) == args[-1].startswith("--j")


def test_an_offline_listing_loads_no_http_client(world: World, tmp_path: Path) -> None:
    args = ["--catalog", str(world.catalog_path), "--cache-dir", str(tmp_path / "cache"),
            "--install-dir", str(tmp_path / "installs"), "--offline", "list"]  # fmt: skip
    loaded = _loaded_after(_CLI.format(code=0), *args, cwd=tmp_path)
    assert "tui.engine.shelf" in loaded
    assert not {"httpx", "httpcore", "truststore", "certifi"} & loaded


def test_a_reinstall_from_the_unpacked_copy_reads_no_archive(world: World, tmp_path: Path) -> None:
    """The copy is checked and linked: nothing that downloads, unpacks or hashes archives
    loads, nor what only costs start-up time here (dataclasses, thread pools and logging,
    shutil, tempfile, a process for the interpreter a kept copy already ran)."""
    code, _, err = world.cli("install", "3.12.7")
    assert code == 0, err
    loaded = _loaded_by_world_cli(world, tmp_path, "--offline", "reinstall", "3.12.7")
    assert "tui.engine.installs.installdir" in loaded
    unwanted = {
        "tui.engine.archives.download", "tui.engine.archives.extract", "tui.engine.archives.http",
        "tui.engine.archives.tarstream", "isal", "gzip", "humanize", "dataclasses", "httpx",
        "concurrent.futures", "logging", "shutil", "tempfile", "secrets", "subprocess",
    }  # fmt: skip
    assert not unwanted & loaded, unwanted & loaded


def test_an_offline_install_of_a_tar_loads_neither_dataclasses_nor_zipfile(
    world: World, tmp_path: Path
) -> None:
    """Unpacking a cached ``.tar.gz`` needs the tar reader alone: zipfile loads for a
    ``.zip``, and no record made on the way is a dataclass (about 10 ms of imports)."""
    code, _, err = world.cli("fetch", "3.12.7")
    assert code == 0, err
    loaded = _loaded_by_world_cli(world, tmp_path, "--offline", "install", "3.12.7")
    assert "tui.engine.archives.tarstream" in loaded
    assert not {"dataclasses", "zipfile", "httpx"} & loaded, {"dataclasses", "zipfile"} & loaded


def test_a_download_without_a_proxy_loads_no_httpx(world: World, tmp_path: Path) -> None:
    """An archive comes over http.client; httpx is for remote catalogs, probes and proxies."""
    where = [
        "--catalog", str(world.catalog_path), "--cache-dir", str(world.root / "cache"),
        "--install-dir", str(world.root / "installs"), "--bin-dir", str(world.root / "bin"),
    ]  # fmt: skip
    proxies = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
    no_proxy = {name: "" for upper in proxies for name in (upper, upper.lower())}
    loaded = _loaded_after(_CLI.format(code=0), *where, "fetch", "3.12.7", cwd=tmp_path, env={
        **no_proxy, "UV_PYTHON_CACHE_DIR": str(world.root / "cache"),
    })  # fmt: skip
    assert "tui.engine.archives.wire" in loaded and "http.client" in loaded
    assert not {"httpx", "httpcore", "h11"} & loaded


def test_the_app_loads_the_help_markdown_only_when_help_opens(tmp_path: Path) -> None:
    loaded = _loaded_after("import tui.app.app, tui.app.main", cwd=tmp_path)
    assert "tui.app.help.screen" in loaded
    assert not {"textual.widgets._markdown", "markdown_it"} & loaded


def test_the_app_loads_the_disk_usage_view_and_engine_only_when_used(tmp_path: Path) -> None:
    """The builds view starts without the disk-usage view, its dialogs and the usage engine
    (the sizes' walk loads it on its own thread, after the first frame), nor the bundle
    engine and the doctor; the keys of those views are known all the same."""
    loaded = _loaded_after(
        "import tui.app.app, tui.app.main\nfrom tui.app.keys import known_ids\n"
        "assert {'cleanup-remove', 'cleanup-mark', 'prune-cancel', 'break'} <= known_ids()",
        cwd=tmp_path,
    )
    assert "tui.app.builds.screen" in loaded
    later = {
        "tui.app.disk.screen", "tui.app.dialogs.plan_confirm", "tui.app.disk.prune_menu",
        "tui.app.disk.table", "tui.engine.usage.inventory", "tui.engine.usage.ledger",
        "tui.engine.usage.removal", "tui.app.disk.updates", "tui.engine.checks.doctor",
        "tui.app.disk.removals", "tui.app.disk.scope",
        "tui.engine.bundle",
    }  # fmt: skip
    assert not later & loaded


def test_httpx_loads_without_its_command_line(tmp_path: Path) -> None:
    """httpx's own CLI (click, rich, pygments) stays out of pyshelf's import of httpx, and
    still runs when something asks for it."""
    pytest.importorskip("click")  # httpx only imports its CLI when click is installed
    loaded = _loaded_after(
        "import tui.engine.archives.http, httpx\nassert callable(httpx.main)", cwd=tmp_path
    )
    assert "httpx" in loaded and "click" not in loaded
    done = subprocess.run(
        [sys.executable, "-c", "import sys, tui.engine.archives.http, httpx\n"
         "sys.argv = ['httpx', '--help']\nhttpx.main()"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0 and "Usage: httpx" in done.stdout, done.stderr


def test_preloaded_entries_are_the_listing_and_are_taken_once(world: World) -> None:
    shelf = world.shelf()
    shelf.preload_entries()
    assert shelf.preloaded(wait=30)
    early = shelf.entries()
    assert [e.key for e in early] == [e.key for e in world.shelf().entries()]
    assert not shelf.preloaded()  # taken: the next listing is a fresh one
    assert shelf.entries() is not early


def test_a_preload_that_fails_fails_the_listing_that_takes_it(world: World) -> None:
    world.catalog_path.write_text("{not json")
    shelf = world.shelf()
    shelf.preload_entries()
    assert not shelf.preloaded(wait=30)
    with pytest.raises(CatalogError, match="not valid JSON"):
        shelf.entries()
    shelf.preload_entries()
    shelf.reload_catalog()  # a reload drops what was preloaded
    assert not shelf.preloaded(wait=30)


@contextlib.asynccontextmanager
async def _preloaded_app(world: World) -> AsyncIterator[PyshelfApp]:
    """The app as ``pyshelf`` starts it: the rows listed on a thread before it runs."""
    shelf = world.shelf()
    shelf.preload_entries()
    assert shelf.preloaded(wait=30)
    queue = JobQueue(shelf)
    app = PyshelfApp(shelf, queue, config=None)
    try:
        async with app.run_test():
            yield app
    finally:
        queue.close(cancel=True)


async def test_the_first_frame_of_a_preloaded_app_has_its_rows(world: World) -> None:
    async with _preloaded_app(world) as app:
        # Mounted, no pause: the rows came with the screen, not from a worker's message.
        assert app.main.table.row_count == len(default_view(app.main.all_entries)) > 0
        assert not [w for w in app.workers if w.group == "entries"]


async def test_recorded_sizes_are_in_the_first_frame_and_no_walk_starts(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once every tree's size is recorded, the first rows come with their sizes (no
    "measuring…", no size walk, and no measurement landing after the rows to draw the table
    again); a tree that changed sends the first frame back to the walk."""
    assert world.cli("install", "3.12.7")[0] == 0
    assert world.cli("list")[0] == 0  # measures, and records the trees
    landed: list[LedgerMeasured] = []
    measured = Listing.measured

    def counted(listing: Listing, message: LedgerMeasured) -> None:
        landed.append(message)
        measured(listing, message)

    monkeypatch.setattr(Listing, "measured", counted)

    async def first_frame() -> tuple[str, list[str]]:
        async with _preloaded_app(world) as app:
            walks = [w.name for w in app.workers if w.group == "measure"]
            rid = next(r for r, e in app.main.table.entries.items() if e.installation)
            assert app.main.ledger is not None or walks  # sized with the rows, or walked
            return app.main.table.get_cell(rid, "installed").plain, walks

    installed, walks = await first_frame()
    assert installed not in ("measuring…", "…", "") and not walks, (installed, walks)
    assert not landed
    site = world.root / "installs" / "cpython-3.12.7-linux-x86_64-gnu" / "lib" / "python3.12"
    (site / "site-packages").mkdir(parents=True, exist_ok=True)
    (site / "site-packages" / "new.py").write_text("x = 1\n")
    installed, walks = await first_frame()
    assert walks == ["measure_sizes"], walks  # the changed tree is walked after the paint


async def test_sizes_are_probed_for_the_rows_in_view_first(world: World) -> None:
    shelf = world.shelf()
    queue = JobQueue(shelf)
    app = PyshelfApp(shelf, queue, config=None)
    try:
        async with app.run_test(size=(120, 9)) as pilot:
            table = app.main.table
            while not table.row_count:
                await pilot.pause(0.01)
            app.main.action_toggle_all()
            await pilot.pause()
            table.move_cursor(row=table.row_count - 1, animate=False)  # scrolls down
            await pilot.pause()
            assert table.scroll_y > 0
            order = [e.key for e in table.visible_first()]
            shown = [e.key for e in table.ordered()]
            assert sorted(order) == sorted(shown) and order != shown
            assert order[0] != shown[0] and shown[-1] in order[: table.size.height]
    finally:
        queue.close(cancel=True)


@pytest.mark.parametrize(("size", "breakpoint"), [((120, 36), "-wide"), ((80, 24), "-narrow")])
async def test_the_first_frame_has_the_focus_and_the_layout_of_the_next(
    world: World, size: tuple[int, int], breakpoint: str
) -> None:
    """The table is focused and the screen has its width's class when first drawn: either
    arriving later styles the widgets again and draws the whole table a second time."""
    shelf = world.shelf()
    shelf.preload_entries()
    assert shelf.preloaded(wait=30)
    queue = JobQueue(shelf)
    app = PyshelfApp(shelf, queue, config=None)
    first: list[tuple[bool, set[str]]] = []
    display = app._display

    def record(screen: object, renderable: object) -> None:
        if not first and isinstance(screen, MainScreen) and renderable is not None:
            first.append((app.focused is screen.table, set(screen.classes)))
        display(screen, renderable)  # type: ignore[arg-type]

    app._display = record  # type: ignore[method-assign]
    try:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            assert first == [(True, {breakpoint})]
            assert app.main.classes == {breakpoint}  # the resize that followed kept it
    finally:
        queue.close(cancel=True)


def test_the_app_is_built_with_the_collector_off_and_turns_it_on_after_its_first_frame(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the imports and the first frame make is frozen, then the collector runs again (it
    walked all of it, again and again, before the first frame)."""
    seen: dict[str, object] = {}

    class Stopped:  # an app that stops before drawing anything
        return_code = 0

        def __init__(self, shelf: object, queue: object) -> None:
            seen["building"] = gc.isenabled()

        def run(self) -> None:
            pass

    monkeypatch.setattr("tui.app.app.PyshelfApp", Stopped)
    try:
        assert run_app(world.shelf().settings) == 0
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # the rest of the test run collects as before
    assert seen["building"] is False and gc.isenabled()


async def test_an_app_started_with_the_collector_off_turns_it_on_after_its_first_frame(
    world: World,
) -> None:
    shelf = world.shelf()
    queue = JobQueue(shelf)
    app = PyshelfApp(shelf, queue, config=None)
    gc.disable()
    try:
        async with app.run_test() as pilot:
            await pilot.pause()
            assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.enable()
        gc.unfreeze()
        queue.close(cancel=True)


def test_a_shelf_that_cannot_be_made_leaves_the_collector_on(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(settings: object) -> None:
        raise PyshelfError("the install dir is a file")

    monkeypatch.setattr("tui.engine.shelf.Shelf", broken)
    try:
        assert run_app(world.shelf().settings) == 1
    finally:
        gc.unfreeze()
    assert "the install dir is a file" in capsys.readouterr().err
    assert gc.isenabled()

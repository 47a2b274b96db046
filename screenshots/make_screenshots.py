"""Drive the real app against a loopback server and save the README's screenshots.

    /work/venv/bin/python screenshots/make_screenshots.py   # writes screenshots/*.svg and *.png

Everything is local: a LoopbackServer serves generated python-build-standalone style archives
(tests/pbs_fixtures.py) and a uv-format catalog; the home directory is a temporary one, so
paths read ``~/...``. Downloads in the queue picture are real, throttled by the server. The
disk-usage picture adds pyenv and rye interpreters, a system python and a few environments
(made under the temporary home), and sizes are measured for real.
PNGs need cairosvg (pip install cairosvg).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.loopback import LoopbackServer  # noqa: E402
from tests.pbs_fixtures import catalog_json, make_archive  # noqa: E402
from tests.test_managers import MANAGER_ENV, make_system, make_unit, make_venv  # noqa: E402

SIZE = (120, 32)
BUILD = "20251014"
MIB = 1024
ARCHIVES = [  # payload in KiB: big enough for progress to be worth watching
    {"version": "3.14.0", "payload_kib": 30 * MIB},
    {"version": "3.13.8", "payload_kib": 26 * MIB},
    {"version": "3.13.8", "variant": "freethreaded", "payload_kib": 24 * MIB},
    {"version": "3.13.7", "payload_kib": 26 * MIB},
    {"version": "3.12.12", "payload_kib": 22 * MIB},
    {"version": "3.11.14", "payload_kib": 20 * MIB},
    {"version": "3.10.19", "payload_kib": 18 * MIB},
    {"implementation": "pypy", "version": "3.11.13", "pypy_version": "7.3.20",
     "payload_kib": 28 * MIB},
]  # fmt: skip


def to_png(svg: Path) -> Path:
    import cairosvg

    # The SVG asks for Fira Code from a CDN; offline, name a monospace font that is installed
    # or cairo falls back to a proportional one and columns drift.
    text = svg.read_text().replace(
        "font-family: Fira Code, monospace;", 'font-family: "DejaVu Sans Mono", monospace;'
    )
    png = svg.with_suffix(".png")
    cairosvg.svg2png(bytestring=text.encode(), write_to=str(png), output_width=1600)
    return png


DAY = 86400


def other_managers(root: Path, home: Path, install_root: Path) -> tuple[Path, Path]:
    """pyenv and rye interpreters, a system python and environments that use some of them,
    aged like a machine that has been around. Returns (system bin dir, projects dir)."""
    units = [  # (directory, version, payload KiB, age in days)
        (home / ".pyenv" / "versions" / "3.9.18", "3.9.18", 22 * MIB, 700),
        (home / ".pyenv" / "versions" / "3.11.7", "3.11.7", 26 * MIB, 400),
        (home / ".rye" / "py" / "cpython@3.12.3", "3.12.3", 16 * MIB, 150),
    ]
    now = time.time()
    for path, version, payload, days in units:
        make_unit(path, version, payload=payload * 1024)
        os.utime(path, (now - days * DAY, now - days * DAY))
    sysbin = root / "sysbin"
    make_system(sysbin, size=6 * 1024 * 1024)
    os.utime(sysbin / "python3.11", (now - 900 * DAY, now - 900 * DAY))
    work = home / "work"
    make_venv(work / "api" / ".venv", install_root / "cpython-3.13.8-linux-x86_64-gnu" / "bin")
    make_venv(work / "site" / ".venv", install_root / "cpython-3.12.12-linux-x86_64-gnu" / "bin")
    make_venv(work / "legacy" / ".venv", units[0][0] / "bin", "3.9.18")
    return sysbin, work


async def shoot(root: Path, server: LoopbackServer, catalog: Path) -> None:
    from tui.app.app import PyshelfApp
    from tui.app.disk.scope import Scope
    from tui.app.disk.screen import CleanupScreen
    from tui.engine.errors import Cancelled
    from tui.engine.host import Host
    from tui.engine.jobs import JobKind, JobQueue, Phase
    from tui.engine.progress import Reporter
    from tui.engine.settings import Settings
    from tui.engine.shelf import Shelf

    home = Path.home()
    settings = Settings(
        cache_dir=home / ".cache" / "pyshelf",
        install_dir=home / ".local" / "share" / "uv" / "python",
        bin_dir=home / ".local" / "bin",
        catalog=str(catalog),
    )
    shelf = Shelf(settings, host=Host("linux", "x86_64", "gnu"))

    # A lived-in shelf: two installs, one more archive cached, one download half done.
    entries = {e.key: e for e in shelf.entries()}
    setup = JobQueue(shelf)  # its own queue, so the app's starts empty
    setup.submit(JobKind.INSTALL, entries["cpython-3.13.8-linux-x86_64-gnu"])
    setup.submit(JobKind.INSTALL, entries["cpython-3.12.12-linux-x86_64-gnu"])
    setup.submit(JobKind.FETCH, entries["cpython-3.11.14-linux-x86_64-gnu"])
    setup.close(cancel=False)
    half = entries["cpython-3.13.8+freethreaded-linux-x86_64-gnu"]

    class Halfway(Reporter):
        def progress(self, done: int, total: int | None) -> None:
            if total and done > total // 2:
                self.cancel_event.set()

    with contextlib.suppress(Cancelled):  # on purpose: the partial file stays
        shelf.fetch(half, reporter=Halfway())

    queue = JobQueue(shelf)
    # The disk-usage view looks at the other managers' interpreters made below (made later,
    # so the main picture shows only uv's). No config: the default keys and theme.
    scope = Scope(system_dirs=[root / "sysbin"], cwd=home / "work")
    app = PyshelfApp(shelf, queue, config=None, scope=scope)
    async with app.run_test(size=SIZE) as pilot:
        while not app.main.all_entries:
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        app.clear_notifications()
        await pilot.pause()
        app.save_screenshot("main.svg", str(HERE))

        # Four downloads at once from a throttled server, with the queue in view.
        server.fault(None, rate=3 * 1024 * 1024)
        await pilot.press("a")
        await pilot.pause(0.3)
        for key in [
            "cpython-3.14.0-linux-x86_64-gnu",
            "cpython-3.13.8+freethreaded-linux-x86_64-gnu",
            "cpython-3.13.7-linux-x86_64-gnu",
            "pypy-3.11.13-linux-x86_64-gnu",
        ]:
            while app.main.table.highlighted is None or app.main.table.highlighted.key != key:
                await pilot.press("down")
            await pilot.press("space")
        await pilot.press("i")
        while sum(j.phase == Phase.DOWNLOADING and j.done > 0 for j in queue.jobs) < 4:
            await pilot.pause(0.05)
        await pilot.pause(2.5)
        await pilot.press("ctrl+home", "Q")  # jobs never open the queue by themselves
        while app.main.table.measuring:  # the installs that finished are being measured
            await pilot.pause(0.05)
        app.clear_notifications()
        await pilot.pause(0.3)
        app.save_screenshot("queue.svg", str(HERE))
        for job in queue.active():
            job.cancel()
        await asyncio.to_thread(queue.wait, None, 30)

        # Disk usage, with the interpreters of other managers and a couple of marks.
        sysbin, work = other_managers(root, home, settings.install_dir)
        assert [sysbin, work] == [*scope.system_dirs, scope.cwd]
        await pilot.press("D")
        screen = app.screen
        assert isinstance(screen, CleanupScreen)
        while screen.inventory is None or screen.progress is not None or not screen.envs_found:
            await pilot.pause(0.05)
        table = screen.table
        for path in [
            home / ".pyenv" / "versions" / "3.9.18",
            *sorted(settings.cache_dir.glob("*cpython-3.11.14*.tar.gz")),
        ]:
            rid = next(r for r, item in table.items.items() if item.path == path)
            table.move_cursor(row=table.get_row_index(rid), animate=False)
            await pilot.press("space")
        while screen.removals.plan is None:
            await pilot.pause(0.05)
        await pilot.press("ctrl+home")
        app.clear_notifications()
        await pilot.pause(0.3)
        app.save_screenshot("cleanup.svg", str(HERE))
    queue.close()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="pyshelf-shots-") as tmp:
        root = Path(tmp)
        os.environ["HOME"] = str(root / "home")  # paths on screen read ~/...
        for name in [n for n in os.environ if n.startswith(("UV_", "XDG_"))]:
            del os.environ[name]
        for name in MANAGER_ENV:  # the machine's own pyenv must not be in the picture
            os.environ.pop(name, None)
        with LoopbackServer(root / "www") as server:
            specs = [make_archive(root / "www" / BUILD, build=BUILD, **a) for a in ARCHIVES]
            catalog = root / "catalog.json"
            catalog.write_text(json.dumps(catalog_json(specs, server.url), indent=1))
            asyncio.run(shoot(root, server, catalog))
    for name in ("main", "queue", "cleanup"):
        print(to_png(HERE / f"{name}.svg"))


if __name__ == "__main__":
    main()

"""One app, timed to its first frame with rows: run by ``bench/startup.py``, never alone.

    first_frame.py pyshelf|bare ROWS ROWS_JSON|- STAMP_FILE

Both apps run under the same hook, Textual's ``auto_pilot``: it waits until the screen's
table holds ROWS rows, asks for the next refresh, and when that refresh has been written
puts ``time.monotonic()`` (one clock for every process) in STAMP_FILE and exits. This file
imports nothing the two apps do not share, so neither pays for the bench's own code.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import DataTable


def first_frame(rows: int, stamp: str) -> Any:
    async def hook(pilot: Pilot[Any]) -> None:
        app = pilot.app
        while True:  # the same check for both apps: the table holds its rows
            tables = app.screen.query(DataTable)
            if tables and tables.first().row_count >= rows:
                break
            # A bare sleep: Pilot.pause would wait on every widget and force a refresh.
            await asyncio.sleep(0.001)

        def painted() -> None:
            Path(stamp).write_text(repr(time.monotonic()))
            app.exit()

        app.call_after_refresh(painted)

    return hook


class Bare(App[None]):
    """A bare Textual app: one DataTable showing the same rows, with the same columns, as text."""

    def __init__(self, cells: list[list[str]]) -> None:
        super().__init__()
        self.cells = cells

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(
            "✓", "Version", "Impl", "Variant", "Build", "State", "Download", "Cached", "Installed"
        )
        table.add_rows(self.cells)


def main() -> int:
    which, rows, data, stamp = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    run = App.run

    def run_with_hook(self: App[Any], *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("auto_pilot", first_frame(rows, stamp))
        return run(self, *args, **kwargs)

    App.run = run_with_hook  # type: ignore[method-assign]
    if which == "pyshelf":
        from tui.cli.main import main as pyshelf

        return pyshelf([])
    Bare(json.loads(Path(data).read_text())).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

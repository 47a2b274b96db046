"""``pyshelf`` without a command: build the shelf and the queue, run the app."""

from __future__ import annotations

import sys

from tui.engine.errors import PyshelfError
from tui.engine.jobs import JobQueue
from tui.engine.settings import Settings
from tui.engine.shelf import Shelf


def run_app(settings: Settings) -> int:
    try:
        shelf = Shelf(settings)
    except PyshelfError as exc:
        print(f"pyshelf: error: {exc}", file=sys.stderr)
        return 1
    shelf.preload_entries()  # while Textual loads: the first frame can show the rows
    from tui.app.app import PyshelfApp  # Textual loads only now

    queue = JobQueue(shelf)
    app = PyshelfApp(shelf, queue)
    try:
        app.run()
    finally:
        queue.close(cancel=True)  # cancelled downloads keep their partial files
    return app.return_code or 0

"""``pyshelf`` without a command: build the shelf and the queue, run the app."""

from __future__ import annotations

import gc
import sys
from typing import TYPE_CHECKING

from tui.engine.errors import PyshelfError

if TYPE_CHECKING:
    from tui.engine.settings import Settings


def run_app(settings: Settings) -> int:
    # The imports below and the first frame make most of the objects the app will ever hold,
    # and the collector walked them several times before that frame (a full pass among them:
    # most of the time a bare Textual app does not spend). They are made with it off; the app
    # freezes them and turns it back on once its first frame is drawn (PyshelfApp.on_mount).
    gc.disable()
    try:
        return _run(settings)
    finally:
        if not gc.isenabled():  # stopped before its first frame
            gc.freeze()
            gc.enable()


def _run(settings: Settings) -> int:
    from tui.engine.jobs import JobQueue
    from tui.engine.shelf import Shelf

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

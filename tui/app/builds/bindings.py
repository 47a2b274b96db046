"""The builds view's keys, and what each of its workers does as a failure names it."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from tui.app.builds.connection import CHECK_BINDING
from tui.app.keys import register

BUILDS: list[BindingType] = register(
        [
            # The footer (tui.app.builds.action_footer) shows the main actions in a fixed
            # order; help (?) and Ctrl+P list the rest.
            # Priority: the screen acts on "/" before it forwards the keys typed right after
            # it, so they land in the filter box (check_action hands "/" back inside inputs).
            Binding(
                "slash", "filter", "Filter", key_display="/", show=False, priority=True,
                id="filter",
            ),
            Binding("a", "toggle_all", "All versions", show=False, id="all"),
            Binding(
                "Q", "toggle_queue", "Queue", key_display="Q", show=False,
                tooltip="Show or hide the job queue", id="queue",
            ),
            Binding("d", "toggle_details", "Details", show=False, id="details"),
            Binding(
                "D", "cleanup", "Disk usage", key_display="D", show=False,
                tooltip="What every interpreter and archive costs; mark and free space",
                id="cleanup",
            ),
            Binding("ctrl+r", "reload", "Reload", show=False, id="reload"),
            Binding("y", "copy", "Copy", show=False, id="copy"),
            # Esc on the table clears a kept filter once no marks are left to clear.
            Binding("escape", "clear_filter", "Clear filter", show=False, id="clear-filter"),
            CHECK_BINDING,
        ]
    )  # fmt: skip

# What a failed worker of each group was doing, as the notification says it.
WORKER_ERRORS: dict[str, str] = {
    "entries": "cannot list builds",
    "probe": "probing download sizes failed",
    "measure": "measuring sizes failed",
    "confirm": "counting what the removal frees failed",
    "reinstall": "checking what a reinstall would discard failed",
    "remove": "the removal stopped",
    "upgrade-plan": "looking for environments to upgrade failed",
    "upgrade": "the upgrade stopped",
    "export": "the export stopped",
    "connection": "checking the connection failed",
}

"""What the help page lists: every key, grouped, generated from the registered bindings.

Each binding id has one short line here (what it does, in the fewest words); the key is the
one bound now, so a remapped key shows as itself. ``unlisted`` is what a test checks stays
empty: a new binding needs its line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tui.app import kinds

# Ids listed together on one line, with the line's text.
PAIRS: dict[tuple[str, ...], str] = {
    ("down", "up"): "move (also ↑ ↓)",
    ("top", "bottom"): "first / last row",
    ("page-down", "page-up"): "a page down / up",
    ("sort", "sort-previous"): "sort: next / previous column",
    ("prune-1", "prune-2", "prune-3", "prune-4"): "prune menu: pick a preset",
}
# Movement: the first lines of the Builds group.
MOVES = (("down", "up"), ("top", "bottom"), ("page-down", "page-up"))
LINES: dict[str, str] = {
    "mark": "mark / unmark the row",
    "clear-marks": "clear the marks",
    "filter": "filter as you type",
    "clear-filter": "in the filter: clear it",
    "sort-reverse": "reverse the sort order",
    "all": "all versions / newest only",
    "details": "details: paths, URL, sha256",
    "copy": "copy key, paths, URL, sha256",
    "queue": "show / hide the job queue",
    "cancel": "cancel the selected job",
    "retry": "retry a failed job",
    "clear": "clear finished jobs",
    "queue-close": "in the queue: close it",
    "cleanup": "disk usage and clean-up",
    "reload": "reload the list",
    "theme": "dark / light theme",
    "palette": "command palette",
    "help": "this help",
    "quit": "close what is open, or quit",
    "quit-now": "quit from anywhere",
    "cleanup-mark": "mark a row (a header: its group)",
    "cleanup-group": "mark all of the row's group",
    "cleanup-remove": "remove the marks (asks first)",
    "cleanup-prune": "prune by a preset (previewed)",
    "cleanup-sort": "sort: size, name, version, age",
    "cleanup-sort-previous": "sort: the previous of those",
    "cleanup-rescan": "measure again",
    "cleanup-fix-envs": "bring back broken environments",
    "cleanup-back": "clear the marks; again: back",
    "cleanup-close": "back to the builds",
    "yes": "yes",
    "no": "no",
    "break": "yes, break the environments",
    "break-no": "no, keep them",
    "prune-cancel": "close the prune menu",
    "help-close": "close this help",
    "upgrade": "upgrade to the newest patch",
    "export": "export marked builds (bundle)",
    "import": "import a bundle into the cache",
    "check-connection": "check the connection",
    "path-cancel": "leave the path dialog",
    "checks-close": "close the connection check",
}


@dataclass(frozen=True, slots=True)
class Group:
    title: str
    ids: tuple[str | tuple[str, ...], ...]  # a tuple: ids that share one line


def groups() -> list[Group]:
    """The help page's groups: the first two side by side on the first screen."""
    jobs = tuple(kinds.table_actions())
    return [
        Group(
            "Builds",
            (
                *MOVES,
                "mark",
                "clear-marks",
                *jobs,
                "filter",
                "clear-filter",
            ),
        ),
        Group(
            "View",
            (
                ("sort", "sort-previous"),
                "sort-reverse",
                "all",
                "details",
                "copy",
                "queue",
                "cancel",
                "retry",
                "clear",
                "queue-close",
                "cleanup",
                "reload",
                "theme",
                "palette",
                "help",
                "quit",
                "quit-now",
            ),
        ),
        Group("Upgrade and share", ("upgrade", "export", "import", "check-connection")),
        Group(
            "Disk usage (D)",
            (
                "cleanup-mark",
                "cleanup-group",
                "cleanup-remove",
                "cleanup-prune",
                "cleanup-sort",
                "cleanup-sort-previous",
                "cleanup-rescan",
                "cleanup-fix-envs",
                "cleanup-back",
                "cleanup-close",
            ),
        ),
        Group(
            "Dialogs",
            (
                "yes",
                "no",
                "break",
                "break-no",
                "prune-cancel",
                ("prune-1", "prune-2", "prune-3", "prune-4"),
                "help-close",
                "path-cancel",
                "checks-close",
            ),
        ),
    ]


def rows(group: Group, keys: Mapping[str, str]) -> list[tuple[str, str]]:
    """(keys, what they do) for each line of ``group``; ``keys``: binding id -> key(s) now.
    A job kind's line is in its words (``tui.app.kinds``)."""
    out = []
    for entry in group.ids:
        if isinstance(entry, tuple):
            out.append((_joined([keys[i] for i in entry if i in keys]), PAIRS[entry]))
        elif (line := kinds.help_line(entry)) is not None:
            out.append((keys[entry], line))
        elif entry in keys:
            out.append((keys[entry], LINES[entry]))
    return out


def _joined(keys: list[str]) -> str:
    """Keys that share a line: ``j k``, or ``Ctrl+D/U`` when they share a modifier."""
    head, _, _ = keys[0].rpartition("+")
    if head and all(k.startswith(head + "+") for k in keys):
        return head + "+" + "/".join(k[len(head) + 1 :] for k in keys)
    return " ".join(keys)


def unlisted(binding_ids: set[str]) -> set[str]:
    """Binding ids no group lists."""
    listed: set[str] = set()
    for group in groups():
        for entry in group.ids:
            listed.update(entry if isinstance(entry, tuple) else (entry,))
    return binding_ids - listed

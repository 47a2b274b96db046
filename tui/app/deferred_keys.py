"""The keys of the disk-usage view and of the removal dialogs, which load when first opened.

Registered here, as the app starts, so the config can check a keymap's ids and every hint can
name the key bound now before those screens' modules are imported.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

from tui.app.keys import register

CLEANUP: list[BindingType] = register([
    Binding("x,delete", "remove", "Remove", tooltip="Remove the marked items (asks first)",
            id="cleanup-remove"),
    Binding("p", "prune", "Prune", tooltip="Prune by a preset, previewed first",
            id="cleanup-prune"),
    Binding("ctrl+r", "rescan", "Rescan", show=False, id="cleanup-rescan"),
    Binding("F", "fix_envs", "Fix envs", show=False,
            tooltip="Bring back environments whose interpreter is gone", id="cleanup-fix-envs"),
    Binding("escape", "back", "Back", tooltip="Clear the marks, or go back to the builds",
            id="cleanup-back"),
    Binding("D", "close", "Close", show=False, id="cleanup-close"),
])  # fmt: skip

USAGE_TABLE: list[BindingType] = register([
    Binding("space", "toggle_mark", "Mark", tooltip="Mark the row, or a header's group",
            id="cleanup-mark"),
    # a, for "all of this group" as in lazygit; g moves to the first row, as in every list.
    Binding("a", "toggle_group", "Group", tooltip="Mark the whole group of this row",
            id="cleanup-group"),
    Binding("s", "cycle_sort", "Sort", tooltip="Sort by size, name, version, age",
            id="cleanup-sort"),
    Binding("S", "cycle_sort(-1)", "Sort back", show=False,
            tooltip="Sort by the previous of size, name, version, age",
            id="cleanup-sort-previous"),
])  # fmt: skip

PRUNE: list[BindingType] = register(
    [
        Binding("escape,q", "dismiss(None)", "Cancel", show=False, id="prune-cancel"),
        # The number each preset shows in the menu picks it (digits typed into the menu's
        # number fields stay there: the fields take them first).
        *(
            Binding(str(n), f"pick({n - 1})", f"Preset {n}", show=False, id=f"prune-{n}")
            for n in range(1, 5)
        ),
    ]
)

# The second question of a removal that breaks environments.
BREAK: list[BindingType] = register(
    [
        Binding("b", "answer(True)", "Break them", show=False, id="break"),
        Binding("n,escape,q", "answer(False)", "No", show=False, id="break-no"),
    ]
)

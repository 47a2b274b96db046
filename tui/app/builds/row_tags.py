"""What the builds table says about a row beyond its state: a newer patch to upgrade to,
whether the folder pins it, and whether it installs with no network.

Made off the UI thread (pins are read from disk) each time the builds are listed; the table
draws from it and the filter matches its words (``TAGS``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tui.engine.errors import RequestError
from tui.engine.requests.pins import Pins, find_pins
from tui.engine.requests.resolve import parse_request
from tui.engine.shelf import Entry
from tui.engine.usage.upgrade import Upgrade, find_upgrades

# The filter's words for the notes, each with what the palette calls it.
PINNED, NEWER, OFFLINE = "pinned", "newer", "offline"
TAGS = {
    PINNED: "builds the folder pins (.python-version, UV_PYTHON)",
    NEWER: "installs with a newer patch (or a rebuild) to upgrade to",
    OFFLINE: "builds that install with no network (archive or unpacked copy cached)",
}


def installs_offline(entry: Entry) -> bool:
    """A cached archive or an unpacked copy is there: installing needs no network."""
    return entry.cached is not None or entry.unpacked_size != 0


@dataclass(frozen=True, slots=True)
class RowNotes:
    upgrades: dict[str, Upgrade] = field(default_factory=dict)  # installed key -> its upgrade
    pinned: frozenset[str] = frozenset()  # keys of builds a pin matches
    pins: Pins | None = None
    problem: str | None = None  # a pin file that cannot be read

    @classmethod
    def of(cls, entries: Iterable[Entry], cwd: Path, *, offline: bool = False) -> RowNotes:
        entries = list(entries)
        upgrades = {u.old.key: u for u in find_upgrades(entries, offline=offline)}
        try:
            pins = find_pins(cwd)
        except RequestError as exc:
            return cls(upgrades, problem=str(exc))
        if pins is None:
            return cls(upgrades)
        requests = [parse_request(r) for r in pins.requests]
        pinned = frozenset(e.key for e in entries if any(r.matches(e.build) for r in requests))
        return cls(upgrades, pinned, pins)

    def newer(self, entry: Entry) -> str | None:
        """What an installed row can go to — ``→ 3.12.7``, or ``+20991231 → +20991232`` for a
        rebuild of its patch — or None."""
        upgrade = self.upgrades.get(entry.key)
        return upgrade.arrow if upgrade and entry.installation else None

    def tags(self, entry: Entry) -> list[str]:
        """The filter's words this row answers to."""
        tags = [PINNED] if entry.key in self.pinned else []
        if self.newer(entry):
            tags.append(NEWER)
        if installs_offline(entry):
            tags.append(OFFLINE)
        return tags

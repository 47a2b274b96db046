"""The disk-usage table's rows as data: cells and words for inventory items and groups.

Pure functions of an item (or a group's members) and the table's state passed in, so
``UsageTable`` keeps only what it shows and where its cursor is.
"""

from __future__ import annotations

import re

from rich.console import JustifyMethod
from rich.text import Text

from tui.app.present import Cell, show_path
from tui.engine.usage.inventory import Item, Kind, Owner
from tui.engine.usage.removal import describe_users, refusal
from tui.engine.usage.versionfiles import ManagerPin
from tui.format import human_age, human_size

GROUP_TITLES = {owner: owner.title for owner in Owner}  # from the manager registry
_KIND_WORDS = {Kind.ARCHIVE: "archive", Kind.UNPACKED: "unpacked", Kind.PARTIAL: "partial"}

MARKED = "✓"
IMPLIED = "+"  # not marked, but the plan takes it along (an archive's unpacked copy)
NEVER = "⊘"  # can never be marked: a system interpreter, or no write access
SOME = "-"  # a group header with some of its items marked
PENDING = "…"

HEADER_STYLE = "bold #3b82f6"  # a mid-tone: readable on dark and light themes
NEVER_STYLE = "#d97706"
USED_STYLE = "#a855f7"
BAR_WIDTH = {False: 14, True: 8}  # wide, narrow
_BLOCKS = " ▏▎▍▌▋▊▉█"  # eighths of a cell, like dua and ncdu


def bar(size: int | None, largest: int, width: int) -> str:
    """A horizontal bar of ``width`` cells for ``size`` relative to ``largest``.

    Built from block characters, so it reads in any terminal and in snapshots; anything
    above zero shows at least a sliver.
    """
    if not size or largest <= 0:
        return " " * width
    eighths = max(1, round(min(1.0, size / largest) * width * 8))
    full, rest = divmod(eighths, 8)
    return ("█" * full + (_BLOCKS[rest] if rest else "")).ljust(width)


def envs(count: int) -> str:
    return "1 env" if count == 1 else f"{count} envs"


def never_reason(item: Item) -> str | None:
    """Why ``item`` can never be marked, or None: the engine's own refusal rules."""
    why = refusal(item)
    if why is not None and item.owner == Owner.SYSTEM:
        return f"{item.reason or 'a system interpreter'}; never removed"
    return why


def status(item: Item, narrow: bool = False) -> tuple[str, str]:
    """(words, style): the row's state in words, so colour is never the only signal."""
    used = len(item.used_by) if item.used_by is not None else None
    if item.owner == Owner.SYSTEM:
        if narrow:
            return f"{NEVER} never removed", NEVER_STYLE
        if used:
            return f"{NEVER} system, in use by {used}", NEVER_STYLE
        return f"{NEVER} system: never removed", NEVER_STYLE
    if item.kind == Kind.OTHER:  # links, locks, state: they go with what they serve
        return f"{NEVER} kept" if narrow else f"{NEVER} never removed alone", "dim"
    if item.kind == Kind.LEFTOVER:
        return f"{NEVER} swept later" if narrow else f"{NEVER} swept on next write", "dim"
    if not item.deletable:
        return f"{NEVER} read-only" if narrow else f"{NEVER} no write access", NEVER_STYLE
    if not item.is_interpreter:
        return "", ""
    if used is None:
        return f"{PENDING} finding envs" if not narrow else PENDING, "dim"
    if used == 0:
        return "unused", "dim"
    if not any(isinstance(u, ManagerPin) for u in item.used_by or ()):
        return f"in use by {envs(used)}", USED_STYLE
    return f"in use by {describe_users(item.used_by or (), show_path)}", USED_STYLE


def _version_text(item: Item) -> str:
    if item.version:
        return item.version
    return "" if item.kind in (Kind.OTHER, Kind.LEFTOVER) else "?"  # no version to know


def version_key(version: str | None) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version or ""))


def labels(items: list[Item], host: str) -> dict[int, str]:
    """Short names by ``id(item)``: the host's platform is left out (every row would repeat
    it), and cache items say what they are. Names that would repeat keep the engine's."""
    suffix = f"-{host}"
    out: dict[int, str] = {}
    for item in items:
        word = _KIND_WORDS.get(item.kind)
        if item.entry is not None:
            base = item.entry.key.removesuffix(suffix)
            out[id(item)] = f"{base} {word}" if word else base
        else:
            out[id(item)] = item.name.removesuffix(suffix)
    counts: dict[str, int] = {}
    for text in out.values():
        counts[text] = counts.get(text, 0) + 1
    for item in items:  # two cached builds of one key: the engine's names say which
        if counts[out[id(item)]] > 1:
            out[id(item)] = item.name.replace(suffix, "")
    return out


def row_id(item: Item) -> str:
    """Stable across inventories: owner and path say which thing on disk a row is."""
    return f"{item.owner}:{item.path}"


def group_id(owner: Owner) -> str:
    return f"group:{owner}"


def _cell(text: str, style: str = "", justify: JustifyMethod = "left", rid: str = "") -> Cell:
    return Cell(
        Text(text, style=style, justify=justify, no_wrap=True, overflow="ellipsis"), rid=rid
    )


def item_cells(
    item: Item,
    rid: str,
    *,
    label: str,
    marked: bool,
    implied: bool,
    narrow: bool,
    largest: int,
    now: float,
) -> dict[str, Cell]:
    """An item's row by column key; ``largest`` is the size its bar is relative to."""
    never = never_reason(item) is not None
    if marked:
        mark, mark_style = MARKED, "bold"
    elif implied:
        mark, mark_style = IMPLIED, "bold"
    else:
        mark, mark_style = (NEVER, NEVER_STYLE) if never else (" ", "")
    words, style = status(item, narrow)
    name_style = "bold" if marked else ""
    size = human_size(item.size) if item.size is not None else PENDING
    return {
        "mark": _cell(mark, mark_style, rid=rid),
        "name": _cell(f"  {label}", name_style),
        "version": _cell(_version_text(item), "" if item.version else "dim"),
        "size": _cell(size, "" if item.size is not None else "dim", "right"),
        "bar": _cell(bar(item.size, largest, BAR_WIDTH[narrow])),
        # No time for what is not on disk yet (an install dir never made): not "56y".
        "age": _cell(human_age(item.age(now)) if item.mtime > 0 else "", "dim", "right"),
        "status": _cell(words, style),
    }  # fmt: skip


def header_cells(
    owner: Owner, members: list[Item], rid: str, *, everything: int, marked: set[str]
) -> dict[str, Cell]:
    """A group's header row: its total, its share of ``everything``, how much is marked."""
    sizes = [i.size for i in members]
    known = sum(s or 0 for s in sizes)
    measured = all(s is not None for s in sizes)
    markable = [row_id(i) for i in members if never_reason(i) is None]
    if not markable:
        mark = NEVER
    elif all(r in marked for r in markable):
        mark = MARKED
    else:
        mark = SOME if any(r in marked for r in markable) else " "
    used = sum(1 for i in members if i.used_by)
    notes = "never removed" if owner == Owner.SYSTEM else ""
    if used and owner != Owner.SYSTEM:
        notes = f"{used} in use"
    share = f"{100 * known / everything:.0f}%" if everything and measured else ""
    things = [i for i in members if i.kind != Kind.OTHER]  # the rest is not a thing
    title = f"{GROUP_TITLES[owner]} ({len(things)})"
    return {
        "mark": _cell(mark, NEVER_STYLE if mark == NEVER else "bold", rid=rid),
        "name": _cell(title, HEADER_STYLE),
        "version": _cell(""),
        "size": _cell(human_size(known) if measured else PENDING, "bold", "right"),
        "bar": _cell(share.rjust(4), "bold"),
        "age": _cell(""),
        "status": _cell(notes, HEADER_STYLE),
    }

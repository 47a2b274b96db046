"""The builds table's order: one column either way, ties always newest version first.

``DataTable.sort`` takes one key and one direction for the whole key, so reversing a column
would also reverse the versions of rows that tie on it ("Impl" would list 3.10 before
3.13). Ranks fix that: each column value and each version becomes a number, and only the
column's number is negated for a descending sort.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any


def rank_keys(
    pairs: Iterable[tuple[Hashable, Hashable]], *, reverse: bool
) -> dict[tuple[Any, Any], tuple[int, int]]:
    """For each (column value, version value) pair, a key that sorts ascending to: the
    column ascending (descending if ``reverse``), then the newest version first."""
    pairs = list(pairs)
    columns = {value: n for n, value in enumerate(sorted({c for c, _ in pairs}))}  # type: ignore[type-var]
    versions = {value: n for n, value in enumerate(sorted({v for _, v in pairs}, reverse=True))}  # type: ignore[type-var]
    return {(c, v): (-columns[c] if reverse else columns[c], versions[v]) for c, v in pairs}


def step(columns: Sequence[str], current: str, by: int) -> str:
    """The column ``by`` places after ``current`` (wrapping); the first one if it is gone."""
    if current not in columns:
        return columns[0]
    return columns[(columns.index(current) + by) % len(columns)]

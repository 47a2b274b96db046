"""The builds view's subtitle: what is shown, in order of importance, cut whole from the
right so a narrow terminal loses the host before it loses "5 of 17"."""

from __future__ import annotations

from collections.abc import Sequence

SEP = " · "


def fit_parts(parts: Sequence[str], width: int) -> str:
    """``parts`` joined while they fit ``width``; the first one always, cut if it must be."""
    text = parts[0] if parts else ""
    for part in parts[1:]:
        if len(text) + len(SEP) + len(part) > width:
            break
        text += SEP + part
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"

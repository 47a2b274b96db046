"""Human-readable sizes, speeds and durations for the app and the CLI."""

from __future__ import annotations

UNKNOWN = "unknown"


def _natural(size: float) -> str:
    import humanize  # on first use: a CLI command that shows no size never loads it

    return humanize.naturalsize(size, binary=True, format="%.1f")


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``1 archive``, ``2 archives``; ``plural`` for a noun that takes more than an s
    (``counted(n, "copy", "copies")``)."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def human_size(size: int | None) -> str:
    if size is None:
        return UNKNOWN
    return _natural(size)


def human_speed(speed: float | None) -> str:
    if speed is None:
        return "-"
    return f"{_natural(speed)}/s"


def human_eta(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def progress_text(done: int, total: int | None) -> str:
    if total is None:
        return human_size(done)
    return f"{human_size(done)} / {human_size(total)}"


def human_age(seconds: float) -> str:
    """Compact ages: now, 45m, 5h, 12d, 7mo, 2y."""
    minutes = seconds / 60
    if minutes < 1:
        return "now"
    if minutes < 60:
        return f"{int(minutes)}m"
    hours = minutes / 60
    if hours < 48:
        return f"{int(hours)}h"
    days = hours / 24
    if days < 60:
        return f"{int(days)}d"
    if days < 730:
        return f"{int(days / 30.44)}mo"
    return f"{int(days / 365.25)}y"

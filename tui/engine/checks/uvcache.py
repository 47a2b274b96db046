"""Whether uv reads pyshelf's archive cache.

uv looks for cached archives only where ``UV_PYTHON_CACHE_DIR`` points; without it, it
downloads every time. So uv sees pyshelf's cache exactly when that variable names it.
"""

from __future__ import annotations

import os
import shlex

from tui.engine.settings import Settings

VARIABLE = "UV_PYTHON_CACHE_DIR"


def env_line(settings: Settings) -> str:
    """The line that points uv at pyshelf's cache (``pyshelf dir --env`` prints it)."""
    return f"export {VARIABLE}={shlex.quote(str(settings.cache_dir))}"


def uv_cache_notice(settings: Settings) -> str | None:
    """Why uv does not see pyshelf's cache, in one line; None when it does."""
    value = os.environ.get(VARIABLE, "")
    fix = 'eval "$(pyshelf dir --env)" points it there'
    if not value:
        return f"uv does not read pyshelf's archive cache ({VARIABLE} is unset): {fix}"
    ours = os.path.realpath(settings.cache_dir)
    if os.path.realpath(os.path.expanduser(value)) != ours:
        return f"uv reads its archives from {value}, not pyshelf's cache {ours}: {fix}"
    return None

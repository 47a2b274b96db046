"""The app's config file: remapped keys, and the theme, sort and view it remembers.

``~/.config/pyshelf/config.toml`` (platformdirs' user config dir)::

    theme = "textual-light"
    sort = "version"          # a column of the builds table
    sort_reverse = true
    all_versions = false

    [keymap]
    fetch = "F"               # binding id = key(s), comma-separated

A value that cannot be used is one line naming its key, and its default stays; a file that
is not TOML at all leaves every default and is never overwritten. No Textual here: what the
values may be (binding ids, themes, columns) is the caller's to say.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TypedDict, Unpack

import platformdirs

from tui.engine.fsutil import atomic_write_bytes, read_small

CONFIG_NAME = "config.toml"
MAX_CONFIG_BYTES = 1 << 20  # a few settings and a keymap; more is not a config


def config_path() -> Path:
    return Path(platformdirs.user_config_dir("pyshelf")) / CONFIG_NAME


@dataclass(frozen=True, slots=True)
class Config:
    theme: str | None = None  # None: Textual's default
    sort: str = "version"
    sort_reverse: bool = True
    all_versions: bool = False
    keymap: dict[str, str] = field(default_factory=dict)


class Remembered(TypedDict, total=False):
    """The values an app run changes (Config's fields but the keymap)."""

    theme: str | None
    sort: str
    sort_reverse: bool
    all_versions: bool


@dataclass(frozen=True, slots=True)
class Allowed:
    """What the values may be; an empty collection allows anything of the right type."""

    binding_ids: Collection[str] = ()
    themes: Collection[str] = ()
    columns: Collection[str] = ()


_TYPES: dict[str, type] = {"theme": str, "sort": str, "sort_reverse": bool, "all_versions": bool}
_WORD = {str: "a string", bool: "true or false"}


def _check(name: str, value: object, allowed: Allowed) -> str | None:
    """Why ``value`` cannot be the setting ``name``, or None."""
    want = _TYPES.get(name)
    if want is None:
        return f"unknown setting (known: {', '.join([*_TYPES, 'keymap'])})"
    if type(value) is not want:
        return f"expected {_WORD[want]}, got {json.dumps(value, default=str)}"
    choices = {"theme": allowed.themes, "sort": allowed.columns}.get(name)
    if choices and value not in choices:
        return f"{value!r} is none of {', '.join(sorted(choices))}"
    return None


def _keymap(table: object, allowed: Allowed, problems: list[str]) -> dict[str, str]:
    if not isinstance(table, dict):
        problems.append('keymap: expected a table like [keymap] with fetch = "F"')
        return {}
    keymap = {}
    for binding_id, keys in table.items():
        if allowed.binding_ids and binding_id not in allowed.binding_ids:
            problems.append(f"keymap.{binding_id}: no such action")
        elif not isinstance(keys, str) or not keys.strip():
            problems.append(f'keymap.{binding_id}: expected a key such as "F" or "ctrl+f"')
        else:
            keymap[binding_id] = keys.strip()
    return keymap


def load_config(path: Path, allowed: Allowed = Allowed()) -> tuple[Config, list[str], bool]:
    """The config at ``path`` (defaults if there is none), its problems one line each, and
    whether it may be written back (False when it is not TOML: the user's text stays)."""
    try:
        text = read_small(path, MAX_CONFIG_BYTES).decode("utf-8")  # a fifo would hang the app
    except FileNotFoundError:
        return Config(), [], True
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        return Config(), [f"{path}: cannot read it ({reason}); using the defaults"], False
    import tomllib  # only when there is a file to parse: most starts have none

    try:
        data = tomllib.loads(text)
    except (ValueError, RecursionError) as exc:
        fault: object = exc
        if isinstance(exc, RecursionError):
            fault = "nested too deeply"
        elif not isinstance(exc, tomllib.TOMLDecodeError):  # past int()'s limit
            fault = "a number of more than 4,300 digits"
        return Config(), [f"{path}: not TOML ({fault}); using the defaults"], False
    problems: list[str] = []
    values: dict[str, object] = {}
    for name, value in data.items():
        if name == "keymap":
            values["keymap"] = _keymap(value, allowed, problems)
        elif (why := _check(name, value, allowed)) is not None:
            problems.append(f"{path}: {name}: {why}; using the default")
        else:
            values[name] = value
    problems = [p if p.startswith(str(path)) else f"{path}: {p}" for p in problems]
    # _check held each value to its field's type (_TYPES), which mypy cannot follow by name.
    return replace(Config(), **values), problems, True  # type: ignore[arg-type]


def dumps(config: Config) -> str:
    """The config as TOML (JSON's string escapes are TOML's too)."""
    lines = []
    for f in fields(config):
        value = getattr(config, f.name)
        if f.name != "keymap" and value is not None:
            lines.append(f"{f.name} = {json.dumps(value)}")
    if config.keymap:
        lines += ["", "[keymap]"]
        lines += [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in config.keymap.items()]
    return "\n".join(lines) + "\n"


def save_config(path: Path, config: Config) -> None:
    """Write ``config`` to ``path`` atomically (a temp file beside it, renamed into place),
    keeping the mode of the file it replaces."""
    atomic_write_bytes(path, dumps(config).encode("utf-8"))


class Preferences:
    """The config of one app run: read once, written back when a remembered value changes."""

    def __init__(
        self,
        path: Path | None,
        allowed: Allowed = Allowed(),
        *,
        on_problem: Callable[[str], None] | None = None,
    ) -> None:
        self.path = path  # None: remember nothing (tests, and a home that cannot be written)
        self.problems: list[str] = []
        self.config = Config()
        self._writable = path is not None
        if path is not None:
            self.config, self.problems, self._writable = load_config(path, allowed)
        self._on_problem = on_problem

    def remember(self, **changes: Unpack[Remembered]) -> None:
        """Keep ``changes`` (theme=, sort=, ...) and write the file if any value differs."""
        new = replace(self.config, **changes)
        if new == self.config:
            return
        self.config = new
        if self.path is None or not self._writable:
            return
        try:
            save_config(self.path, new)
        except OSError as exc:
            self._writable = False  # say it once, then stop trying
            if self._on_problem is not None:
                self._on_problem(f"{self.path}: cannot write it ({exc.strerror or exc})")

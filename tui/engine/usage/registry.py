"""The interpreter managers pyshelf knows besides uv: one entry each, and nothing else lists them.

The inventory's groups (``Owner``), where their interpreters are looked for, what a removal
accepts as a unit and the disk-usage view's titles all come from ``MANAGERS``. Adding a manager
is one entry here and its test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tui.engine import hostos


@dataclass(frozen=True, slots=True)
class Manager:
    """One manager that keeps each interpreter in its own directory under one parent."""

    name: str  # its inventory group and ForeignPython.manager
    title: str  # the group's title in the disk-usage view
    env: str | None  # the variable that moves its data dir (PYENV_ROOT), if any
    # Its data dir otherwise: "~/..." is under home, "{data}/..." the system's data home
    # (platformdirs': ~/Library/Application Support on macOS), "{xdg}/..." the XDG data home
    # on every Unix (~/.local/share, where mise keeps its data on macOS too).
    default: str
    units: str  # the directory in its data dir whose children are its units of removal
    home: str = "bin"  # where in a unit a venv made from it points ``home``

    def base(self, env: Mapping[str, str], home: Path) -> Path:
        """The manager's data dir, moved by its variable as the manager itself does."""
        if self.env and env.get(self.env):
            return Path(env[self.env]).expanduser()
        first, _, rest = self.default.partition("/")
        start = home if first == "~" else _STARTS[first](env, home)
        return start / rest

    def interpreters(self, env: Mapping[str, str], home: Path) -> Path:
        """The directory holding its interpreters, one unit per subdirectory."""
        return self.base(env, home) / self.units


MANAGERS: tuple[Manager, ...] = (
    Manager("pyenv", "pyenv", "PYENV_ROOT", "~/.pyenv", "versions"),
    Manager("rye", "rye", "RYE_HOME", "~/.rye", "py"),
    Manager("hatch", "hatch", "HATCH_DATA_DIR", "{data}/hatch", "pythons", home="python/bin"),
    Manager("pdm", "pdm", None, "{data}/pdm", "python"),
    Manager("mise", "mise", "MISE_DATA_DIR", "{xdg}/mise", "installs/python"),
    Manager("asdf", "asdf", "ASDF_DATA_DIR", "~/.asdf", "installs/python"),
)

# Every inventory group in display order, with its title: uv's layout and the cache first,
# then the managers, then the OS (shown, never removed).
GROUP_TITLES: dict[str, str] = {
    "uv": "uv installs",
    "cache": "archive cache",
    **{m.name: m.title for m in MANAGERS},
    "system": "system",
}

# The directories whose children are units (pyenv's versions/, rye's py/, ...): a removal
# checks its target sits directly in one.
UNIT_PARENTS = frozenset(Path(m.units).name for m in MANAGERS)

MANAGER_ENV = tuple(m.env for m in MANAGERS if m.env)


def manager(name: str) -> Manager:
    return next(m for m in MANAGERS if m.name == name)


def data_home(env: Mapping[str, str], home: Path) -> Path:
    if hostos.system() == hostos.MACOS:
        return home / "Library" / "Application Support"
    return xdg_data_home(env, home)


def xdg_data_home(env: Mapping[str, str], home: Path) -> Path:
    xdg = env.get("XDG_DATA_HOME")
    return Path(xdg).expanduser() if xdg else home / ".local" / "share"


_STARTS = {"{data}": data_home, "{xdg}": xdg_data_home}

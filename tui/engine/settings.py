"""Where pyshelf keeps things, resolved from options and uv's environment variables."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tui.engine import hostos
from tui.engine.errors import PyshelfError, shown

KEEP_UNPACKED_ENV = "PYSHELF_KEEP_UNPACKED"
MAX_DOWNLOAD_ENV = "PYSHELF_MAX_DOWNLOAD"
_SIZE = r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$"  # compiled on first use
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
MAX_SIZE = 1 << 50  # 1024T: more than any disk, so a larger cap means nothing


def parse_size(text: str) -> int:
    """``2G``, ``500M``, ``1.5GiB``, ``100k``, ``4096`` -> bytes (binary units), at most 1024T."""
    match = re.match(_SIZE, text, re.IGNORECASE | re.ASCII)
    if not match:
        raise PyshelfError(f"not a size: {shown(text)} (try 2G, 500M or a number of bytes)")
    value = float(match[1]) * _UNITS[match[2].lower()]  # a long digit string is inf, not an error
    if not value <= MAX_SIZE:
        raise PyshelfError(f"size too large: {shown(text)} (at most 1024T)")
    return int(value)


def _env_size(name: str, default: int = 0) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return parse_size(value)
    except PyshelfError as exc:
        raise PyshelfError(f"{name}: {exc}") from None


def _env(name: str, *, strip: bool = False) -> str | None:
    """A variable's value; empty counts as unset, as uv has it."""
    value = os.environ.get(name, "")
    return (value.strip() if strip else value) or None


def _user_cache_dir() -> Path:
    from platformdirs import user_cache_dir  # only without UV_PYTHON_CACHE_DIR

    return Path(user_cache_dir("pyshelf"))


def _env_path(name: str) -> Path | None:
    value = _env(name)
    return Path(value).expanduser() if value else None


def _env_int(*names: str, default: int) -> int:
    """The first of uv's variables that is set, as a whole number (the CLI has checked it;
    a value it would refuse counts as unset here)."""
    for name in names:
        value = os.environ.get(name, "").strip()
        if value.isdigit() and len(value) <= 6:
            return int(value)
    return default


MAX_PARALLEL = 64  # more connections than this only slows a mirror down (tui.cli.options checks)


# uv's pins of a build (release date, or PyPy's version) per implementation.
BUILD_PINS = {
    "cpython": "UV_PYTHON_CPYTHON_BUILD", "pypy": "UV_PYTHON_PYPY_BUILD",
    "graalpy": "UV_PYTHON_GRAALPY_BUILD", "pyodide": "UV_PYTHON_PYODIDE_BUILD",
}  # fmt: skip


def _build_pins() -> dict[str, str]:
    return {impl: value for impl, name in BUILD_PINS.items() if (value := _env(name, strip=True))}


def truthy(name: str) -> bool:
    """A boolean variable as uv reads one: 1, true, yes or on."""
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _xdg_home(name: str, *, strict: bool, env: Mapping[str, str] | None = None) -> Path | None:
    """An XDG directory variable. ``strict``: uv's rule (its etcetera crate, uv-dirs), a
    relative path counts as unset; on Linux pyshelf has always taken one as given."""
    value = (os.environ if env is None else env).get(name) or None
    if value is None or (strict and not os.path.isabs(value)):
        return None
    return Path(value) if strict else Path(value).expanduser()


def uv_state_dir(env: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
    """uv's data folder, where its ``python`` installs and its ``tools`` live unless moved,
    as uv's ``StateStore::from_settings`` finds it: its old per-system folder while that
    exists (``~/Library/Application Support/uv`` on macOS, ``%APPDATA%\\uv\\data`` on
    Windows), else ``$XDG_DATA_HOME/uv`` (``~/.local/share/uv``; ``%APPDATA%\\uv`` on
    Windows)."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    system = hostos.system()
    if system == hostos.WINDOWS:
        appdata = env.get("APPDATA")  # etcetera's roaming data dir
        uv = (Path(appdata) if appdata else home / "AppData" / "Roaming") / "uv"
        legacy = uv / "data"
    elif system == hostos.MACOS:
        xdg = _xdg_home("XDG_DATA_HOME", strict=True, env=env)
        uv = (xdg or home / ".local" / "share") / "uv"
        legacy = home / "Library" / "Application Support" / "uv"
    else:  # uv's old folder is its XDG one here
        xdg = _xdg_home("XDG_DATA_HOME", strict=False, env=env)
        return (xdg or home / ".local" / "share") / "uv"
    return legacy if legacy.exists() else uv


def uv_install_dir() -> Path:
    """uv's managed-Python directory when UV_PYTHON_INSTALL_DIR is unset."""
    return uv_state_dir() / "python"


def uv_bin_dir() -> Path:
    """Where uv puts ``python3.12`` executables, on every system (uv-dirs'
    ``user_executable_directory``): UV_PYTHON_BIN_DIR, XDG_BIN_HOME, XDG_DATA_HOME/../bin,
    ~/.local/bin."""
    if found := _env_path("UV_PYTHON_BIN_DIR"):
        return found
    strict = not hostos.system().startswith("linux")
    if found := _xdg_home("XDG_BIN_HOME", strict=strict):
        return found
    if data := _xdg_home("XDG_DATA_HOME", strict=strict):
        return data.parent / "bin"
    return Path.home() / ".local" / "bin"


# A keyword Settings was not given: the value comes from the environment, as uv reads it.
_FROM_ENV: Any = object()


def _link_bin_from_env() -> bool:
    # uv's UV_PYTHON_INSTALL_BIN=0 (or false) installs without the python3.X link.
    value = os.environ.get("UV_PYTHON_INSTALL_BIN", "1").strip().lower()
    return value not in ("0", "false", "no", "off")


class Settings:
    """What a shelf works with. Every keyword left out is read from uv's environment (or
    pyshelf's own variables) when the settings are made; the CLI then applies its options.

    A plain class rather than a dataclass: see ``tui.engine.builds``.
    """

    __slots__ = (
        "astral_mirror", "bin_dir", "build_pins", "cache_dir", "catalog", "compile_bytecode",
        "connect_timeout", "install_dir", "keep_unpacked", "link_bin", "lock_timeout",
        "max_download", "offline", "parallel_downloads", "pypy_mirror", "python_mirror",
        "read_timeout", "retries", "venv_dirs",
    )  # fmt: skip

    def __init__(
        self,
        *,
        cache_dir: Path = _FROM_ENV,
        install_dir: Path = _FROM_ENV,
        bin_dir: Path = _FROM_ENV,
        catalog: str | None = _FROM_ENV,
        python_mirror: str | None = _FROM_ENV,
        pypy_mirror: str | None = _FROM_ENV,
        astral_mirror: str | None = _FROM_ENV,
        offline: bool = _FROM_ENV,
        venv_dirs: list[Path] | None = None,
        link_bin: bool = _FROM_ENV,
        compile_bytecode: bool = _FROM_ENV,
        keep_unpacked: int = _FROM_ENV,
        parallel_downloads: int = _FROM_ENV,
        retries: int = _FROM_ENV,
        max_download: int = _FROM_ENV,
        read_timeout: int = _FROM_ENV,
        connect_timeout: int = _FROM_ENV,
        build_pins: dict[str, str] = _FROM_ENV,
        lock_timeout: int = _FROM_ENV,
    ) -> None:
        def given(value: Any, default: Callable[[], Any]) -> Any:
            return default() if value is _FROM_ENV else value

        self.cache_dir: Path = given(
            cache_dir, lambda: _env_path("UV_PYTHON_CACHE_DIR") or _user_cache_dir()
        )
        self.install_dir: Path = given(
            install_dir, lambda: _env_path("UV_PYTHON_INSTALL_DIR") or uv_install_dir()
        )
        self.bin_dir: Path = given(bin_dir, uv_bin_dir)
        self.catalog: str | None = given(catalog, lambda: _env("UV_PYTHON_DOWNLOADS_JSON_URL"))
        self.python_mirror: str | None = given(
            python_mirror, lambda: _env("UV_PYTHON_INSTALL_MIRROR")
        )
        self.pypy_mirror: str | None = given(pypy_mirror, lambda: _env("UV_PYPY_INSTALL_MIRROR"))
        # Replaces Astral's mirror, which CPython archives are fetched through first.
        self.astral_mirror: str | None = given(astral_mirror, lambda: _env("UV_ASTRAL_MIRROR_URL"))
        self.offline: bool = given(offline, lambda: truthy("UV_OFFLINE"))
        # Where to look for virtual environments (besides PYSHELF_VENV_DIRS).
        self.venv_dirs: list[Path] = venv_dirs if venv_dirs is not None else []
        self.link_bin: bool = given(link_bin, _link_bin_from_env)
        # uv's --compile-bytecode (UV_COMPILE_BYTECODE): installs compile their stdlib to .pyc.
        self.compile_bytecode: bool = given(compile_bytecode, lambda: truthy("UV_COMPILE_BYTECODE"))
        # Unpacked copies of uninstalled builds kept for instant reinstalls, up to this many
        # bytes in all (the most recently used kept). 0: an unpacked copy goes with its install.
        self.keep_unpacked: int = given(keep_unpacked, lambda: _env_size(KEEP_UNPACKED_ENV))
        self.parallel_downloads: int = given(
            parallel_downloads,
            lambda: min(MAX_PARALLEL, _env_int("UV_CONCURRENT_DOWNLOADS", default=4)),
        )  # uv's default is 50: more than pyshelf opens at once
        # Failures in a row, without progress, before a download gives up.
        self.retries: int = given(retries, lambda: _env_int("UV_HTTP_RETRIES", default=6))
        # Seconds a download may go without a byte, and may take to connect; uv's defaults.
        self.read_timeout: int = given(
            read_timeout, lambda: _env_int("UV_HTTP_TIMEOUT", "UV_REQUEST_TIMEOUT", default=30)
        )
        self.connect_timeout: int = given(
            connect_timeout, lambda: _env_int("UV_HTTP_CONNECT_TIMEOUT", default=10)
        )
        # Only this build of an implementation is installed or fetched (uv's
        # UV_PYTHON_CPYTHON_BUILD and its siblings).
        self.build_pins: dict[str, str] = given(build_pins, _build_pins)
        # Seconds to wait for the install dir's lock (uv's too) before giving up.
        self.lock_timeout: int = given(
            lock_timeout, lambda: _env_int("UV_LOCK_TIMEOUT", default=120)
        )
        # Bytes one archive may have when no size is known: an endless body stops there.
        self.max_download: int = given(max_download, lambda: _env_size(MAX_DOWNLOAD_ENV, 2 << 30))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"Settings({fields})"

    @property
    def state_dir(self) -> Path:
        """pyshelf's own files inside the cache; uv only looks at archive names there."""
        return self.cache_dir / ".pyshelf"

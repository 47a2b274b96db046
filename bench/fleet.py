"""A shelf that holds many installs, for the rows whose cost may grow with them: ``du``,
``list`` and the app's first frame. Used by ``bench/bench.py``.

Each install comes from a small archive of its own (about 2,300 small files and folders, as
many entries as a CPython 3.12 install holds), served from the bench's loopback mirror
and installed by one ``pyshelf install`` of all of them, so the install dir, the archive
cache and the unpacked copies are laid out exactly as pyshelf lays them out.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

from tests.pbs_fixtures import ArchiveSpec, _file, catalog_json, make_archive

FILES_PER_INSTALL = 2250  # with the archive's own members: ~2,300 entries, as in 3.12
BUILD = "20991230"


def versions(count: int) -> list[str]:
    """``count`` distinct CPython versions: 3.4.1, 3.4.2, ... then 3.5.1, ..."""
    pairs = itertools.product(range(4, 40), range(1, 9))
    return [f"3.{minor}.{patch}" for minor, patch in itertools.islice(pairs, count)]


def archives(www: Path, count: int) -> list[ArchiveSpec]:
    made = []
    for version in versions(count):
        mm = ".".join(version.split(".")[:2])
        extra = [
            _file(f"python/lib/python{mm}/pkg{n // 50}/mod{n}.py", b"x = 1\n" * (n % 40 + 1))
            for n in range(FILES_PER_INSTALL)
        ]
        # A build date of their own: the bench's other archives (the running interpreter's
        # version among them) keep their names.
        made.append(
            make_archive(
                www / BUILD, version=version, build=BUILD, payload_kib=128, extra_members=extra
            )
        )
    return made


@dataclass
class Fleet:
    """Where one shelf's installs and cache are, and the environment that points at them."""

    root: Path
    env: dict[str, str]
    count: int

    @property
    def installs(self) -> Path:
        return self.root / "installs"

    @property
    def cache(self) -> Path:
        return self.root / "cache"


def fleet_env(root: Path, catalog: Path) -> dict[str, str]:
    """Everything a command reads points inside ``root``: no other interpreter manager's
    folder (pyenv's, the user's uv installs) is measured or listed."""
    home = root / "home"
    return {
        "HOME": str(home),
        "PYENV_ROOT": str(home / ".pyenv"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_BIN_HOME": str(home / ".local" / "bin"),
        "TERM": "xterm-256color",
        "COLUMNS": "120",
        "LINES": "36",
        "UV_PYTHON_DOWNLOADS_JSON_URL": str(catalog),
        "UV_PYTHON_INSTALL_DIR": str(root / "installs"),
        "UV_PYTHON_BIN_DIR": str(root / "bin"),
        "UV_PYTHON_CACHE_DIR": str(root / "cache"),
        "UV_CACHE_DIR": str(root / "uv-cache"),
        "UV_NO_CONFIG": "1",
    }


def write_catalog(path: Path, specs: list[ArchiveSpec], server_url: str) -> Path:
    path.write_text(json.dumps(catalog_json(specs, server_url)))
    return path

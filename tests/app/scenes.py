"""A fixed shelf for snapshots and screenshots: same builds, states and sizes on every run.

Nothing here touches the network: the catalog points at a host that is never contacted
(every size is already known, every archive it needs is already in the cache). Paths live
under the home directory, which the app writes as ``~``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import WORLD_ARCHIVES
from tests.pbs_fixtures import catalog_json, make_archive
from tui.app.app import PyshelfApp
from tui.engine.host import Host
from tui.engine.jobs import JobEvent, JobKind, JobQueue, Phase
from tui.engine.settings import Settings
from tui.engine.shelf import Entry, Shelf

HOST = Host("linux", "x86_64", "gnu")
MIRROR = "https://mirror.example.invalid/python-build-standalone"
KIB = 1024
# Install sizes depend on the filesystem (directory sizes differ); a fixed figure per build
# keeps the pictures identical everywhere.
INSTALL_SIZES = {"cpython-3.12.7-linux-x86_64-gnu": 61_234 * KIB}


def build_shelf(root: Path, home: Path) -> Shelf:
    """Cache 3.12.7 (installed) and 3.11.9; 40% of 3.13.1t downloaded; the rest available."""
    specs = [make_archive(root / "www" / a.get("build", "20991231"), **a) for a in WORLD_ARCHIVES]
    catalog = root / "catalog.json"
    catalog.write_text(json.dumps(catalog_json(specs, MIRROR), indent=1))
    settings = Settings(
        cache_dir=home / ".cache" / "pyshelf",
        install_dir=home / ".local" / "share" / "uv" / "python",
        bin_dir=home / ".local" / "bin",
        catalog=str(catalog),
    )
    shelf = Shelf(settings, host=HOST)
    by_key = {s.key: s for s in specs}
    for build in shelf.builds():
        shelf.sizes.remember(build, by_key[build.key].size)
    entries = {e.key: e for e in shelf.entries()}
    for key in ("cpython-3.12.7-linux-x86_64-gnu", "cpython-3.11.9-linux-x86_64-gnu"):
        target = shelf.cache.path_for(entries[key].build)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(by_key[key].path, target)
    partial_key = "cpython-3.13.1+freethreaded-linux-x86_64-gnu"
    partial = shelf.cache.partial_for(entries[partial_key].build)
    partial.parent.mkdir(parents=True, exist_ok=True)
    data = by_key[partial_key].path.read_bytes()
    partial.write_bytes(data[: len(data) * 2 // 5])
    entries = {e.key: e for e in shelf.entries()}
    shelf.install(entries["cpython-3.12.7-linux-x86_64-gnu"])

    def measure(entry: Entry) -> int | None:
        if entry.installation is None:
            return None
        entry.install_size = INSTALL_SIZES.get(entry.key, 12_345 * KIB)
        return entry.install_size

    shelf.measure_install = measure  # type: ignore[method-assign]
    return shelf


def make_app(root: Path, home: Path) -> PyshelfApp:
    shelf = build_shelf(root, home)
    return PyshelfApp(shelf, JobQueue(shelf))


def jobs_in_flight(sizes: dict[str, int]) -> list[JobEvent]:
    """Synthetic queue snapshots: the same numbers every time, whatever the machine's speed."""
    k312 = "cpython-3.13.1-linux-x86_64-gnu"
    kft = "cpython-3.13.1+freethreaded-linux-x86_64-gnu"
    done = sizes[k312] * 2 // 5
    mib = 1024 * 1024
    return [
        JobEvent(9001, JobKind.FETCH, k312, Phase.DOWNLOADING, done, sizes[k312],
                 2.5 * mib, 12.0, None, None),
        JobEvent(9002, JobKind.INSTALL, kft, Phase.EXTRACTING, 7_000, 10_000,
                 None, 3.0, None, None),
        JobEvent(9003, JobKind.FETCH, "pypy-3.10.14-linux-x86_64-gnu", Phase.QUEUED, 0, None,
                 None, None, None, None),
        JobEvent(9004, JobKind.FETCH, "cpython-3.12.6-linux-x86_64-gnu", Phase.FAILED, 0, None,
                 None, None, "cannot reach mirror.example.invalid (name not resolved); check "
                 "the network, or use --offline to work from the cache", None),
    ]  # fmt: skip

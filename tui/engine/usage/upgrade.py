"""Patch upgrades that environments follow.

An upgrade installs the newest patch of an installed minor (same implementation, variant and
platform); the install moves uv's minor-version link, so every environment made through the
link (``uv venv --python 3.12``) runs the new patch at once. Environments made from the old
patch's own path are listed and can be repointed: their ``pyvenv.cfg`` and ``bin/python*``
links are rewritten, only after the new interpreter has started, and put back if they do not
lead into the new patch afterwards. No program an environment holds is run: an environment
found by a scan may be anyone's. The old patch can then go once nothing uses it.

The newest may be a rebuild of the installed patch itself (``tui.engine.shelf.rebuilds``): it
installs at the same path, in the old build's place, so every environment keeps running it
and there is no old install left to remove; the old build's archive stays cached.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tui.engine.errors import PyshelfError
from tui.engine.fsutil import atomic_write_bytes, read_small, scratch_token, within
from tui.engine.requests.resolve import Request, parse_request
from tui.engine.shelf import Entry
from tui.engine.usage.venvs import CFG, MAX_CFG_BYTES, Venv, link_through, load_venv

RUN_TIMEOUT = 30.0


@dataclass(slots=True)
class Upgrade:
    old: Entry  # the newest installed patch of its minor
    new: Entry  # the newest patch the catalog (or the cache) has for it
    via_link: list[Venv] = field(default_factory=list)  # follow the minor link (or a rebuild)
    pinned: list[Venv] = field(default_factory=list)  # use the old patch's own path

    @property
    def is_rebuild(self) -> bool:
        """The new build is of the same patch: it replaces the old one at the same path."""
        return self.new.key == self.old.key

    @property
    def arrow(self) -> str:
        """What changes: ``→ 3.12.7``, or ``+20991231 → +20991232`` for a rebuild."""
        if self.is_rebuild:
            return f"+{self.old.build.build} → +{self.new.build.build}"
        return f"→ {self.new.build.version}"

    def describe(self) -> str:
        if self.is_rebuild:
            return f"{self.old.key} +{self.old.build.build} -> +{self.new.build.build}"
        return f"{self.old.key} -> {self.new.build.version}"


def family(entry: Entry) -> tuple:
    """What an upgrade keeps: implementation, variant, platform and minor."""
    b = entry.build
    return (b.implementation, b.variant, b.os, b.arch, b.libc, b.major, b.minor)


def find_upgrades(
    entries: Iterable[Entry], requests: Sequence[str] = (), *, offline: bool = False
) -> list[Upgrade]:
    """One upgrade per installed minor that has a newer patch to install (``offline``: one
    whose archive is cached, since nothing can be downloaded)."""
    entries = list(entries)
    wanted = [parse_request(r) for r in requests]
    installed: dict[tuple, Entry] = {}
    for entry in entries:
        if entry.installation is None:
            continue
        if wanted and not any(_loosely(r, entry) for r in wanted):
            continue
        line = family(entry)
        if line not in installed or entry.build.sort_key() > installed[line].build.sort_key():
            installed[line] = entry
    upgrades = []
    for line, old in installed.items():
        pool = [
            e for e in entries
            if family(e) == line and (e.cached is not None or (e.available and not offline))
            and (old.build.is_prerelease or not e.build.is_prerelease)
        ]  # fmt: skip
        newest = max(pool, key=lambda e: e.build.sort_key(), default=None)
        if newest is not None and newest.build.sort_key() > old.build.sort_key():
            upgrades.append(Upgrade(old, newest))
    return sorted(upgrades, key=lambda u: u.old.build.sort_key(), reverse=True)


def _loosely(request: Request, entry: Entry) -> bool:
    """A request names the line to upgrade: ``3.12.7`` means the 3.12 line that patch is on."""
    return request._replace(patch=None, prerelease=None).matches(entry.build)


def sort_users(upgrades: Iterable[Upgrade], venvs: Iterable[Venv], install_root: Path) -> None:
    """Split each upgrade's environments into those that follow the link and those pinned."""
    venvs = list(venvs)
    for upgrade in upgrades:
        assert upgrade.old.installation is not None
        old = os.path.realpath(upgrade.old.installation.path)
        for venv in venvs:
            if not venv.uses(old):
                continue
            # A rebuild takes the old build's path: every environment keeps running it.
            linked = upgrade.is_rebuild or link_through(venv, install_root)
            (upgrade.via_link if linked else upgrade.pinned).append(venv)


_PROBE = "import sys; print('%d.%d.%d' % sys.version_info[:3])"


def _probe(python: Path) -> str:
    """The version ``python`` reports; PyshelfError if it does not start.

    Only ever the new install's interpreter, which pyshelf installed: a scanned
    environment's own ``bin/python`` may be any program, so it is never run.
    """
    try:
        done = subprocess.run(
            [os.fspath(python), "-E", "-c", _PROBE],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=RUN_TIMEOUT,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PyshelfError(f"{python} does not start: {exc}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise PyshelfError(f"{python} does not start: {last}")
    return done.stdout.strip().partition(" ")[0]


def _own_bin(venv: Path) -> Path:
    """``venv/bin``, refused (one line) when it is a link that leads out of the environment:
    the links there are someone else's, and rewriting them would change what is not ours."""
    path = venv / "bin"
    real, root = os.path.realpath(path), os.path.realpath(venv)
    if not within(real, root) or real == root:
        raise PyshelfError(f"{path} leads out of the environment (to {real}); not followed")
    return path


def repoint(venv: Venv, old: Path, new: Path, executable: str) -> None:
    """Move ``venv`` from the ``old`` install to the ``new`` one, or leave it as it was.

    The new interpreter (``new/bin/<executable>``) must start first. ``home``, ``executable``
    and ``base-executable`` in ``pyvenv.cfg`` and the ``bin/`` links that lead into ``old``
    are rewritten, inside the environment only (a ``bin/`` or ``pyvenv.cfg`` that is a link
    out of it is refused). The result is confirmed by reading it back, never by running the
    environment's ``bin/python``: if ``pyvenv.cfg`` and ``bin/python`` do not both lead into
    ``new``, everything is put back and the error says why.
    """
    new_version = _probe(new / "bin" / executable)
    undo = retarget(venv, old, new, new_version)
    try:
        _confirm(venv.path, old, new)
    except BaseException:
        undo()
        raise


def retarget(venv: Venv, old: Path, new: Path, version: str) -> Callable[[], None]:
    """Rewrite ``venv`` from the ``old`` install to the ``new`` one, running nothing: the
    paths in ``pyvenv.cfg`` (``home``, ``executable``, ``base-executable``) and the ``bin/``
    links that lead into ``old``, and its version, inside the environment only (a ``bin/`` or
    ``pyvenv.cfg`` that is a link out of it is refused). Returns what puts it all back; a
    failure midway puts it back itself."""
    cfg, bin_dir = venv.path / CFG, _own_bin(venv.path)
    if cfg.is_symlink():  # replacing it would not change what it points at, only hide it
        raise PyshelfError(f"{cfg} is a link; not followed")
    prefixes = sorted({os.path.abspath(old), os.path.realpath(old)}, key=len, reverse=True)

    def moved(value: str) -> str:
        for prefix in prefixes:
            if within(value, prefix):
                return os.fspath(new) + value[len(prefix) :]
        return value

    before = read_small(cfg, MAX_CFG_BYTES, follow=False)
    lines = []
    for line in before.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition("=")
        name = key.strip().lower()
        if sep and name in ("home", "executable", "base-executable"):
            line = f"{key}= {moved(value.strip())}"
        elif sep and name in ("version_info", "version"):
            line = f"{key}= {version}"
        lines.append(line)
    links: list[tuple[Path, str]] = []
    with contextlib.suppress(OSError), os.scandir(bin_dir) as found:
        for item in found:
            if item.is_symlink() and (target := os.readlink(item.path)) != moved(target):
                links.append((Path(item.path), target))

    def undo() -> None:
        atomic_write_bytes(cfg, before)
        for link, target in links:
            _relink(link, target)

    try:
        atomic_write_bytes(cfg, ("\n".join(lines) + "\n").encode())
        for link, target in links:
            _relink(link, moved(target))
    except BaseException:
        undo()
        raise
    return undo


def _confirm(path: Path, old: Path, new: Path) -> None:
    """That the environment at ``path`` now leads into ``new`` and no longer into ``old``,
    by what its ``pyvenv.cfg`` and ``bin/python`` say; PyshelfError naming what does not."""
    real_new, real_old = os.path.realpath(new), os.path.realpath(old)
    venv = load_venv(path)
    if venv is None or not venv.uses(real_new) or venv.uses(real_old):
        raise PyshelfError(f"{path / CFG} does not name {new} after the change")
    python = os.path.realpath(path / "bin" / "python")
    if not within(python, real_new) or not os.access(python, os.X_OK):
        raise PyshelfError(f"{path / 'bin' / 'python'} does not lead into {new} after the change")


def _relink(link: Path, target: str) -> None:
    temp = link.with_name(f".{link.name}.pyshelf-repoint-{scratch_token()}")
    os.symlink(target, temp)  # a new name: never follows or replaces what is there
    os.replace(temp, link)

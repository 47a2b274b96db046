"""Environments whose interpreter is gone, and how pyshelf can bring each back.

An interpreter removed anyway (``uninstall -yy``, or by another tool) leaves the environments
made from it dangling. Those made from an install in uv's layout name it in ``pyvenv.cfg``:
its directory (``python -m venv``), or uv's minor-version link to it (``uv venv`` writes the
link), so what they need is known. pyshelf reinstalls that build from the cache when its
archive or unpacked copy is there (offline), or from the catalog; through the link, any
patch of the minor will do (the one ``version_info`` names first). When no build of that
key is left, an environment made from the patch's own path can be repointed to the newest
install of the same minor instead; one made through the link follows the link, which a
repair of the install dir moves to the newest patch left.

Finding out runs nothing: ``pyvenv.cfg`` and links are read, never an environment's python.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tui.engine.fsutil import within
from tui.engine.installs.installdir import Installation
from tui.engine.installs.keys import MINOR_KEY, parse_key
from tui.engine.shelf import Entry, Shelf
from tui.engine.usage.upgrade import retarget
from tui.engine.usage.venvs import Venv

REINSTALL, RELINK, REPOINT = "reinstall", "relink", "repoint"
_MINOR = re.compile(r"^(?P<impl>[a-z]+)-(?P<minor>\d+\.\d+)(?P<rest>(?:\+[a-z+]+)?-.+)$")


@dataclass(slots=True)
class EnvState:
    venv: Venv
    broken: bool  # its base interpreter is gone
    interpreter: str | None  # the entry of the install dir it runs on: a key, or a minor link
    old_prefix: str | None  # that entry's path as the environment spells it
    needs: str | None  # what a broken one needs in the install dir: a key, or a minor link
    bring_back: Entry | None  # the build whose reinstall brings it back
    repoint_to: Installation | None  # the newest install of the same minor, when one is left

    @property
    def via_link(self) -> bool:
        """It reaches its interpreter through uv's minor-version link."""
        return self.interpreter is not None and parse_key(self.interpreter) is None

    @property
    def offline(self) -> bool:
        """The reinstall needs no network: the archive or an unpacked copy is cached."""
        return self.bring_back is not None and _in_cache(self.bring_back)

    @property
    def fix(self) -> str | None:
        """What ``envs --fix`` does for it: reinstall the build it needs, move the minor link
        it goes through to the newest patch left, repoint it (asked first), or nothing."""
        if not self.broken or self.needs is None:
            return None
        if self.via_link and self.repoint_to is not None:
            return RELINK
        if self.bring_back is not None:
            return REINSTALL
        return REPOINT if self.repoint_to is not None and not self.via_link else None


def _in_cache(entry: Entry) -> bool:
    return entry.cached is not None or entry.unpacked_size != 0


def _interpreter(venv: Venv, root: Path) -> tuple[str, str] | None:
    """The name of the install-dir entry ``venv`` runs on, and its path as ``venv`` spells
    it; None when its interpreter lies outside the install dir."""
    roots = {os.path.abspath(root), os.path.realpath(root)}
    for start in (venv.home, venv.executable):
        if not start:
            continue
        path = os.path.abspath(start)
        for base in roots:
            if within(path, base) and path != base:
                name = os.path.relpath(path, base).split(os.sep)[0]
                if parse_key(name) is not None or MINOR_KEY.match(name):
                    return name, os.path.join(base, name)
    return None


def _family(name: str) -> tuple | None:
    """What installs of the same minor share (implementation, variant, platform, minor), from
    an installation key or a minor link's name."""
    if (match := _MINOR.match(name)) is not None:
        name = f"{match['impl']}-{match['minor']}.0{match['rest']}"
    p = parse_key(name)
    return None if p is None else (p.implementation, p.variant, p.platform, p.major, p.minor)


def is_broken(venv: Venv) -> bool:
    """Its base interpreter is gone (``home`` or ``executable`` in pyvenv.cfg)."""
    if venv.home and not os.path.isdir(venv.home):
        return True
    return bool(venv.executable and not os.path.exists(venv.executable))


def survey(
    shelf: Shelf, venvs: Iterable[Venv], entries: Sequence[Entry] | None = None
) -> list[EnvState]:
    """The state of every environment in ``venvs``, and for a broken one what brings it back:
    a build of the key it needs with its archive or copy cached (the newest), else (online)
    the catalog's. Through a minor link any patch of the minor will do, the one its
    ``pyvenv.cfg`` names first."""
    if entries is None:
        entries = shelf.entries()
    installs = shelf.installs.installations()
    states = []
    for venv in venvs:
        found = _interpreter(venv, shelf.settings.install_dir)
        name, prefix = found if found is not None else (None, None)
        broken = is_broken(venv)
        family = _family(name) if broken and name else None
        state = EnvState(venv, broken, name, prefix, None, None, None)
        if name is not None and family is not None:
            state.needs = name
            state.bring_back = _bring_back(name, venv.version, family, entries, shelf)
            left = [i for i in installs if _family(i.key) == family and i.key != name]
            state.repoint_to = max(left, key=lambda i: i.parts.sort_key(), default=None)
        states.append(state)
    return states


def _bring_back(
    name: str, version: str | None, family: tuple, entries: Sequence[Entry], shelf: Shelf
) -> Entry | None:
    if parse_key(name) is not None:
        pool = [e for e in entries if e.key == name and e.installation is None]
    else:  # a minor link: its patch when the environment names one, else any of the minor
        pool = [e for e in entries if _family(e.key) == family and e.installation is None]
        exact = [e for e in pool if e.build.version == version]
        pool = exact if any(_in_cache(e) for e in exact) else pool
    cached = [e for e in pool if e.build.sha256 and _in_cache(e)]
    listed = [e for e in pool if e.available and not shelf.settings.offline]
    return max(cached or listed, key=lambda e: e.build.sort_key(), default=None)


def repoint_broken(state: EnvState) -> None:
    """Point a broken environment made from a patch's own path at the newest install of the
    same minor: ``pyvenv.cfg`` and the ``bin/`` links, nothing run (its python cannot start,
    and the new one need not). Put back when its ``bin/python`` then leads nowhere."""
    new, old = state.repoint_to, state.old_prefix
    assert new is not None and old is not None
    undo = retarget(state.venv, Path(old), new.path, new.version)
    python = state.venv.path / "bin" / "python"
    if os.path.lexists(python) and not os.path.exists(python):
        undo()
        from tui.engine.errors import PyshelfError

        raise PyshelfError(f"{python} leads nowhere after repointing; left as it was")

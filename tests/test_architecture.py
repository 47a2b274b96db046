"""ARCHITECTURE.md stays true: every package, module and file it names exists."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NAMED = re.compile(r"`((?:tui|tests)[/.][\w/.]*)`")


def test_every_path_and_module_the_map_names_exists() -> None:
    text = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")
    named = set(NAMED.findall(text))
    assert len(named) > 40, "the map names the layers and where a change goes"
    missing = []
    for name in sorted(named):
        if "/" in name:
            if not (REPO / name.rstrip("/")).exists():
                missing.append(name)
        elif importlib.util.find_spec(name) is None:
            missing.append(name)
    assert not missing, f"ARCHITECTURE.md names what is not there: {missing}"


def test_every_engine_package_is_on_the_map() -> None:
    text = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")
    engine = REPO / "tui" / "engine"
    packages = [p.name for p in engine.iterdir() if (p / "__init__.py").exists()]
    assert packages
    unmapped = [p for p in packages if f"`tui/engine/{p}/`" not in text]
    assert not unmapped, f"engine packages the map leaves out: {unmapped}"


def test_no_module_is_over_450_lines() -> None:
    long = {
        str(p.relative_to(REPO)): n
        for p in (REPO / "tui").rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450
    }
    assert not long, f"split these by what they hold: {long}"

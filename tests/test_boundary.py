"""The engine never imports Textual: checked at run time and by import-linter's contract."""

from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import tui.engine

REPO = Path(__file__).resolve().parent.parent


def test_engine_modules_load_without_textual() -> None:
    modules = [m.name for m in pkgutil.walk_packages(tui.engine.__path__, "tui.engine.")]
    assert {"tui.engine.archives.download", "tui.engine.usage.removal"} <= set(modules)
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "import tui.cli.main\n"
        "bad = [m for m in sys.modules\n"
        "       if m.split('.')[0] == 'textual' or m.startswith('tui.app')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_import_linter_contract_holds() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    command = str(lint) if lint.exists() else shutil.which("lint-imports")
    assert command, "import-linter is a test dependency"
    result = subprocess.run([command], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "KEPT" in result.stdout


def _layer_names(layer: str) -> set[str]:
    """``"usage | bundle"`` and ``"a : b"`` (siblings) name several modules."""
    return {name.strip() for part in layer.split("|") for name in part.split(":")}


def test_every_engine_module_is_in_a_layer_contract() -> None:
    """A new module or sub-package at the top of the engine must be given its place in the
    layers: one left out could import anything in the engine unchecked."""
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert config.get("unmatched_ignore_imports_alerting") == "error"
    declared: set[str] = set()
    for contract in config["contracts"]:
        if contract["type"] == "layers" and "tui.engine" in contract.get("containers", []):
            assert contract.get("exhaustive") is True, contract["name"]
            for layer in contract["layers"]:
                declared |= _layer_names(layer)
    children = {m.name for m in pkgutil.iter_modules(tui.engine.__path__)}
    assert children, "the engine has modules"
    assert children <= declared, f"not in any engine layer: {sorted(children - declared)}"
    assert declared <= children, f"layers name no such module: {sorted(declared - children)}"


def test_the_engine_imports_of_pyshelf_only_itself_its_version_and_format() -> None:
    """What the contracts allow the engine outside itself, as a list: a new top-level module
    of ``tui`` is not the engine's to import until this says so."""
    import grimp  # import-linter's graph

    graph = grimp.build_graph("tui")
    engine = graph.find_descendants("tui.engine") | {"tui.engine"}
    outside = {
        imported
        for module in engine
        for imported in graph.find_modules_directly_imported_by(module)
        if imported not in engine
    }
    assert outside <= {"tui", "tui.format"}, outside

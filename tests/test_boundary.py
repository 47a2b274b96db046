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

"""`--compile-bytecode` as uv has it: the stdlib compiled to plain .pyc; uv still sees it."""

from __future__ import annotations

import marshal
import os
import sys
from pathlib import Path

import pytest

from tests.conftest import World
from tests.uvtool import run_uv

TAG = sys.implementation.cache_tag  # the real archive holds the interpreter running the tests


def _stdlib(world: World) -> Path:
    spec = world.specs[-1]
    return world.root / "installs" / spec.key / "lib" / f"python{spec.major}.{spec.minor}"


def _pycs(stdlib: Path) -> list[Path]:
    return sorted(stdlib.rglob("__pycache__/*.pyc"))


def _code_filename(pyc: Path) -> str:
    return marshal.loads(pyc.read_bytes()[16:]).co_filename


def test_install_compiles_the_stdlib_and_uv_still_finds_it(real_world: World) -> None:
    spec = real_world.specs[-1]
    minor = f"{spec.major}.{spec.minor}"
    code, _, err = real_world.cli("install", minor, "--compile-bytecode")
    assert code == 0, err
    stdlib = _stdlib(real_world)
    sources = [p for p in stdlib.rglob("*.py") if "__pycache__" not in p.parts]
    pycs = _pycs(stdlib)
    # Every module compiles (uv ignores the few that do not; this stdlib has none).
    assert len(pycs) == len(sources) > 100
    assert (stdlib / "__pycache__" / f"os.{TAG}.pyc").is_file()
    assert (stdlib / "json" / "__pycache__" / f"decoder.{TAG}.pyc").is_file()
    assert not [p for p in pycs if ".opt-" in p.name]  # uv's level: the default only
    # Compiled in the temp tree before the swap, yet naming the final path in tracebacks.
    assert _code_filename(stdlib / "__pycache__" / f"os.{TAG}.pyc") == str(stdlib / "os.py")
    assert not list((real_world.root / "installs" / ".temp").glob("*"))
    env = {
        "UV_PYTHON_INSTALL_DIR": str(real_world.root / "installs"),
        "UV_PYTHON_DOWNLOADS": "never",
    }
    listed = run_uv("python", "list", "--only-installed", "--managed-python", env=env).stdout
    assert spec.key in listed
    found = run_uv("python", "find", "--managed-python", minor, env=env).stdout.strip()
    assert found.startswith(str(real_world.root / "installs"))


def test_without_the_option_nothing_is_compiled_and_a_reinstall_can(real_world: World) -> None:
    spec = real_world.specs[-1]
    code, _, err = real_world.cli("install", f"{spec.major}.{spec.minor}")
    assert code == 0, err
    assert _pycs(_stdlib(real_world)) == []
    code, _, err = real_world.cli("reinstall", spec.key, "--compile-bytecode")
    assert code == 0, err
    assert _pycs(_stdlib(real_world))


def test_an_installed_build_is_compiled_in_place_as_uv_does(
    real_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = real_world.specs[-1]
    minor = f"{spec.major}.{spec.minor}"
    assert real_world.cli("install", minor)[0] == 0
    monkeypatch.setenv("UV_COMPILE_BYTECODE", "1")
    code, _, err = real_world.cli("install", minor, "--no-compile-bytecode")
    assert code == 0, err
    assert _pycs(_stdlib(real_world)) == []  # the option wins over the variable
    code, _, err = real_world.cli("install", minor)  # already installed: compiled where it is
    assert code == 0, err
    pycs = _pycs(_stdlib(real_world))
    assert pycs
    assert _code_filename(_stdlib(real_world) / "__pycache__" / f"os.{TAG}.pyc") == str(
        _stdlib(real_world) / "os.py"
    )
    # The unpacked copy the install is linked from is left as it was unpacked.
    code, _, err = real_world.cli("verify")
    assert code == 0, err


def test_a_bad_invalidation_mode_fails_the_install_and_leaves_nothing(
    real_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = real_world.specs[-1]
    monkeypatch.setenv("PYC_INVALIDATION_MODE", "SOMETIMES")
    code, _, err = real_world.cli("install", f"{spec.major}.{spec.minor}", "--compile-bytecode")
    assert code == 1
    assert "PYC_INVALIDATION_MODE" in err and "Traceback" not in err
    assert not (real_world.root / "installs" / spec.key).exists()
    assert os.listdir(real_world.root / "installs" / ".temp") == []

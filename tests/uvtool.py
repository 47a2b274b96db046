"""Running the uv that the test dependencies installed, against a test world."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def uv_binary() -> str:
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.exists() else shutil.which("uv")
    assert found, "uv is a test dependency: pip install -e '.[test]'"
    return found


def run_uv(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "UV_NO_CONFIG": "1", **env}
    result = subprocess.run(
        [uv_binary(), *args], env=full_env, capture_output=True, text=True, timeout=120
    )
    if check and result.returncode != 0:
        raise AssertionError(f"uv {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result

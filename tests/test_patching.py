"""uv's post-install fix-ups of python-build-standalone's build-time settings."""

from __future__ import annotations

import ast
from pathlib import Path

from tui.engine.patching import patch_sysconfigdata

BUILD_VARS = {
    "prefix": "/install",
    "LIBDIR": "/install/lib",
    "INCLUDEPY": "/install/include/python3.12",
    "CONFIG_ARGS": "'--prefix=/install' '--with-installer'",
    "CC": "clang -pthread",
    "CXX": "clang++ -pthread",
    "LDSHARED": "clang -pthread -shared -L/install/lib",
    "LDCXXSHARED": "/usr/bin/x86_64-linux-gnu-g++ -shared",
    "AR": "/tools/llvm/bin/llvm-ar",
    "CFLAGS": "-O3 -fno-clang-hack",
    "Py_ENABLE_SHARED": 1,
}


def test_sysconfigdata_points_at_the_install_and_this_machines_compilers(tmp_path: Path) -> None:
    path = tmp_path / "_sysconfigdata__linux_x86_64-linux-gnu.py"
    path.write_text(
        "# system configuration generated and used by the sysconfig module\n"
        f"build_time_vars = {BUILD_VARS!r}\n"
    )
    assert patch_sysconfigdata(path, "/home/u/.local/share/uv/python/cpython-3.12.7")
    text = path.read_text()
    assert text.startswith("# system configuration generated")
    data = ast.literal_eval(text.partition("build_time_vars = ")[2])
    home = "/home/u/.local/share/uv/python/cpython-3.12.7"
    assert data["prefix"] == home and data["LIBDIR"] == f"{home}/lib"
    assert data["INCLUDEPY"] == f"{home}/include/python3.12"
    assert data["CONFIG_ARGS"] == "'--prefix=/install' '--with-installer'"  # not a path of ours
    assert data["CC"] == "cc -pthread" and data["CXX"] == "c++ -pthread"
    assert data["LDSHARED"] == f"cc -pthread -shared -L{home}/lib"
    assert data["LDCXXSHARED"] == "c++ -shared"
    assert data["AR"] == "ar"
    assert data["CFLAGS"] == "-O3 -fno-clang-hack"
    assert data["Py_ENABLE_SHARED"] == 1 and data["PYTHON_BUILD_STANDALONE"] == 1


def test_unknown_files_are_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "_sysconfigdata_x.py"
    path.write_text("something = 1\n")
    assert not patch_sysconfigdata(path, "/x")
    assert path.read_text() == "something = 1\n"

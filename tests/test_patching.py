"""uv's post-install fix-ups of python-build-standalone's build-time settings."""

from __future__ import annotations

import ast
from pathlib import Path

from tui.engine.installs.fixups import patch_pkgconfig, patch_sysconfigdata, patch_value

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
    # uv rewrites words that start with the prefix only: "-L/install/lib" stays, as in uv.
    assert data["LDSHARED"] == "cc -pthread -shared -L/install/lib"
    assert data["LDCXXSHARED"] == "c++ -shared"
    assert data["AR"] == "ar"
    assert data["CFLAGS"] == "-O3 -fno-clang-hack"
    assert data["Py_ENABLE_SHARED"] == 1 and data["PYTHON_BUILD_STANDALONE"] == 1


def test_unknown_files_are_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "_sysconfigdata_x.py"
    path.write_text("something = 1\n")
    assert not patch_sysconfigdata(path, "/x")
    assert path.read_text() == "something = 1\n"


PREFIX = "/opt/py/cpython-3.12.7-linux-x86_64-gnu"


def test_only_whole_paths_under_the_build_prefix_are_rewritten() -> None:
    # The bug this guards: "/usr/bin/install -c" became "/usr/bin<prefix> -c".
    assert patch_value("INSTALL", "/usr/bin/install -c", PREFIX) == "/usr/bin/install -c"
    assert patch_value("INSTALL_DATA", "${INSTALL} -m 644", PREFIX) == "${INSTALL} -m 644"
    assert patch_value("X", "/installer/bin /install-x /usr/install", PREFIX) == (
        "/installer/bin /install-x /usr/install"
    )
    assert patch_value("BINDIR", "/install/bin", PREFIX) == f"{PREFIX}/bin"
    assert patch_value("prefix", "/install", PREFIX) == PREFIX
    assert patch_value("LIBPC", " /install/lib/pkgconfig ", PREFIX) == f"{PREFIX}/lib/pkgconfig"
    assert patch_value("OPT", "-I/install/include -DNDEBUG", PREFIX) == (
        "-I/install/include -DNDEBUG"
    )


def test_values_with_nothing_to_fix_keep_their_whitespace() -> None:
    assert patch_value("CFLAGS", "-O3  -Wall\t-g ", PREFIX) == "-O3  -Wall\t-g "
    assert patch_value("Py_DEBUG", 0, PREFIX) == 0
    # A fixed value is re-joined with single spaces, as uv does.
    assert patch_value("LIBDIR", "/install/lib  ", PREFIX) == f"{PREFIX}/lib"


def test_compilers_and_sysroots_as_uv_replaces_them() -> None:
    assert patch_value("CC", "clang -pthread", PREFIX) == "cc -pthread"
    assert patch_value("BLDSHARED", "ccache clang -shared", PREFIX) == "ccache cc -shared"
    assert patch_value("CC", "/usr/bin/riscv64-linux-gnu-clang", PREFIX) == "cc"
    assert patch_value("CXX", "/usr/bin/riscv64-linux-gnu-clang++ -x", PREFIX) == "c++ -x"
    assert patch_value("LINKCC", "musl-clang", PREFIX) == "cc"
    assert patch_value("CFLAGS", "clang", PREFIX) == "clang"  # only the compiler variables
    assert patch_value("AR", "/tools/llvm/bin/llvm-ar", PREFIX) == "ar"
    assert patch_value("LDSHARED", "clang -bundle -isysroot /SDKs/MacOSX.sdk -arch arm64",
                       PREFIX) == "cc -bundle -arch arm64"  # fmt: skip


def test_pkgconfig_variables_equal_to_the_build_prefix(tmp_path: Path) -> None:
    pc = tmp_path / "python-3.12.pc"
    pc.write_bytes(b"prefix=/install\nhome=/install\nexec_prefix=/install\nlibdir=/install/lib\n")
    patch_pkgconfig(pc)
    # As uv: a name of letters only whose value is exactly the prefix ("exec_prefix" is not).
    assert pc.read_bytes() == (
        b"prefix=${pcfiledir}/../..\nhome=${pcfiledir}/../..\nexec_prefix=/install\n"
        b"libdir=/install/lib\n"
    )

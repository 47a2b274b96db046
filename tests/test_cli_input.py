"""Bad input on the command line: one line on stderr, never a traceback.

Exit statuses: 2 for input pyshelf cannot read at all (an option's value, a request that is
not a request, a variable in the environment), before anything runs, the app included; 1 for
input that reads fine but fails in the engine (a request no build matches, a catalog file that
is not there); 1 too for an unexpected error, which the last guard in ``main`` turns into one
line asking for a report.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from tui.cli.main import main
from tui.cli.parser import build_parser, command_in
from tui.engine.errors import RequestError
from tui.engine.resolve import parse_request
from tui.engine.settings import Settings

EXIT_FAILED, EXIT_USAGE = 1, 2
LONG_DIGITS = "1" * 5000  # past Python's int() limit of 4300 digits


def run(capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str) -> tuple[int, str]:
    """``main`` in-process, offline, every directory under tmp_path; (exit status, stderr)."""
    base = [
        "--offline",
        "--cache-dir", str(tmp_path / "cache"),
        "--install-dir", str(tmp_path / "installs"),
        "--bin-dir", str(tmp_path / "bin"),
    ]  # fmt: skip
    code = main([*base, *args])
    return code, capsys.readouterr().err


def one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


BAD_OPTIONS = [
    # --parallel: a whole number from 1 to 64; before the app opens, too (no command)
    (["--parallel", "-1"], "--parallel"),
    (["--parallel", "0", "list"], "--parallel"),
    (["list", "--parallel", "abc"], "--parallel"),
    (["list", "--parallel", "65"], "from 1 to 64"),
    (["list", "--parallel", "1e3"], "--parallel"),
    (["list", "--parallel", LONG_DIGITS], "--parallel"),
    # --older-than: days, 0 to a century
    (["prune", "--older-than", "nan"], "not a number of days"),
    (["prune", "--older-than", "inf"], "not a number of days"),
    (["prune", "--older-than", "-1"], "not a number of days"),
    (["prune", "--older-than", "abc"], "not a number of days"),
    (["prune", "--older-than", "1e308"], "at most 36500"),
    # --max-cache: a size up to 1024T
    (["prune", "--max-cache", "nan"], "not a size"),
    (["prune", "--max-cache=-1G"], "not a size"),
    (["prune", "--max-cache", "2X"], "not a size"),
    (["prune", "--max-cache", "9" * 400], "too large"),
    (["prune", "--max-cache", "1025T"], "too large"),
    # directories: empty would mean the current directory; NUL cannot be a path
    (["--install-dir", "", "list"], "--install-dir: needs a directory"),
    (["--cache-dir", "", "list"], "--cache-dir: needs a directory"),
    (["--bin-dir", " ", "list"], "--bin-dir: needs a directory"),
    (["--venv-dir", "", "du"], "--venv-dir: needs a directory"),
    (["--install-dir", "/tmp/a\0b", "list"], "NUL"),
    # catalog and mirrors
    (["--catalog", "", "list"], "--catalog"),
    (["--catalog", "ftp://example.invalid/d.json", "list"], "only http://"),
    (["--catalog", "cat\0.json", "list"], "control characters"),
    (["--mirror", "ftp://example.invalid/pbs", "list"], "only http://"),
    (["--mirror", "mirror.example.invalid", "list"], "needs an http://"),
    (["--mirror", "", "list"], "needs an http://"),
    (["--mirror", "http://", "list"], "no host"),
    (["--mirror", "https://example.invalid:port/", "list"], "not a URL"),
    (["--mirror", "http://example.invalid/a b", "list"], "spaces"),
    (["--pypy-mirror", "file://", "list"], "no path"),
    # requests: the engine's parse_request decides, and the CLI asks it before running
    (["list", LONG_DIGITS], "longer than 100 characters"),
    (["install", "3.12\0"], "cannot read"),
    (["fetch", "3.12", "banana"], "cannot read 'banana'"),
    (["uninstall", "cpython-3.12.7-linux-x86_64-gnu/../../etc"], "cannot read"),
    (["evict", "3.12+bogus"], "unknown variant"),
    (["list", "\u0663.\u0661\u0662"], "cannot read"),  # Arabic-Indic digits are not 3.12
    # argparse's own refusals, on one line too
    (["bogus"], "no command 'bogus' (see pyshelf --help)"),
    (["list", "--jsn"], "no option '--jsn'; did you mean '--json'?"),
    (["list", "3.12", "3.13"], "unrecognized arguments: 3.13"),
    # a mistyped command or option names the nearest (global options too, after the command)
    (["instal", "3.12"], "no command 'instal'; did you mean 'install'?"),
    (["--ofline", "list"], "no option '--ofline'; did you mean '--offline'?"),
    (["install", "--ofline", "3.12"], "no option '--ofline'; did you mean '--offline'?"),
    (["prune", "--dry-rn"], "no option '--dry-rn'; did you mean '--dry-run'?"),
    (["dir", "--cahce"], "no option '--cahce'; did you mean '--cache'?"),
    # options that read alone but not together
    (["install", "--default", "3.12", "3.13"], "--default takes one request"),
    (["install", "--default", "--no-bin", "3.12"], "--no-bin"),
    (["upgrade", "--json"], "needs --dry-run"),
    (["pin", "banana"], "cannot read 'banana'"),
    (["pin", ""], "name a version to pin"),
    (["reinstall"], "required"),  # install and fetch take the pins instead
]


@pytest.mark.parametrize(("args", "fragment"), BAD_OPTIONS, ids=lambda v: repr(v)[:40])
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], fragment: str
) -> None:
    code, err = run(capsys, tmp_path, *args)
    line = one_line(err)
    assert code == EXIT_USAGE, err
    assert line.startswith("pyshelf: error: ") and fragment in line, line
    assert not (tmp_path / "cache").exists()  # refused before anything ran


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("UV_PYTHON_INSTALL_MIRROR", "ftp://example.invalid/pbs"),
        ("UV_PYPY_INSTALL_MIRROR", "mirror.example.invalid"),
        ("UV_PYTHON_DOWNLOADS_JSON_URL", "gopher://example.invalid/d.json"),
        ("UV_ASTRAL_MIRROR_URL", "nexus.example.invalid/releases.astral.sh"),
        ("UV_LIBC", "glibc"),
        ("UV_HTTP_RETRIES", "many"),
        ("UV_HTTP_TIMEOUT", "0"),
        ("UV_CONCURRENT_DOWNLOADS", "-1"),
    ],
)
def test_a_bad_variable_is_refused_like_its_option(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
) -> None:
    monkeypatch.setenv(variable, value)
    code, err = run(capsys, tmp_path, "list")
    assert code == EXIT_USAGE and one_line(err).startswith(f"pyshelf: error: {variable}: ")


@pytest.mark.parametrize(
    "url",
    ["ftp://user:hunter2@example.invalid/pbs?key=hunter2", "user:hunter2@example.invalid",
     "https://hunter2@example.invalid:port/", "https://example.invalid/a b?token=hunter2"],
)  # fmt: skip
def test_a_refused_url_is_not_repeated_with_its_secrets(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
) -> None:
    code, err = run(capsys, tmp_path, "--mirror", url, "list")
    assert code == EXIT_USAGE and "***" in one_line(err) and "hunter2" not in err
    monkeypatch.setenv("UV_PYTHON_INSTALL_MIRROR", url)
    code, err = run(capsys, tmp_path, "list")
    assert code == EXIT_USAGE and "hunter2" not in one_line(err)


def test_an_option_overrides_a_bad_variable(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UV_PYTHON_INSTALL_MIRROR", "ftp://example.invalid/pbs")
    code, err = run(capsys, tmp_path, "--mirror", "https://mirror.invalid/pbs", "list", "3.12")
    assert code == 0, err


def test_empty_variables_count_as_unset_as_in_uv(
    monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    for name in (
        "UV_PYTHON_INSTALL_DIR", "UV_PYTHON_CACHE_DIR", "UV_PYTHON_BIN_DIR",
        "UV_PYTHON_DOWNLOADS_JSON_URL", "UV_PYTHON_INSTALL_MIRROR", "UV_PYPY_INSTALL_MIRROR",
        "UV_ASTRAL_MIRROR_URL",
    ):  # fmt: skip
        monkeypatch.setenv(name, "")
    s = Settings()
    assert s.astral_mirror is None
    assert s.install_dir == isolated_home / ".local" / "share" / "uv" / "python"
    assert s.cache_dir == isolated_home / ".cache" / "pyshelf"
    assert s.bin_dir == isolated_home / ".local" / "bin"  # XDG_DATA_HOME's sibling
    assert s.catalog is None and s.python_mirror is None and s.pypy_mirror is None


def test_good_values_still_pass(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.json"
    catalog.write_text("{}")
    code, err = run(
        capsys, tmp_path,
        "--parallel", "64", "--mirror", "file:///srv/pbs", "--pypy-mirror", "https://m.invalid/pp",
        "--catalog", f"file://{catalog}", "list", "cpython-3.12.7-linux-x86_64-gnu",
    )  # fmt: skip
    # Read as valid input: the only complaint is that an empty catalog has no such build.
    assert code == 1 and err.startswith("pyshelf: error: no build matches") and err.count("\n") == 1
    code, err = run(capsys, tmp_path, "prune", "--older-than", "0.5", "--max-cache", "1.5G")
    assert code == 0, err


def test_a_readable_request_that_matches_nothing_is_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, err = run(capsys, tmp_path, "uninstall", "3.12")
    assert code == EXIT_FAILED and one_line(err).startswith("pyshelf: error: no build matches")


@pytest.mark.parametrize(
    "text",
    [LONG_DIGITS, "3." + LONG_DIGITS, "3.12\0", "cpython-3.12.7-linux-x86_64-gnu\0", "a-b-c-d;e",
     "\u0663.\u0661\u0662", "x" * 101, "3.12+nope"],
    ids=lambda v: repr(v)[:20],
)  # fmt: skip
def test_the_engine_refuses_malformed_requests_with_its_own_error(text: str) -> None:
    with pytest.raises(RequestError) as caught:
        parse_request(text)
    message = str(caught.value)
    assert "\n" not in message and "\0" not in message and len(message) < 300


def test_from_a_shell_too(tmp_path: Path) -> None:
    """As a process: the app's parse error happens before Textual loads, and a 5000-digit
    request is one line (both were tracebacks)."""
    for args in (["--parallel", "-1"], ["--offline", "list", LONG_DIGITS]):
        done = subprocess.run(
            [sys.executable, "-c", "import sys, tui.cli.main as c; "
             "code = c.main(); assert 'textual' not in sys.modules; sys.exit(code)", *args],
            capture_output=True, text=True, timeout=60, cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == EXIT_USAGE, done.stderr
        assert one_line(done.stderr).startswith("pyshelf: error: argument ")


# -- the last guard ------------------------------------------------------------------------


def _break_listing(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> int:
        raise ValueError("a bug\nacross lines")

    monkeypatch.setattr("tui.cli.listing.cmd_list", broken)


def test_an_unexpected_error_is_one_line_asking_for_a_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYSHELF_DEBUG", raising=False)
    _break_listing(monkeypatch)
    code, err = run(capsys, tmp_path, "list")
    line = one_line(err)
    assert code == EXIT_FAILED
    assert line.startswith("pyshelf: error: unexpected ValueError: a bug across lines")
    assert "please report this" in line and "PYSHELF_DEBUG=1" in line


def test_pyshelf_debug_shows_the_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYSHELF_DEBUG", "1")
    _break_listing(monkeypatch)
    code, err = run(capsys, tmp_path, "list")
    assert code == EXIT_FAILED
    assert err.startswith("Traceback") and "in broken" in err
    last = err.splitlines()[-1]
    assert last.startswith("pyshelf: error: unexpected ValueError") and "report" in last


def test_the_app_entry_is_guarded_too(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYSHELF_DEBUG", raising=False)

    def crash(*args: object) -> None:
        raise RuntimeError("the app could not start")

    monkeypatch.setattr("tui.app.app.PyshelfApp", crash)  # before Textual runs anything
    code, err = run(capsys, tmp_path)
    assert code == EXIT_FAILED
    assert "unexpected RuntimeError: the app could not start" in one_line(err)


# -- a command builds its own parser ---------------------------------------------------------

_ARGVS = [
    ["--offline", "reinstall", "3.12", "--no-bin"],
    ["--cache-dir", "list", "install", "3.12"],  # "list" is the option's value here
    ["--catalog=c.json", "--venv-dir", "v", "list", "--all", "--offline"],
    ["prune", "--max-cache", "2G", "-yy"],
    ["dir", "--env"],
    ["upgrade", "--dry-run"],
]


@pytest.mark.parametrize("argv", _ARGVS)
def test_a_command_parses_alone_as_with_every_other(argv: list[str]) -> None:
    only = command_in(argv)
    assert only is not None and only in argv
    alone = build_parser(only=only).parse_args(argv)
    assert vars(alone) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize(
    "argv",
    [[], ["--help"], ["--version", "list"], ["--cach", "d", "list"], ["-h", "list"], ["lst"],
     ["--", "list"], ["--offline=1", "list"]],
)  # fmt: skip
def test_anything_unclear_builds_every_command(argv: list[str]) -> None:
    assert command_in(argv) is None


def test_every_command_is_known_to_the_scan() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name in sub.choices:
        assert command_in([name]) == name

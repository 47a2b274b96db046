"""The command line's grammar: pyshelf's options and commands as argparse reads them, and
which command a line of words runs (so only that command's parser is built)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

from tui import __version__
from tui.cli import options
from tui.cli.exit_codes import EXIT_USAGE
from tui.engine.jobspec import cli_specs


def _help_formatter(prog: str) -> argparse.HelpFormatter:
    """argparse's formatter, told the terminal's width as ``shutil.get_terminal_size`` finds
    it; left to itself argparse imports shutil (and bz2 and lzma with it) for every command,
    as it makes a formatter to check each argument."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return argparse.HelpFormatter(prog, width=(columns or 80) - 2)


class Parser(argparse.ArgumentParser):
    """argparse with its usage errors on one line (the usage itself is in ``--help``), and
    the nearest command named when one is mistyped."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _help_formatter)
        if sys.version_info >= (3, 14):  # its help is coloured by default; pyshelf's is plain
            kwargs.setdefault("color", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        # A suggestion is the hint already; anything else points at the command's help.
        hint = "" if message.endswith("?") else f" (see {self.prog} --help)"
        self.exit(EXIT_USAGE, f"pyshelf: error: {message}{hint}\n")

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        if isinstance(action, argparse._SubParsersAction) and value not in action.choices:
            nearest = _nearest(value, action.choices)
            raise argparse.ArgumentError(None, f"no command {value!r}{nearest}")
        super()._check_value(action, value)


def _nearest(word: str, known: Iterable[str]) -> str:
    """``; did you mean 'install'?`` when a known word is close to ``word``, else nothing."""
    import difflib  # only on a usage error

    close = difflib.get_close_matches(word, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def refuse_leftovers(
    parser: argparse.ArgumentParser, args: argparse.Namespace, extra: list[str]
) -> NoReturn:
    """What argparse left over, as a usage error from the command's own parser: an unknown
    option names the nearest one the command takes (global options included)."""
    command = getattr(args, "command", None)
    if command is not None:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[command]
    word = extra[0].partition("=")[0]
    if not word.startswith("-") or word == "-":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    options = [o for o in parser._option_string_actions if o.startswith("--") or len(word) == 2]
    parser.error(f"no option {word!r}{_nearest(word, options)}")


# The options every command takes, before or after its name (the later one wins):
# (flag, how argparse reads it, help).
_DIR: dict[str, Any] = {"type": options.directory, "metavar": "DIR"}
_URL: dict[str, Any] = {"type": options.mirror, "metavar": "URL"}
_GLOBAL_OPTIONS: list[tuple[str, dict[str, Any], str]] = [
    ("--cache-dir", _DIR, "archive cache (UV_PYTHON_CACHE_DIR)"),
    ("--install-dir", _DIR, "installs (UV_PYTHON_INSTALL_DIR)"),
    ("--bin-dir", _DIR, "executables (UV_PYTHON_BIN_DIR)"),
    ("--catalog", {"type": options.catalog, "metavar": "PATH_OR_URL"},
     "uv-format download list (UV_PYTHON_DOWNLOADS_JSON_URL)"),
    ("--mirror", _URL, "python-build-standalone mirror (UV_PYTHON_INSTALL_MIRROR)"),
    ("--pypy-mirror", _URL, "PyPy mirror (UV_PYPY_INSTALL_MIRROR)"),
    ("--venv-dir", {**_DIR, "action": "append"},
     "also look for virtual environments here (repeatable; PYSHELF_VENV_DIRS)"),
    ("--offline", {"action": "store_true"}, "never use the network (UV_OFFLINE)"),
    ("--parallel", {"type": options.parallel, "metavar": "N"},
     f"downloads at once (default 4 or UV_CONCURRENT_DOWNLOADS, at most {options.MAX_PARALLEL})"),
    ("--keep-unpacked", {"type": options.size, "metavar": "SIZE"}, "keep unpacked copies of "
     "uninstalled builds up to SIZE in all, e.g. 2G (PYSHELF_KEEP_UNPACKED; default 0: they go "
     "with the uninstall)"),
]  # fmt: skip


# Every command's --help ends with this instead of repeating the global options.
_GLOBAL_HINT = "Global options (--offline, --cache-dir, ...): see pyshelf --help."


def _global_options(*, listed: bool) -> Parser:
    """The global options as a parent parser; ``listed``: shown in --help (pyshelf's own),
    else accepted but left out (each command's)."""
    common = Parser(add_help=False)
    group = common.add_argument_group("global options")
    for flag, how, text in _GLOBAL_OPTIONS:
        # SUPPRESS: a subcommand's copy does not overwrite a value given before it.
        shown = text if listed else argparse.SUPPRESS
        group.add_argument(flag, default=argparse.SUPPRESS, help=shown, **how)
    return common


def _yes(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument("-y", "--yes", action="count", default=0, help=text)


def _compile_bytecode(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--compile-bytecode", action="store_true", default=None,
        help="compile the standard library to .pyc after installing, as uv does "
        "(default: UV_COMPILE_BYTECODE)",
    )  # fmt: skip
    group.add_argument(
        "--no-compile-bytecode", dest="compile_bytecode", action="store_false", default=None,
        help="do not, even when UV_COMPILE_BYTECODE is set",
    )  # fmt: skip


_JSON_LINES = "one JSON object per line on stdout (see the README for the fields)"


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``only``, a command's own parser and no other (each
    costs argparse a fraction of a millisecond, and they add up on every start)."""

    def wanted(name: str) -> bool:
        return only is None or name == only

    parser = Parser(
        prog="pyshelf",
        parents=[_global_options(listed=True)],
        description="Manage python-build-standalone interpreters beside uv. "
        "Without a command, opens the terminal app.",
    )
    parser.add_argument("--version", action="version", version=f"pyshelf {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    hidden = _global_options(listed=False)

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[hidden], help=text, epilog=_GLOBAL_HINT)

    def json_flag(p: argparse.ArgumentParser, text: str = _JSON_LINES) -> None:
        p.add_argument("--json", action="store_true", help=text)

    if wanted("list"):
        p = command("list", "builds for this machine and their state")
        p.add_argument(
            "request",
            nargs="?",
            type=options.request,
            help="only builds matching, e.g. 3.12 or pypy@3.10",
        )
        p.add_argument(
            "--all", "--all-versions", action="store_true", dest="all",
            help="every patch, not only the newest per minor",
        )  # fmt: skip
        p.add_argument("--all-platforms", action="store_true", help="every platform and arch")
        json_flag(p, "machine-readable rows")

    for job in cli_specs():  # one subcommand per job kind that has one (tui.engine.jobspec)
        if not wanted(job.verb):
            continue
        cli = job.cli
        assert cli is not None
        p = command(job.verb, cli.help)
        p.add_argument(
            "requests", nargs="*" if cli.pinned else "+", type=options.request,
            metavar="REQUEST",
            help="what UV_PYTHON or .python-version(s) pins when none is given"
            if cli.pinned else None,
        )  # fmt: skip
        if cli.no_bin:
            p.add_argument(
                "--no-bin", action="store_true", help="do not link python3.X into the bin dir"
            )
        if cli.default:
            p.add_argument(
                "--default", action="store_true",
                help="also link python3 and python (pypy3 and pypy, ...) in the bin dir, "
                "as uv python install --default does; one request only",
            )  # fmt: skip
            p.add_argument(
                "-f", "--force", action="store_true",
                help="replace executables in the bin dir that neither uv nor pyshelf made",
            )  # fmt: skip
        if cli.compile:
            _compile_bytecode(p)
        if cli.yes is not None:
            _yes(p, cli.yes)
        json_flag(p)

    if wanted("upgrade"):
        p = command("upgrade", "install the newest patch of installed minors; environments follow")
        p.add_argument("requests", nargs="*", type=options.request, metavar="REQUEST",
                       help="the minors to upgrade (default: every installed one)")  # fmt: skip
        p.add_argument("--dry-run", action="store_true", help="show the plan; change nothing")
        _compile_bytecode(p)
        _yes(p, "repoint environments and remove the old patch without asking")
        json_flag(p, "with --dry-run: the plan, one JSON object per upgrade on stdout")

    if wanted("pin"):
        p = command("pin", "pin a Python version here (.python-version), as uv python pin does")
        p.add_argument(
            "request", nargs="?", type=options.pin_request, metavar="REQUEST",
            help="the version to pin, written as uv writes it; none: show the pin in force",
        )  # fmt: skip
        p.add_argument(
            "--global", dest="glob", action="store_true",
            help="uv's user-level pin (~/.config/uv/.python-version) instead",
        )  # fmt: skip
        json_flag(p, "what was pinned, or the pin in force, as a JSON object")

    if wanted("envs"):
        p = command("envs", "environments and their interpreters")
        json_flag(p, "machine-readable rows")
        p.add_argument("--fix", action="store_true", help="bring broken environments back")
        _yes(p, "with --fix: repoint environments whose build is gone without asking")

    if wanted("export"):
        p = command("export", "write a bundle (a static mirror) of cached archives")
        p.add_argument("dir", type=options.directory, metavar="DIR", help="the bundle's folder")
        p.add_argument("requests", nargs="+", type=options.request, metavar="REQUEST")
        p.add_argument(
            "--all-platforms", action="store_true", help="requests may name any platform"
        )

    if wanted("import"):
        p = command("import", "add a bundle's or a file's archives")
        p.add_argument(
            "paths", nargs="+", type=options.directory, metavar="PATH",
            help="a bundle folder, or archives downloaded by hand",
        )  # fmt: skip

    if wanted("doctor"):
        p = command("doctor", "check the catalog, mirrors, proxies and certificates")
        json_flag(p, "one JSON object per check on stdout")

    if wanted("find"):
        p = command("find", "the installed interpreter uv would pick")
        p.add_argument("request", nargs="?", type=options.request, help="default: what is pinned")
        json_flag(p, "the interpreter as a JSON object")

    if wanted("dir"):
        p = command("dir", "where installs, links and the cache are")
        where = p.add_mutually_exclusive_group()
        where.add_argument("--bin", action="store_true", help="the python3.X links' folder")
        where.add_argument("--cache", action="store_true", help="the archive cache")
        where.add_argument(
            "--env", action="store_true", help="the line that points uv at this archive cache"
        )
        where.add_argument("--json", action="store_true", help="every folder as a JSON object")

    if wanted("prune"):
        p = command("prune", "free disk space: preview, confirm, remove")
        p.add_argument(
            "--keep-newest-patch", action="store_true",
            help="uninstall all but the newest patch of each minor version",
        )  # fmt: skip
        p.add_argument(
            "--evict-uninstalled", action="store_true",
            help="evict archives of versions that are not installed",
        )  # fmt: skip
        p.add_argument(
            "--older-than", type=options.days, metavar="DAYS",
            help="evict archives older than DAYS days",
        )  # fmt: skip
        p.add_argument(
            "--max-cache", type=options.size, metavar="SIZE",
            help="evict the oldest archives until the cache fits in SIZE (e.g. 2G, 500M)",
        )  # fmt: skip
        p.add_argument("--dry-run", action="store_true", help="show what would go; remove nothing")
        _yes(p, "remove without asking; twice (-yy) to also remove interpreters environments use")

    if wanted("verify"):
        p = command(
            "verify",
            "hash cached archives and unpacked copies in full; drop damaged unpacked copies",
        )
        p.add_argument("requests", nargs="*", metavar="REQUEST", help="default: the whole cache")
        json_flag(p, "one JSON object per archive or unpacked copy on stdout")

    if wanted("du"):
        p = command("du", "what every interpreter and archive costs")
        json_flag(p, "machine-readable groups and items")
    return parser


_COMMANDS = frozenset(
    {"list", "upgrade", "pin", "envs", "export", "import", "doctor", "find", "dir", "prune",
     "verify", "du"}
)  # fmt: skip


def command_in(argv: Sequence[str]) -> str | None:
    """The command ``argv`` runs, when it is plain to see: the first word that is neither an
    option nor a global option's value, with no help or version asked for before it. None
    otherwise (an abbreviated option, say): then every command's parser is built."""
    takes_value = {flag for flag, how, _ in _GLOBAL_OPTIONS if "type" in how}
    flags = {flag for flag, how, _ in _GLOBAL_OPTIONS if "type" not in how}
    words = iter(argv)
    for word in words:
        if word in takes_value:
            next(words, None)
        elif word.startswith("-"):
            if word not in flags and word.partition("=")[0] not in takes_value:
                return None  # --help, --version, an abbreviation, a mistake: argparse says
        else:
            known = word in _COMMANDS or any(word == s.verb for s in cli_specs())
            return word if known else None
    return None

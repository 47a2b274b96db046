"""``pyshelf`` on the command line: the same engine as the app, for scripts, Docker and CI."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from tui import __version__
from tui.cli import options
from tui.cli.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
from tui.engine.errors import PyshelfError, describe_error
from tui.engine.jobspec import JobKind, cli_specs, spec
from tui.engine.settings import Settings

# A command loads only what it runs: `--help`, `dir` and a usage error never pay for the
# catalog, the cache, the installs or the job queue (tests/test_startup.py).
if TYPE_CHECKING:
    from tui.engine.shelf import Entry, Shelf

DEBUG_ENV = "PYSHELF_DEBUG"  # set to 1: an unexpected error prints its traceback too


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


def _refuse_leftovers(
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


class UsageError(Exception):
    """A setting from the environment that pyshelf cannot use: exit 2, like a bad option."""


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


def _global_options(*, listed: bool) -> argparse.ArgumentParser:
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


# uv's variables for what the options set, checked by the options' own rules (an empty one
# is unset, as uv has it). Paths need no check: the OS refuses NULs in the environment.
_ENV_CHECKS: list[tuple[str, str, Callable[[str], object]]] = [
    ("catalog", "UV_PYTHON_DOWNLOADS_JSON_URL", options.catalog),
    ("mirror", "UV_PYTHON_INSTALL_MIRROR", options.mirror),
    ("pypy_mirror", "UV_PYPY_INSTALL_MIRROR", options.mirror),
    ("astral_mirror", "UV_ASTRAL_MIRROR_URL", options.mirror),
    ("libc", "UV_LIBC", options.libc),
    ("parallel", "UV_CONCURRENT_DOWNLOADS", options.positive),  # more than 64 is 64
    ("retries", "UV_HTTP_RETRIES", options.count),
    ("timeout", "UV_HTTP_TIMEOUT", options.positive),
    ("timeout", "UV_REQUEST_TIMEOUT", options.positive),
    ("connect_timeout", "UV_HTTP_CONNECT_TIMEOUT", options.positive),
    ("lock_timeout", "UV_LOCK_TIMEOUT", options.count),
]


def settings_from(args: argparse.Namespace) -> Settings:
    for option, name, check in _ENV_CHECKS:
        if getattr(args, option, None) is None and (value := os.environ.get(name)):
            try:
                check(value)
            except argparse.ArgumentTypeError as exc:
                raise UsageError(f"{name}: {exc}") from None
    settings = Settings()
    for option, attribute in [
        ("cache_dir", "cache_dir"), ("install_dir", "install_dir"), ("bin_dir", "bin_dir"),
        ("catalog", "catalog"), ("mirror", "python_mirror"), ("pypy_mirror", "pypy_mirror"),
        ("parallel", "parallel_downloads"), ("venv_dir", "venv_dirs"),
    ]:  # fmt: skip
        if (value := getattr(args, option, None)) is not None:
            setattr(settings, attribute, value)
    if (keep := getattr(args, "keep_unpacked", None)) is not None:
        settings.keep_unpacked = keep
    if getattr(args, "offline", False):
        settings.offline = True
    if getattr(args, "no_bin", False):
        settings.link_bin = False
    if (compiled := getattr(args, "compile_bytecode", None)) is not None:
        settings.compile_bytecode = compiled
    return settings


def _targets(shelf: Shelf, kind: JobKind, requests: Sequence[str]) -> list[Entry]:
    entries = shelf.entries()
    targets = []
    for request in requests:
        if kind == JobKind.UNINSTALL:
            entry = shelf.find(request, entries, want=lambda e: e.installation is not None)
        elif kind == JobKind.EVICT:
            entry = shelf.find(
                request, entries, want=lambda e: e.cached is not None or e.partial_bytes > 0
            )
        else:
            entry = shelf.resolve_available(request, entries)
            if kind in (JobKind.INSTALL, JobKind.REINSTALL):  # the build that is installed
                from tui.engine.rebuilds import installed_build

                note = _warn if kind == JobKind.INSTALL else None
                entry = installed_build(entry, entries, on_rebuild=note)
        if entry not in targets:
            targets.append(entry)
    return targets


def _repair(shelf: Shelf) -> None:
    """A command that writes the install dir first finishes whatever a killed one left half
    done, so what it resolves next is the tree as it should be. (A directory it cannot
    write is the jobs' to report, per build.)"""
    with contextlib.suppress(OSError):
        for warning in shelf.installs.repair():
            print(f"pyshelf: warning: {warning}", file=sys.stderr)


def cmd_jobs(shelf: Shelf, kind: JobKind, requests: Sequence[str], args: argparse.Namespace) -> int:
    from tui.cli.reporter import Interrupted, run_jobs

    default, force = getattr(args, "default", False), getattr(args, "force", False)
    if default and len(requests) != 1:  # only pins can name several here (see _check_usage)
        raise PyshelfError(f"--default takes one request; the pins name {len(requests)}")
    if kind in (JobKind.INSTALL, JobKind.REINSTALL, JobKind.UNINSTALL):
        _repair(shelf)  # says what it cannot fix, once: the jobs' own repairs do not repeat it
    targets = _targets(shelf, kind, requests)
    if kind == JobKind.REINSTALL:
        from tui.cli.reinstall import keeps_work  # files added to an install are named first

        if not keeps_work(shelf, targets, yes=getattr(args, "yes", 0)):
            return EXIT_FAILED
    links_after = (default or force) and shelf.settings.link_bin
    if links_after:
        shelf.settings.link_bin = False  # made once installed, by uv's rules (tui.cli.bins)
    try:
        jobs = run_jobs(shelf, kind, targets)
    except Interrupted:
        return EXIT_INTERRUPTED
    failed = any(j.error for j in jobs)
    links: dict[str, list[str]] = {}
    if links_after:
        from tui.cli.bins import link_bin

        links = link_bin(shelf, jobs, default=default, force=force)
    if args.json:
        from tui.cli.json_lines import emit, job_record

        for job in jobs:
            emit(job_record(job) | ({"links": links[job.key]} if job.key in links else {}))
    return EXIT_FAILED if failed else 0


def _pinned(requests: Sequence[str]) -> Sequence[str]:
    if requests:
        return requests
    from tui.engine.pins import find_pins

    pins = find_pins()
    if pins is None:
        raise PyshelfError(
            "name a version (e.g. 3.12), or pin one with UV_PYTHON or a .python-version file"
        )
    print(f"pyshelf: using {pins.describe()}", file=sys.stderr)
    return pins.requests


def cmd_remove(shelf: Shelf, kind: JobKind, args: argparse.Namespace) -> int:
    """uninstall and evict: a removal plan, like prune's and the app's (see cleanup_cli)."""
    if kind == JobKind.UNINSTALL:
        _repair(shelf)
    targets = _targets(shelf, kind, args.requests)
    from tui.cli import cleanup as cleanup_cli

    return cleanup_cli.remove_builds(shelf, kind, targets, yes=args.yes, as_json=args.json)


def cmd_verify(shelf: Shelf, args: argparse.Namespace) -> int:
    from tui.engine.verify import verify
    from tui.format import counted

    targets = None
    if args.requests:
        entries = shelf.entries(all_platforms=True)
        targets = []
        for request in args.requests:
            entry = shelf.find(
                request,
                entries,
                want=lambda e: e.cached is not None or shelf.unpacked_tree(e) is not None,
            )
            if entry not in targets:
                targets.append(entry)
    # With --json, stdout holds the records alone; the problem lines go to stderr.
    say = (lambda line: print(line, file=sys.stderr)) if args.json else print
    result = verify(shelf, targets, on_line=say)
    if args.json:
        from tui.cli.json_lines import emit

        for item in result.checked:
            emit({
                "kind": item.kind, "path": str(item.path), "name": item.key,
                "ok": not item.problems, "problems": list(item.problems), "repair": item.repair,
            })  # fmt: skip
    archives = counted(result.archives, "archive")
    copies = counted(result.copies, "unpacked copy", "unpacked copies")
    if result.ok:
        print(f"verified {archives} and {copies}: all match", file=sys.stderr)
        return 0
    problems = counted(len(result.problems), "problem")
    print(f"verified {archives} and {copies}: {problems}", file=sys.stderr)
    return EXIT_FAILED


def _check_usage(args: argparse.Namespace, settings: Settings) -> None:
    """Options that read fine alone but not together: exit 2 before anything runs."""
    if getattr(args, "default", False):
        if not settings.link_bin:
            raise UsageError(
                "--default makes links in the bin dir; --no-bin (or UV_PYTHON_INSTALL_BIN=0) "
                "says to make none"
            )
        if len(args.requests) > 1:
            raise UsageError("--default takes one request, as uv's does")
    if args.command == "upgrade" and args.json and not args.dry_run:
        raise UsageError("upgrade --json needs --dry-run (an upgrade asks as it goes)")


def _warn(message: str) -> None:
    print(f"pyshelf: warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; every way out is an exit status and at most a line on stderr."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("pyshelf: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # the last guard: a bug reads as one line, not a traceback
        report_unexpected(exc)
        return EXIT_FAILED


def run() -> NoReturn:
    """The ``pyshelf`` executable: ``main``, then a quick exit.

    Python's own teardown frees every module's objects one by one, which costs a command of
    a tenth of a second about a tenth more. pyshelf needs none of it once the exit handlers
    have run and the standard streams are flushed: the kernel closes files and releases
    locks. Anything unusual (another thread still running, a stream that cannot be flushed)
    takes the ordinary way out.
    """
    code = main()
    if threading.active_count() == 1:  # only this thread: nothing would be waited for
        try:
            sys.stdout.flush()
        except BrokenPipeError:  # the reader left before the last lines: as main() answers it
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            code = code or EXIT_FAILED
        except (OSError, ValueError):
            sys.exit(code)  # Python reports it its own way
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            sys.exit(code)
        import atexit

        atexit._run_exitfuncs()
        os._exit(code)
    sys.exit(code)


def report_unexpected(exc: BaseException) -> None:
    """One line naming the error; the traceback above it only when PYSHELF_DEBUG is set."""
    from tui.engine.redact import redact_text

    debug = os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "on")
    if debug:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    message = redact_text(" ".join(str(exc).split()))  # one line, no credentials
    if len(message) > 200:
        message = message[:200] + "…"
    what = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    hint = "" if debug else f" (set {DEBUG_ENV}=1 for the traceback)"
    print(f"pyshelf: error: unexpected {what} — please report this{hint}", file=sys.stderr)


def _main(argv: Sequence[str] | None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    try:
        # No words: the app, with every option unset; no parser is built just to say so.
        # Otherwise only the parser of the command the words name (all of them when unsure).
        if words:
            parser = build_parser(only=command_in(words))
            args, extra = parser.parse_known_args(words)
            if extra:
                _refuse_leftovers(parser, args, extra)
        else:
            args = argparse.Namespace(command=None)
        settings = settings_from(args)
        _check_usage(args, settings)
    except SystemExit as exc:  # --help, --version, or a usage error argparse printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except (UsageError, PyshelfError) as exc:  # PyshelfError: a bad PYSHELF_* variable
        print(f"pyshelf: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.command is None:
            from tui.app.main import run_app  # Textual loads only when the app is wanted

            return run_app(settings)
        from tui.cli import info as info_cli

        if args.command == "dir":  # where things are: nothing to load
            return info_cli.cmd_dir(settings, args)
        if args.command == "pin":  # a file that names a request: no catalog, no installs
            from tui.cli.pin import cmd_pin

            return cmd_pin(args)
        # Ctrl-C raises KeyboardInterrupt in the main thread; downloads keep their partial files.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if args.command in ("install", "fetch") and not settings.offline:
            from tui.engine.archives.http import import_in_background

            import_in_background()  # while the shelf, the catalog and the plan load
        from tui.engine.shelf import Shelf

        shelf = Shelf(settings, on_warning=_warn)
        if args.command == "list":
            from tui.cli.listing import cmd_list

            return cmd_list(shelf, args)
        if args.command in ("export", "import"):
            from tui.cli import bundle as bundle_cli

            run = bundle_cli.cmd_export if args.command == "export" else bundle_cli.cmd_import
            return run(shelf, args)
        if args.command == "upgrade":
            from tui.cli.upgrade import cmd_upgrade

            return cmd_upgrade(shelf, args)
        if args.command == "envs":
            from tui.cli.envs import cmd_envs

            return cmd_envs(shelf, args)
        if args.command == "doctor":
            return info_cli.cmd_doctor(shelf, args)
        if args.command == "find":
            return info_cli.cmd_find(shelf, args)
        if args.command == "verify":
            return cmd_verify(shelf, args)
        if args.command in ("prune", "du"):
            from tui.cli import cleanup as cleanup_cli

            run = cleanup_cli.cmd_prune if args.command == "prune" else cleanup_cli.cmd_du
            return run(shelf, args)
        job = spec(JobKind(args.command))
        if job.destroys:  # a removal plan, like prune's and the app's
            return cmd_remove(shelf, job.kind, args)
        assert job.cli is not None
        requests = _pinned(args.requests) if job.cli.pinned else args.requests
        return cmd_jobs(shelf, job.kind, requests, args)
    except PyshelfError as exc:
        print(f"pyshelf: error: {describe_error(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        # `pyshelf list | head`: the reader left; stop quietly, like other Unix tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except OSError as exc:
        print(f"pyshelf: error: {describe_error(exc)}", file=sys.stderr)
        return EXIT_FAILED

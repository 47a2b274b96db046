"""``pyshelf`` on the command line: the same engine as the app, for scripts, Docker and CI."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

from tui import __version__, options
from tui.engine.errors import PyshelfError, describe_error
from tui.engine.jobs import JobKind, JobQueue
from tui.engine.jobspec import cli_specs, spec
from tui.engine.listing import default_view, filter_request
from tui.engine.pins import find_pins
from tui.engine.redact import redact_text, redact_url
from tui.engine.resolve import no_match_message
from tui.engine.settings import Settings
from tui.engine.shelf import Entry, Shelf
from tui.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
from tui.format import human_size
from tui.reporter import Reporter

if TYPE_CHECKING:
    from tui.engine.usage.ledger import Cost

DEBUG_ENV = "PYSHELF_DEBUG"  # set to 1: an unexpected error prints its traceback too


class Parser(argparse.ArgumentParser):
    """argparse with its usage errors on one line (the usage itself is in ``--help``)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"pyshelf: error: {message} (see {self.prog} --help)\n")


class UsageError(Exception):
    """A setting from the environment that pyshelf cannot use: exit 2, like a bad option."""


def _global_options() -> argparse.ArgumentParser:
    common = Parser(add_help=False)
    group = common.add_argument_group("global options")
    sup = argparse.SUPPRESS  # so a subcommand's copy does not overwrite a value given before it
    group.add_argument(
        "--cache-dir",
        type=options.directory,
        default=sup,
        metavar="DIR",
        help="archive cache (UV_PYTHON_CACHE_DIR)",
    )
    group.add_argument(
        "--install-dir",
        type=options.directory,
        default=sup,
        metavar="DIR",
        help="installs (UV_PYTHON_INSTALL_DIR)",
    )
    group.add_argument(
        "--bin-dir",
        type=options.directory,
        default=sup,
        metavar="DIR",
        help="executables (UV_PYTHON_BIN_DIR)",
    )
    group.add_argument(
        "--catalog",
        type=options.catalog,
        default=sup,
        metavar="PATH_OR_URL",
        help="uv-format download list (UV_PYTHON_DOWNLOADS_JSON_URL)",
    )
    group.add_argument(
        "--mirror",
        type=options.mirror,
        default=sup,
        metavar="URL",
        help="python-build-standalone mirror (UV_PYTHON_INSTALL_MIRROR)",
    )
    group.add_argument(
        "--pypy-mirror",
        type=options.mirror,
        default=sup,
        metavar="URL",
        help="PyPy mirror (UV_PYPY_INSTALL_MIRROR)",
    )
    group.add_argument(
        "--venv-dir", type=options.directory, action="append", default=sup, metavar="DIR",
        help="also look for virtual environments here (repeatable; PYSHELF_VENV_DIRS)",
    )  # fmt: skip
    group.add_argument(
        "--offline", action="store_true", default=sup, help="never use the network (UV_OFFLINE)"
    )
    group.add_argument(
        "--parallel",
        type=options.parallel,
        default=sup,
        metavar="N",
        help=f"downloads at once (default 4, at most {options.MAX_PARALLEL})",
    )
    group.add_argument(
        "--keep-unpacked", type=options.size, default=sup, metavar="SIZE",
        help="keep unpacked copies of uninstalled builds up to SIZE in all, e.g. 2G "
        "(PYSHELF_KEEP_UNPACKED; default 0: they go with the uninstall)",
    )  # fmt: skip
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _global_options()
    parser = Parser(
        prog="pyshelf",
        parents=[common],
        description="Manage python-build-standalone interpreters beside uv. "
        "Without a command, opens the terminal app.",
    )
    parser.add_argument("--version", action="version", version=f"pyshelf {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", parents=[common], help="builds for this machine and their state")
    p.add_argument(
        "request",
        nargs="?",
        type=options.request,
        help="only builds matching, e.g. 3.12 or pypy@3.10",
    )
    p.add_argument(
        "--all", action="store_true", help="every version, not only the newest per minor"
    )
    p.add_argument("--all-platforms", action="store_true", help="builds for every platform")
    p.add_argument("--json", action="store_true", help="machine-readable rows")

    for job in cli_specs():  # one subcommand per job kind that has one (tui.engine.jobspec)
        cli = job.cli
        assert cli is not None
        p = sub.add_parser(job.verb, parents=[common], help=cli.help)
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
        if cli.yes is not None:
            p.add_argument("-y", "--yes", action="count", default=0, help=cli.yes)

    p = sub.add_parser("find", parents=[common], help="the installed interpreter uv would pick")
    p.add_argument("request", nargs="?", type=options.request, help="default: what is pinned")

    p = sub.add_parser("dir", parents=[common], help="where installs, links and the cache are")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--bin", action="store_true", help="the python3.X links' folder")
    where.add_argument("--cache", action="store_true", help="the archive cache")
    where.add_argument(
        "--env", action="store_true", help="the line that points uv at this archive cache"
    )

    p = sub.add_parser("prune", parents=[common], help="free disk space: preview, confirm, remove")
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
    p.add_argument(
        "-y", "--yes", action="count", default=0,
        help="remove without asking; twice (-yy) to also remove interpreters environments use",
    )  # fmt: skip

    p = sub.add_parser(
        "verify", parents=[common],
        help="hash cached archives and unpacked copies in full; drop damaged unpacked copies",
    )  # fmt: skip
    p.add_argument("requests", nargs="*", metavar="REQUEST", help="default: the whole cache")

    p = sub.add_parser("du", parents=[common], help="what every interpreter and archive costs")
    p.add_argument("--json", action="store_true", help="machine-readable groups and items")
    return parser


# uv's variables for what the options set, checked by the options' own rules (an empty one
# is unset, as uv has it). Paths need no check: the OS refuses NULs in the environment.
_ENV_CHECKS: list[tuple[str, str, Callable[[str], object]]] = [
    ("catalog", "UV_PYTHON_DOWNLOADS_JSON_URL", options.catalog),
    ("mirror", "UV_PYTHON_INSTALL_MIRROR", options.mirror),
    ("pypy_mirror", "UV_PYPY_INSTALL_MIRROR", options.mirror),
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
    return settings


def _row(shelf: Shelf, entry: Entry, cost: Cost) -> dict[str, object]:
    from tui.engine.usage.ledger import evict_frees, uninstall_frees

    b = entry.build
    return {
        "key": b.key,
        "version": b.version,
        "implementation": b.implementation,
        "variant": b.variant,
        "build": b.build or None,
        "platform": b.platform,
        "url": redact_url(b.url) if b.url else None,
        "sha256": b.sha256,
        "available": entry.available,
        "cached": entry.cached is not None,
        "installed": entry.installation is not None,
        "download_size": entry.download_size,
        "partial_size": entry.partial_bytes or None,
        "cache_path": str(entry.cached.path) if entry.cached else None,
        "cache_size": entry.cache_size,
        "archive_size": entry.cached.size if entry.cached else None,
        "unpacked_size": entry.unpacked_size or None,
        "unpacked_shared": cost.shared or None,
        "install_path": str(entry.installation.path) if entry.installation else None,
        "install_size": entry.install_size,
        "uninstall_frees": uninstall_frees(shelf, [entry]) if entry.installation else None,
        "evict_frees": evict_frees(shelf, [entry]) if entry.in_cache else None,
    }


def cmd_list(shelf: Shelf, args: argparse.Namespace) -> int:
    from tui.engine.usage.ledger import Ledger  # the disk walk: only the commands that show sizes

    entries = shelf.entries(all_platforms=args.all_platforms)
    if args.request:
        rows = filter_request(entries, args.request)
    else:
        rows = entries if args.all else default_view(entries)
    shelf.probe_download_sizes(rows)
    ledger = Ledger.measure(shelf)
    assert ledger is not None  # no cancel event: never stopped
    ledger.apply(shelf, rows)
    if args.json:
        costs = ledger.costs(shelf, rows)
        json.dump(
            [_row(shelf, e, c) for e, c in zip(rows, costs, strict=True)], sys.stdout, indent=2
        )
        sys.stdout.write("\n")
        return 0
    if not rows and args.request:  # a request that matches nothing is an error, as in uv
        pool = [e.build for e in entries]
        print(f"pyshelf: error: {no_match_message(args.request, pool)}", file=sys.stderr)
        return EXIT_FAILED
    if not rows:
        print("no builds listed; try --all-platforms or --catalog", file=sys.stderr)
        return 0
    table = [("KEY", "STATE", "DOWNLOAD", "CACHED", "INSTALLED")]
    for e in rows:
        state = e.state
        if e.state == "partial":  # how far a resumed download will start from
            state = f"partial ({human_size(e.partial_bytes)} of {human_size(e.download_size)})"
        table.append((
            e.key, state, human_size(e.download_size),
            human_size(e.cache_size) if e.in_cache else "-",
            human_size(e.install_size) if e.installation else "-",
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


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


def cmd_jobs(shelf: Shelf, kind: JobKind, requests: Sequence[str]) -> int:
    if kind in (JobKind.INSTALL, JobKind.REINSTALL):
        _repair(shelf)
    targets = _targets(shelf, kind, requests)
    queue = JobQueue(shelf)
    reporter = Reporter(sys.stderr)
    queue.subscribe(reporter.on_event)
    jobs = [queue.submit(kind, entry) for entry in targets]
    try:
        queue.wait(jobs)
    except KeyboardInterrupt:
        for job in jobs:
            job.cancel()
        queue.close()
        reporter.interrupted()
        return EXIT_INTERRUPTED
    queue.close(cancel=False)
    reporter.finish()
    failed = [j for j in jobs if j.error]
    return EXIT_FAILED if failed else 0


def _pinned(requests: Sequence[str]) -> Sequence[str]:
    if requests:
        return requests
    pins = find_pins()
    if pins is None:
        raise PyshelfError(
            "name a version (e.g. 3.12), or pin one with UV_PYTHON or a .python-version file"
        )
    print(f"pyshelf: using {pins.describe()}", file=sys.stderr)
    return pins.requests


def cmd_find(shelf: Shelf, request: str | None) -> int:
    """Print the managed interpreter uv would pick for ``request`` (or the pin)."""
    if request is None:
        pins = find_pins()
        request = pins.requests[0] if pins else "default"
    entry = shelf.find(request, shelf.entries(), want=lambda e: e.installation is not None)
    assert entry.installation is not None
    print(entry.installation.executable)
    return 0


def cmd_dir(settings: Settings, args: argparse.Namespace) -> int:
    if args.env:
        print(f"export UV_PYTHON_CACHE_DIR={shlex.quote(str(settings.cache_dir))}")
    else:
        print(
            settings.bin_dir
            if args.bin
            else settings.cache_dir
            if args.cache
            else settings.install_dir
        )
    return 0


def cmd_remove(shelf: Shelf, kind: JobKind, args: argparse.Namespace) -> int:
    """uninstall and evict: a removal plan, like prune's and the app's (see cleanup_cli)."""
    if kind == JobKind.UNINSTALL:
        _repair(shelf)
    targets = _targets(shelf, kind, args.requests)
    from tui import cleanup_cli

    return cleanup_cli.remove_builds(shelf, kind, targets, yes=args.yes)


def cmd_verify(shelf: Shelf, requests: Sequence[str]) -> int:
    from tui.engine.verify import verify

    targets = None
    if requests:
        entries = shelf.entries(all_platforms=True)
        targets = []
        for request in requests:
            entry = shelf.find(
                request,
                entries,
                want=lambda e: e.cached is not None or shelf.unpacked_tree(e) is not None,
            )
            if entry not in targets:
                targets.append(entry)
    result = verify(shelf, targets, on_line=print)
    checked = f"{result.archives} archives and {result.copies} unpacked copies"
    if result.ok:
        print(f"verified {checked}: all match", file=sys.stderr)
        return 0
    count = len(result.problems)
    print(f"verified {checked}: {count} problem{'s' if count > 1 else ''}", file=sys.stderr)
    return EXIT_FAILED


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


def report_unexpected(exc: BaseException) -> None:
    """One line naming the error; the traceback above it only when PYSHELF_DEBUG is set."""
    debug = os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "on")
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    message = redact_text(" ".join(str(exc).split()))  # one line, no credentials
    if len(message) > 200:
        message = message[:200] + "…"
    what = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    hint = "" if debug else f" (set {DEBUG_ENV}=1 for the traceback)"
    print(f"pyshelf: error: unexpected {what} — please report this{hint}", file=sys.stderr)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        settings = settings_from(args)
    except SystemExit as exc:  # --help, --version, or a usage error argparse printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except (UsageError, PyshelfError) as exc:  # PyshelfError: a bad PYSHELF_* variable
        print(f"pyshelf: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.command is None:
            from tui.app.main import run_app  # Textual loads only when the app is wanted

            return run_app(settings)
        # Ctrl-C raises KeyboardInterrupt in the main thread; downloads keep their partial files.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        shelf = Shelf(settings, on_warning=_warn)
        if args.command == "list":
            return cmd_list(shelf, args)
        if args.command == "find":
            return cmd_find(shelf, args.request)
        if args.command == "dir":
            return cmd_dir(shelf.settings, args)
        if args.command == "verify":
            return cmd_verify(shelf, args.requests)
        if args.command in ("prune", "du"):
            from tui import cleanup_cli

            run = cleanup_cli.cmd_prune if args.command == "prune" else cleanup_cli.cmd_du
            return run(shelf, args)
        job = spec(JobKind(args.command))
        if job.destroys:  # a removal plan, like prune's and the app's
            return cmd_remove(shelf, job.kind, args)
        assert job.cli is not None
        return cmd_jobs(
            shelf, job.kind, _pinned(args.requests) if job.cli.pinned else args.requests
        )
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

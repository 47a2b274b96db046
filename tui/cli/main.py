"""``pyshelf`` on the command line: the same engine as the app, for scripts, Docker and CI.

The grammar is ``tui.cli.parser``'s; each command runs from its own module, loaded only
when it is the one asked for: `--help`, `dir` and a usage error never pay for the catalog,
the cache, the installs or the job queue (tests/test_startup.py)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

from tui.cli.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
from tui.cli.parser import build_parser, command_in, refuse_leftovers
from tui.cli.settings_args import UsageError, check_usage, settings_from
from tui.engine.errors import PyshelfError, describe_error
from tui.engine.jobspec import JobKind, spec

DEBUG_ENV = "PYSHELF_DEBUG"  # set to 1: an unexpected error prints its traceback too


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
                refuse_leftovers(parser, args, extra)
        else:
            args = argparse.Namespace(command=None)
        settings = settings_from(args)
        check_usage(args, settings)
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
            from tui.engine.archives.catalog import is_url
            from tui.engine.archives.http import import_in_background, proxied

            # httpx carries a remote catalog, and downloads through a proxy; an archive
            # straight from its server goes over http.client (tui.engine.archives.wire).
            if proxied() or (settings.catalog and is_url(settings.catalog)):
                import_in_background()  # while the shelf, the catalog and the plan load
        from tui.cli import job_commands
        from tui.engine.shelf import Shelf

        shelf = Shelf(settings, on_warning=job_commands._warn)
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
            from tui.cli.verify import cmd_verify

            return cmd_verify(shelf, args)
        if args.command in ("prune", "du"):
            from tui.cli import cleanup as cleanup_cli

            run = cleanup_cli.cmd_prune if args.command == "prune" else cleanup_cli.cmd_du
            return run(shelf, args)
        job = spec(JobKind(args.command))
        if job.destroys:  # a removal plan, like prune's and the app's
            return job_commands.cmd_remove(shelf, job.kind, args)
        assert job.cli is not None
        pinned = job_commands.pinned_requests
        requests = pinned(args.requests) if job.cli.pinned else args.requests
        return job_commands.cmd_jobs(shelf, job.kind, requests, args)
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

"""From parsed options and the environment to ``Settings``, and the options that read fine
alone but not together: both a usage error (exit 2) before anything runs."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from tui.cli import options
from tui.engine.settings import Settings


class UsageError(Exception):
    """A setting from the environment that pyshelf cannot use: exit 2, like a bad option."""


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


def check_usage(args: argparse.Namespace, settings: Settings) -> None:
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

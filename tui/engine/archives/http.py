"""The HTTP client for downloads and catalogs: certificates, proxies and credentials.

Credentials come from the URL's user info, from netrc, or from ``PYSHELF_MIRROR_TOKEN``, and
only ever go to the host they belong to.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tui.engine.errors import DownloadError

if TYPE_CHECKING:  # loaded with the first request: offline work never pays for it
    import httpx


def _skip_httpx_cli() -> None:
    """Keep httpx's own command line out of ``import httpx``.

    httpx's ``__init__`` imports its CLI whenever click, rich and pygments are installed (Textual
    brings all three): about 40 % of the import, for a tool pyshelf never runs. A stand-in
    takes its place; calling it loads the real one.
    """
    if "httpx" in sys.modules or "httpx._main" in sys.modules:
        return
    stub = types.ModuleType("httpx._main")

    def main(*args: Any, **kwargs: Any) -> Any:
        if sys.modules.get("httpx._main") is stub:
            del sys.modules["httpx._main"]
        return importlib.import_module("httpx._main").main(*args, **kwargs)

    stub.main = main  # type: ignore[attr-defined]
    sys.modules["httpx._main"] = stub


_skip_httpx_cli()  # here: every module that imports httpx imports this one first


def _netrc_file() -> str | None:
    """``$NETRC`` or ``~/.netrc``, when there is one: credentials for private mirrors."""
    path = os.environ.get("NETRC") or os.path.expanduser("~/.netrc")
    return path if os.path.isfile(path) else None


TOKEN_ENV = "PYSHELF_MIRROR_TOKEN"
TOKEN_HEADER_ENV = "PYSHELF_MIRROR_TOKEN_HEADER"


def _token_hook(hosts: frozenset[str]) -> Callable[[httpx.Request], None] | None:
    """A request hook that sends the mirror token to the mirror's hosts, and to no other.

    It runs for every request, redirects included, so a redirect elsewhere drops the header
    (httpx only drops ``Authorization`` by itself, not a custom one).
    """
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token or not hosts:
        return None
    header = os.environ.get(TOKEN_HEADER_ENV, "").strip() or "Authorization"
    value = f"Bearer {token}" if header.lower() == "authorization" else token

    def hook(request: httpx.Request) -> None:
        if request.url.host in hosts:
            request.headers[header] = value
        elif request.headers.get(header) == value:
            del request.headers[header]

    return hook


def make_client(
    read_timeout: float = 30.0,
    connect_timeout: float = 10.0,
    *,
    token_hosts: frozenset[str] = frozenset(),
) -> httpx.Client:
    """The HTTP client for downloads and catalogs.

    Credentials come from the URL's user info or from netrc, and only ever go to the host
    they belong to: httpx drops the Authorization header on a redirect to another origin.
    """
    from netrc import NetrcParseError

    import httpx  # imported on first use: offline work never pays for it

    from tui.engine.archives.tls import LazyTLSContext

    auth = None
    if netrc := _netrc_file():
        try:
            auth = httpx.NetRCAuth(netrc)
        except NetrcParseError as exc:
            where = f"{netrc}, line {exc.lineno}"
            raise DownloadError(f"cannot read {where}: {exc.msg}; fix or move it") from None
        except OSError as exc:
            raise DownloadError(f"cannot read {netrc}: {exc.strerror or exc}") from None
    return httpx.Client(
        timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
        follow_redirects=True,
        headers={"User-Agent": "pyshelf"},
        auth=auth,
        verify=LazyTLSContext(),
        trust_env=True,  # HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY, as uv reads them
        event_hooks={"request": [hook]} if (hook := _token_hook(token_hosts)) else None,
    )

"""The HTTP client for downloads and catalogs: certificates, proxies and credentials.

Credentials come from the URL's user info, from netrc, or from ``PYSHELF_MIRROR_TOKEN``, and
only ever go to the host they belong to.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from tui.engine.errors import DownloadError

if TYPE_CHECKING:  # loaded with the first request: offline work never pays for them
    import ssl

    import httpx


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
        verify=tls_context(),
        trust_env=True,  # HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY, as uv reads them
        event_hooks={"request": [hook]} if (hook := _token_hook(token_hosts)) else None,
    )


def tls_context() -> ssl.SSLContext:
    """The system's certificate store (truststore), plus SSL_CERT_FILE / SSL_CERT_DIR.

    Company proxies that re-sign TLS put their root in the system store or in SSL_CERT_FILE;
    a certificate bundle shipped inside a package would know neither.
    """
    import ssl

    import truststore

    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    if cafile or capath:
        try:
            context.load_verify_locations(cafile=cafile or None, capath=capath or None)
        except (OSError, ssl.SSLError) as exc:
            where = cafile or capath
            raise DownloadError(f"cannot read certificates from {where}: {exc}") from None
    return context

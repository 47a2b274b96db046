"""The HTTP client for downloads and catalogs: certificates, proxies and credentials.

Credentials come from the URL's user info, from netrc, or from ``PYSHELF_MIRROR_TOKEN``, and
only ever go to the origin (scheme, host and port) they belong to.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from tui.engine.errors import DownloadError
from tui.engine.redact import redact_text

if TYPE_CHECKING:  # loaded with the first request: offline work never pays for it
    import httpx

    from tui.engine.archives.wire import Wire

_T = TypeVar("_T")


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


def import_in_background() -> None:
    """Start importing httpx (and httpcore and h11 under it) on a thread of its own, for a
    command that will likely download: the import runs while the catalog and the plan are
    read, and the first request finds the modules loaded (an ``import`` made meanwhile waits
    for this one to finish, never runs it twice)."""
    if "httpx" in sys.modules:
        return
    import threading

    def load() -> None:
        try:
            import httpcore._sync.http11  # noqa: F401  (httpx makes its pool with it)
            import httpx  # noqa: F401
        except Exception:  # the request imports it again and reports the failure
            return

    threading.Thread(target=load, name="pyshelf-import-httpx", daemon=True).start()


def _netrc_file() -> str | None:
    """``$NETRC`` or ``~/.netrc``, when there is one: credentials for private mirrors."""
    path = os.environ.get("NETRC") or os.path.expanduser("~/.netrc")
    return path if os.path.isfile(path) else None


TOKEN_ENV = "PYSHELF_MIRROR_TOKEN"
TOKEN_HEADER_ENV = "PYSHELF_MIRROR_TOKEN_HEADER"

Origin = tuple[str, str, int]  # scheme, host, port: where a credential may go
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Carried from hop to hop (httpx copies a request's extensions into its redirect): the
# origin the chain started at, and whether it has been on https.
_FIRST = "pyshelf.first-origin"
_TLS = "pyshelf.tls-seen"


def origin(url: httpx.URL) -> Origin:
    """Scheme, host and port, the default port spelled out (``https://m`` is ``m:443``)."""
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme, 0)


def token_origins(urls: Iterable[str]) -> frozenset[Origin]:
    """The origins of the http(s) URLs among ``urls``: where the mirror token may go."""
    import httpx

    found = set()
    for url in urls:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            continue
        if parsed.scheme in _DEFAULT_PORTS and parsed.host:
            found.add(origin(parsed))
    return frozenset(found)


def show_origin(where: Origin) -> str:
    scheme, host, port = where
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


class Credentials:
    """Which credentials a request may carry, by origin, whatever client sends it.

    The mirror token goes to the mirrors' and a remote catalog's origins (scheme, host and
    port), never once the chain has left https for http. User info and netrc credentials,
    attached to the first request, stay with that request's origin, across an http to https
    upgrade too (where httpx would keep them). httpx drops only ``Authorization`` by itself,
    never a custom token header.
    """

    def __init__(self, origins: frozenset[Origin]) -> None:
        self.origins = origins
        self.token = os.environ.get(TOKEN_ENV, "").strip()
        self.header = os.environ.get(TOKEN_HEADER_ENV, "").strip() or "Authorization"
        self.value = (
            f"Bearer {self.token}" if self.header.lower() == "authorization" else self.token
        )

    def apply(self, headers: MutableMapping[str, str], here: Origin, chain: dict[str, Any]) -> None:
        """Set or drop the credentials in ``headers`` of a request to ``here``, one hop of a
        redirect chain whose state ``chain`` carries from hop to hop."""
        first = chain.setdefault(_FIRST, here)
        downgraded = chain.get(_TLS, False) and here[0] != "https"
        if here[0] == "https":
            chain[_TLS] = True
        if self.token and here in self.origins and not downgraded:
            headers[self.header] = self.value
            return
        if self.token and headers.get(self.header) == self.value:
            del headers[self.header]
        if here != first or downgraded:
            headers.pop("Authorization", None)


def _credentials_hook(origins: frozenset[Origin]) -> Callable[[httpx.Request], None]:
    """``Credentials`` as an httpx request hook: it runs for every request, redirects
    included (httpx copies a request's extensions into its redirect)."""
    credentials = Credentials(origins)

    def hook(request: httpx.Request) -> None:
        credentials.apply(request.headers, origin(request.url), request.extensions)

    return hook


def read_netrc(load: Callable[[str], _T]) -> _T | None:
    """``load`` of the netrc file (``$NETRC`` or ``~/.netrc``), if there is one; one line
    that says what to fix when it cannot be read."""
    from netrc import NetrcParseError

    if not (netrc := _netrc_file()):
        return None
    try:
        return load(netrc)
    except NetrcParseError as exc:
        where = f"{netrc}, line {exc.lineno}"
        raise DownloadError(f"cannot read {where}: {exc.msg}; fix or move it") from None
    except OSError as exc:
        raise DownloadError(f"cannot read {netrc}: {exc.strerror or exc}") from None


class Failure(Exception):
    """A request that failed on the way (no answer, a timeout, a connection dropped): worth
    another try. ``connect``: the server could not be reached at all."""

    def __init__(self, message: str, *, connect: bool = False) -> None:
        super().__init__(message)
        self.connect = connect


class Refusal(Exception):
    """An answer that will not become the archive however often it is asked (a redirect to
    no http(s) URL, too many redirects)."""


class Response(Protocol):
    """What a download reads of an answer: httpx's response, or ``wire.Answer``."""

    status_code: int

    @property
    def headers(self) -> Any: ...  # ``get(name, default)``, the name in any case

    def iter_raw(self) -> Iterator[bytes]: ...


Stream = Callable[[str, Mapping[str, str]], AbstractContextManager[Response]]


def httpx_stream(client: Callable[[], httpx.Client]) -> Stream:
    """Downloads through httpx (``make_client``), its failures told as ``Failure``."""

    @contextlib.contextmanager
    def stream(url: str, headers: Mapping[str, str]) -> Iterator[Response]:
        import httpx

        try:
            with client().stream("GET", url, headers=headers) as response:
                yield response
        except httpx.TimeoutException as exc:
            raise Failure(f"timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            why = redact_text(str(exc)) or type(exc).__name__
            raise Failure(why, connect=isinstance(exc, httpx.ConnectError)) from None

    return stream


def direct_or_proxied(client: Callable[[], httpx.Client], wire: Callable[[], Wire]) -> Stream:
    """Each download straight over ``http.client`` (``wire``), or through httpx's ``client``
    while a proxy variable is set."""

    @contextlib.contextmanager
    def stream(url: str, headers: Mapping[str, str]) -> Iterator[Response]:
        opened = httpx_stream(client) if proxied() else wire().stream
        with opened(url, headers) as response:
            yield response

    return stream


_PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")


def proxied() -> bool:
    """Whether a proxy variable (NO_PROXY too) is set: then every request goes through httpx,
    which applies them as uv does; without one, archives go straight over ``http.client``
    (``tui.engine.archives.wire``)."""
    names = (*_PROXY_VARIABLES, "NO_PROXY")
    return any(os.environ.get(n, "").strip() for v in names for n in (v, v.lower()))


def _check_proxies() -> None:
    """Refuse a proxy variable httpx cannot use, naming it, before httpx fails on it.

    httpx reads them as ``urllib`` does (the lower-case name first) and takes a bare
    ``host:port`` as ``http://``; a proxy URL may hold a password, so it is never repeated.
    """
    import httpx

    socks = importlib.util.find_spec("socksio") is not None
    for upper in _PROXY_VARIABLES:
        name = next((n for n in (upper.lower(), upper) if os.environ.get(n)), None)
        if name is None:
            continue
        value = os.environ[name].strip()
        try:
            scheme = httpx.URL(value if "://" in value else f"http://{value}").scheme
        except httpx.InvalidURL as exc:
            raise DownloadError(f"{name} is not a proxy URL ({exc}); fix or unset it") from None
        if scheme in ("socks5", "socks5h") and not socks:
            raise DownloadError(f"{name}: SOCKS proxies are not supported; use an http:// proxy")
        if scheme not in ("http", "https", "socks5", "socks5h"):
            raise DownloadError(f"{name}: {scheme}:// proxies are not supported; use http://")


# httpcore reads a response 64 KiB at a time, and each read goes through h11's parser and
# httpx's stream layers: on a fast link that handling, not the wire, set a download's pace.
# A read returns whatever has arrived, so a larger one never waits for more.
_READ_BYTES = 256 << 10


def _read_more_at_once() -> None:
    """Let httpcore's HTTP/1.1 connections read up to ``_READ_BYTES`` at a time."""
    try:
        from httpcore._sync.http11 import HTTP11Connection
    except ImportError:  # another httpcore layout: its own read size stands
        return
    if getattr(HTTP11Connection, "READ_NUM_BYTES", _READ_BYTES) < _READ_BYTES:
        HTTP11Connection.READ_NUM_BYTES = _READ_BYTES


def make_client(
    read_timeout: float = 30.0,
    connect_timeout: float = 10.0,
    *,
    token_urls: Iterable[str] = (),
) -> httpx.Client:
    """The HTTP client for downloads and catalogs.

    Credentials come from the URL's user info, from netrc or from ``PYSHELF_MIRROR_TOKEN``;
    each goes only to the origin it was given for (see :func:`_credentials_hook`).
    """
    import httpx  # imported on first use: offline work never pays for it

    from tui.engine.archives.tls import LazyTLSContext

    _check_proxies()
    _read_more_at_once()
    auth = read_netrc(httpx.NetRCAuth)
    try:
        return httpx.Client(
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            follow_redirects=True,
            headers={"User-Agent": "pyshelf"},
            auth=auth,
            verify=LazyTLSContext(),
            trust_env=True,  # HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY, as uv reads them
            event_hooks={"request": [_credentials_hook(token_origins(token_urls))]},
        )
    except (httpx.InvalidURL, ValueError, ImportError) as exc:  # NO_PROXY: an entry it cannot read
        name = next((n for n in ("no_proxy", "NO_PROXY") if os.environ.get(n)), None)
        if name is None:
            raise
        raise DownloadError(f"{name} holds an entry that is not a host ({exc}); fix it") from None

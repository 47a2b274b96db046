"""Archive downloads straight over ``http.client``, when no proxy is configured.

httpx (with httpcore and h11 under it) costs about 90 ms to import and set up, and each read
of a response goes through h11's parser and httpx's stream layers: on a fast link those,
not the wire, set a download's pace. An archive download is one GET (a redirect or two, a
Range to resume), so it goes over the standard library's client, read a MiB at a time with
one receive each. Everything around it is pyshelf's own and shared with the httpx client
(``tui.engine.archives.http``): the credentials and where each may go (``Credentials``),
netrc, certificates (``tls_context``), the timeouts. With a proxy variable set, downloads go
through httpx, which applies the proxies and NO_PROXY as uv does.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import threading
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, unquote, urljoin, urlsplit

from tui.engine.archives.http import Credentials, Failure, Origin, Refusal, read_netrc
from tui.engine.redact import redact_text

if TYPE_CHECKING:
    import ssl
    from netrc import netrc

_DEFAULT_PORTS = {"http": 80, "https": 443}
_REDIRECTS = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 20  # as httpx
READ_BYTES = 1 << 20  # a receive returns what has arrived, up to this: never waits for more


class _Headers(MutableMapping[str, str]):
    """Request headers, sent under the names given, found by a name in any case (as
    ``Credentials`` sets and drops them)."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._by_lower: dict[str, tuple[str, str]] = {}
        self.update(headers)

    def __setitem__(self, name: str, value: str) -> None:
        self._by_lower[name.lower()] = (name, value)

    def __getitem__(self, name: str) -> str:
        return self._by_lower[name.lower()][1]

    def __delitem__(self, name: str) -> None:
        del self._by_lower[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._by_lower.values())

    def __len__(self) -> int:
        return len(self._by_lower)


def origin_of(parts: SplitResult) -> Origin | None:
    """Scheme, host and port of an http(s) URL, the default port spelled out; None else."""
    try:
        port = parts.port
    except ValueError:  # not a port number
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port or _DEFAULT_PORTS[parts.scheme]


class Answer:
    """A response whose body is being read: status, headers, and the body's bytes."""

    def __init__(self, response: http.client.HTTPResponse) -> None:
        self._response = response
        self.status_code = response.status
        self.headers = response.headers  # case-insensitive ``get``

    def iter_raw(self) -> Iterator[bytes]:
        """The body as it arrives, a receive at a time (as sent: no decoding)."""
        read = self._response.read1
        while True:
            try:
                chunk = read(READ_BYTES)
            except TimeoutError:
                raise Failure("timed out (ReadTimeout)") from None
            except (OSError, http.client.HTTPException) as exc:
                raise Failure(_why(exc)) from None
            if not chunk:
                return
            yield chunk


class Wire:
    """Opens archive downloads: redirects followed, credentials sent where they belong."""

    def __init__(
        self,
        read_timeout: float = 30.0,
        connect_timeout: float = 10.0,
        *,
        token_urls: Iterable[str] = (),
    ) -> None:
        import netrc as netrc_module

        self.read_timeout, self.connect_timeout = read_timeout, connect_timeout
        origins = (origin_of(urlsplit(url)) for url in token_urls)
        self.credentials = Credentials(frozenset(o for o in origins if o is not None))
        self._netrc: netrc | None = read_netrc(netrc_module.netrc)
        self._tls: ssl.SSLContext | None = None
        self._tls_lock = threading.Lock()

    @contextlib.contextmanager
    def stream(self, url: str, headers: Mapping[str, str]) -> Iterator[Answer]:
        """GET ``url`` and follow its redirects; the final answer, whatever its status."""
        sent = _Headers(headers)
        sent["User-Agent"] = "pyshelf"
        parts = urlsplit(url)
        if (auth := self._auth(parts)) is not None:
            sent["Authorization"] = auth
        chain: dict[str, Any] = {}
        for _ in range(MAX_REDIRECTS + 1):
            here = origin_of(parts)
            if here is None:
                raise Refusal(f"{redact_text(url)} is not an http(s) URL")
            self.credentials.apply(sent, here, chain)
            connection = self._connect(parts)
            try:
                response = self._ask(connection, parts, sent)
                location = response.getheader("location")
                if response.status not in _REDIRECTS or not location:
                    yield Answer(response)
                    return
                response.close()
            finally:
                connection.close()
            url = urljoin(url, location.strip())
            parts, before = urlsplit(url), here
            after = origin_of(parts)
            # As httpx: another origin gets no Authorization, but for http to https on one host.
            upgrade = before[:1] + before[2:] == ("http", 80) and after == ("https", before[1], 443)
            if after != before and not upgrade:
                sent.pop("Authorization", None)
        raise Refusal(f"more than {MAX_REDIRECTS} redirects from {redact_text(url)}")

    def _auth(self, parts: SplitResult) -> str | None:
        """Basic credentials for the first request, as httpx takes them: from netrc when
        there is a netrc file (its entry for the host, or none), else from the URL."""
        if self._netrc is not None:
            found = self._netrc.authenticators(parts.hostname or "")
            if found is None or not found[2]:
                return None
            user, password = found[0], found[2]
        elif parts.username is not None or parts.password is not None:
            user, password = unquote(parts.username or ""), unquote(parts.password or "")
        else:
            return None
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        return f"Basic {token}"

    def _connect(self, parts: SplitResult) -> http.client.HTTPConnection:
        host, port = parts.hostname or "", parts.port
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(
                host, port, timeout=self.connect_timeout, context=self._context()
            )
        else:
            connection = http.client.HTTPConnection(host, port, timeout=self.connect_timeout)
        try:
            connection.connect()
        except TimeoutError:
            connection.close()
            raise Failure("timed out (ConnectTimeout)") from None
        except OSError as exc:  # refused, no route, no such host, a certificate refused
            connection.close()
            raise Failure(_why(exc), connect=True) from None
        assert connection.sock is not None
        connection.sock.settimeout(self.read_timeout)
        return connection

    def _ask(
        self, connection: http.client.HTTPConnection, parts: SplitResult, headers: _Headers
    ) -> http.client.HTTPResponse:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("GET", target, headers=headers)
            return connection.getresponse()
        except TimeoutError:
            raise Failure("timed out (ReadTimeout)") from None
        except (OSError, http.client.HTTPException) as exc:
            raise Failure(_why(exc)) from None
        except ValueError as exc:  # a URL or header http.client refuses to send
            raise Refusal(f"cannot ask for {redact_text(target)}: {exc}") from None

    def _context(self) -> ssl.SSLContext:
        """The certificates, loaded by the first https request (an http mirror never does)."""
        from tui.engine.archives.tls import tls_context

        with self._tls_lock:
            if self._tls is None:
                self._tls = tls_context()
            return self._tls


def _why(exc: BaseException) -> str:
    return redact_text(str(exc)) or type(exc).__name__

"""TLS for the HTTP client: the system's certificate store, built only when a URL is https."""

from __future__ import annotations

import os
import ssl
import threading
from pathlib import Path
from typing import Any

from tui.engine.errors import DownloadError
from tui.engine.fsutil import open_regular


class LazyTLSContext(ssl.SSLContext):
    """The TLS context for httpx, built (certificates and all) by the first TLS connection.

    An ``http://`` mirror or catalog never loads a certificate; httpx only ever asks a
    context to set ALPN and wrap sockets, and only for https. The context is built when a
    socket is wrapped, never before: a failure there (a bad SSL_CERT_FILE) closes the socket.
    """

    def __new__(cls) -> LazyTLSContext:
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._real: ssl.SSLContext | None = None
        self._failed: DownloadError | None = None
        self._alpn: list[str] | None = None

    @property
    def built(self) -> bool:
        return self._real is not None

    def _context(self) -> ssl.SSLContext:
        with self._lock:
            if self._failed is not None:  # a bad SSL_CERT_FILE fails each https request alike
                raise DownloadError(str(self._failed))
            if self._real is None:
                try:
                    real = tls_context()
                    if self._alpn is not None:
                        real.set_alpn_protocols(self._alpn)
                    self._real = real
                except DownloadError as exc:
                    self._failed = exc
                    raise
            return self._real

    def set_alpn_protocols(self, alpn_protocols: Any) -> None:
        with self._lock:
            self._alpn = list(alpn_protocols)
            if self._real is not None:
                self._real.set_alpn_protocols(self._alpn)

    def wrap_socket(self, *args: Any, **kwargs: Any) -> Any:
        return self._context().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> Any:
        return self._context().wrap_bio(*args, **kwargs)


def tls_context() -> ssl.SSLContext:
    """The system's certificate store (truststore), plus SSL_CERT_FILE / SSL_CERT_DIR.

    Company proxies that re-sign TLS put their root in the system store or in SSL_CERT_FILE;
    a certificate bundle shipped inside a package would know neither.
    """
    import truststore

    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    if cafile or capath:
        try:
            if cafile and (handle := open_regular(Path(cafile))) is None:  # OpenSSL would wait
                raise DownloadError(f"cannot read certificates from {cafile}: not a regular file")
            if cafile and handle is not None:
                handle.close()
            context.load_verify_locations(cafile=cafile or None, capath=capath or None)
        except (OSError, ssl.SSLError) as exc:
            where = cafile or capath
            raise DownloadError(f"cannot read certificates from {where}: {exc}") from None
    return context

"""A real HTTP/1.1 file server on 127.0.0.1 with runtime fault injection.

Downloads are tested against real sockets (not mocked transports) so that resume, retry,
timeout and checksum paths see the same failure modes as on a flaky network.
PYTEST_DONT_REWRITE: no asserts here, and conftest imports it before registering it.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple, Self
from urllib.parse import unquote, urlsplit

import pytest

from tests.scratch import discard_unless_failed

CHUNK = 64 * 1024


class Request(NamedTuple):
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Fault:
    path_suffix: str | None  # None: every path
    times: int | None = None  # None: until cleared
    drop_after: int | None = None
    status: int | None = None
    corrupt: bool = False
    ignore_range: bool = False
    rate: float | None = None  # body bytes per second
    no_length: bool = False
    hang: float | None = None  # seconds to wait before sending headers
    retry_after: int | None = None  # Retry-After header sent with `status`
    used: int = 0


class _Disconnect(Exception):
    """The client went away or the server is stopping: abandon the response."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for throttled responses

    def __init__(self, owner: LoopbackServer) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # dropped connections are expected here; keep test output quiet


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 30  # idle keep-alive connections must not pin threads forever

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection, add=True)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.owner._track(self.connection, add=False)

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _simple(
        self,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        head: bool = False,
    ) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if status != 304:
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and not head:
            self.wfile.write(body)

    def _serve(self, head: bool) -> None:
        owner = self.server.owner
        owner._log(Request(self.command, self.path, dict(self.headers.items())))
        f = owner._take_fault(self.path) or Fault(None)
        try:
            if f.hang and owner._stopping.wait(f.hang):
                raise _Disconnect
            if f.status:
                extra = {"Retry-After": str(f.retry_after)} if f.retry_after is not None else {}
                self._simple(f.status, f"injected {f.status}\n".encode(), extra, head=head)
                return
            self._serve_file(head, f)
        except (_Disconnect, OSError):
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    def _serve_file(self, head: bool, f: Fault) -> None:
        rel = unquote(urlsplit(self.path).path).lstrip("/")
        root = self.server.owner.root
        target = (root / rel).resolve()
        if not rel or not target.is_relative_to(root) or not target.is_file():
            self._simple(404, b"not found\n", head=head)
            return
        st = target.stat()
        size = st.st_size  # one stat: ETag, length and Content-Range must agree
        etag = '"' + hashlib.sha1(f"{rel}:{size}:{st.st_mtime_ns}".encode()).hexdigest() + '"'
        modified = email.utils.formatdate(st.st_mtime, usegmt=True)
        headers = {"ETag": etag, "Last-Modified": modified, "Accept-Ranges": "bytes"}
        inm = self.headers.get("If-None-Match")
        if inm and any(t.strip().removeprefix("W/") in (etag, "*") for t in inm.split(",")):
            self._simple(304, headers=headers)
            return
        start, end, status = 0, size - 1, 200
        rng = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        # A stale If-Range means "send the whole new file", exactly as RFC 9110 asks.
        if rng and not f.ignore_range and (if_range is None or if_range in (etag, modified)):
            m = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", rng)
            first, last = (m.group(1), m.group(2)) if m else ("", "")
            if first and (not last or int(last) >= int(first)):  # else malformed: ignore it
                start, end, status = int(first), min(int(last or size - 1), size - 1), 206
            elif not first and last:  # suffix range, the last N bytes; "-0" is unsatisfiable
                start, status = (size - min(int(last), size)) if int(last) else size, 206
            if status == 206:
                headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            if status == 206 and start >= size:
                headers["Content-Range"] = f"bytes */{size}"
                self._simple(416, b"range not satisfiable\n", headers, head=head)
                return
        length = end - start + 1
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        for k, v in headers.items():
            self.send_header(k, v)
        if f.no_length:
            self.send_header("Connection", "close")  # body ends when the socket closes
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        if not head:
            self._send_body(target, start, length, f)

    def _send_body(self, target: Path, start: int, length: int, f: Fault) -> None:
        stopping = self.server.owner._stopping
        budget = length if f.drop_after is None else min(length, f.drop_after)
        # Small chunks under a rate limit so the throttle is smooth and stop() is prompt.
        chunk = CHUNK if not f.rate else max(1, min(CHUNK, int(f.rate / 20)))
        began, sent = time.monotonic(), 0
        with target.open("rb") as fh:
            fh.seek(start)
            while sent < budget:
                data = fh.read(min(chunk, budget - sent))
                if not data:
                    break
                if f.corrupt:
                    buf = bytearray(data)
                    buf[0] ^= 0xFF  # same length, wrong bytes
                    data = bytes(buf)
                if f.rate:
                    delay = began + (sent + len(data)) / f.rate - time.monotonic()
                    if delay > 0 and stopping.wait(delay):
                        raise _Disconnect
                elif stopping.is_set():
                    raise _Disconnect
                self.wfile.write(data)
                sent += len(data)
        if f.drop_after is not None and sent < length:
            self.wfile.flush()
            raise _Disconnect  # abrupt close: the client sees a truncated body


class LoopbackServer:
    """Serve ``root`` over HTTP/1.1 on 127.0.0.1; use as a context manager or start()/stop()."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.requests: list[Request] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._conns: set[socket.socket] = set()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> Self:
        self._stopping.clear()
        self._httpd = _Server(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()  # wakes throttled / hanging handlers
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:  # unblock clients parked on keep-alive connections
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
        if self._thread:
            self._thread.join(timeout=2)
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fault(
        self, path_suffix: str | None = None, *, times: int | None = None, **opts: Any
    ) -> Fault:
        """Inject a fault for paths ending in path_suffix (None: all), for the next `times`.

        opts: drop_after, status, retry_after, corrupt, ignore_range, rate, no_length, hang.
        The newest matching fault wins, so a test can layer a one-off over a standing one.
        """
        f = Fault(path_suffix, times, **opts)
        with self._lock:
            self._faults.append(f)
        return f

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, raw_path: str) -> Fault | None:
        path = unquote(urlsplit(raw_path).path)
        with self._lock:
            for f in reversed(self._faults):
                if (
                    f.path_suffix is None
                    or path.endswith(f.path_suffix)
                    or raw_path.endswith(f.path_suffix)
                ):
                    f.used += 1
                    if f.times is not None and f.used >= f.times:
                        self._faults.remove(f)
                    return f
        return None

    def _log(self, req: Request) -> None:
        with self._lock:
            self.requests.append(req)

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            (self._conns.add if add else self._conns.discard)(conn)


@pytest.fixture
def loopback_server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LoopbackServer]:
    """A running LoopbackServer whose root is a fresh temp dir (``server.root``), emptied
    with the test unless it failed."""
    root = tmp_path_factory.mktemp("www")
    with LoopbackServer(root) as server:
        yield server
    discard_unless_failed(request, root)

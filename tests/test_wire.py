"""Downloads over http.client (``wire``) send what the httpx client sends, hop by hop."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tui.engine.archives.http import Failure, Refusal, Stream, httpx_stream, make_client
from tui.engine.archives.wire import Wire

BODY = b"archive-bytes " * 5000
SECRET = "pw-s3cret"


class Seen(NamedTuple):
    port: int
    path: str
    authorization: str | None
    token: str | None
    range: str | None


Route = Callable[[BaseHTTPRequestHandler], None]


@contextlib.contextmanager
def servers(count: int, route: Callable[[int, BaseHTTPRequestHandler], None]) -> Iterator[
    tuple[list[int], list[Seen]]
]:  # fmt: skip
    """``count`` HTTP servers on 127.0.0.1; ``route(n, handler)`` answers for server n."""
    seen: list[Seen] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            port = self.server.server_address[1]
            h = self.headers
            seen.append(Seen(port, self.path, h["Authorization"], h["X-Token"], h["Range"]))
            route(ports.index(port), self)

    running = [ThreadingHTTPServer(("127.0.0.1", 0), Handler) for _ in range(count)]
    ports = [int(s.server_address[1]) for s in running]
    for server in running:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield ports, seen
    finally:
        for server in running:
            server.shutdown()
            server.server_close()


def _answer(
    handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", **headers: str
) -> None:
    handler.send_response(status)
    for name, value in {"Content-Length": str(len(body)), **headers}.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    handler.wfile.write(body)


def _read(stream: Stream, url: str, **headers: str) -> tuple[int, bytes]:
    with stream(url, headers) as response:
        return response.status_code, b"".join(response.iter_raw())


def _both(token_urls: tuple[str, ...] = ()) -> dict[str, Stream]:
    return {
        "wire": Wire(token_urls=token_urls).stream,
        "httpx": httpx_stream(lambda: make_client(token_urls=token_urls)),
    }


def test_a_redirect_chain_carries_credentials_as_httpx_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """User info goes to its own origin only; the token to the token's origin only; Range
    and the other headers follow every hop."""
    monkeypatch.setenv("PYSHELF_MIRROR_TOKEN", SECRET)
    monkeypatch.setenv("PYSHELF_MIRROR_TOKEN_HEADER", "X-Token")

    def route(n: int, handler: BaseHTTPRequestHandler) -> None:
        if handler.path == "/a":
            _answer(handler, 302, Location="/b")  # relative, same origin
        elif n == 0:
            _answer(handler, 307, Location=f"http://127.0.0.1:{ports[1]}/c?x=1")
        elif handler.path.startswith("/c"):
            _answer(handler, 301, Location=f"http://127.0.0.1:{ports[2]}/d")
        else:
            _answer(handler, 206, BODY[10:], Content_Range=f"bytes 10-{len(BODY) - 1}/{len(BODY)}")

    with servers(3, route) as (ports, seen):
        token_origin = f"http://127.0.0.1:{ports[1]}/mirror"
        results = {}
        for name, stream in _both((token_origin,)).items():
            seen.clear()
            status, body = _read(
                stream, f"http://alice:{SECRET}@127.0.0.1:{ports[0]}/a", Range="bytes=10-"
            )
            results[name] = (status, body, list(seen))
    assert results["wire"] == results["httpx"]
    status, body, hops = results["wire"]
    assert status == 206 and body == BODY[10:]
    assert [h.path for h in hops] == ["/a", "/b", "/c?x=1", "/d"]
    assert [h.authorization is not None for h in hops] == [True, True, False, False]
    assert [h.token for h in hops] == [None, None, SECRET, None]
    assert {h.range for h in hops} == {"bytes=10-"}


def test_netrc_credentials_go_to_their_host_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login alice password {SECRET}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))

    def route(n: int, handler: BaseHTTPRequestHandler) -> None:
        if n == 0:
            _answer(handler, 302, Location=f"http://localhost:{ports[1]}/x")
        else:
            _answer(handler, 200, BODY)

    with servers(2, route) as (ports, seen):
        results = {}
        for name, stream in _both().items():
            seen.clear()
            # netrc wins over the URL's user info when there is a netrc file, as in httpx
            results[name] = (_read(stream, f"http://bob:x@127.0.0.1:{ports[0]}/f"), list(seen))
    assert results["wire"] == results["httpx"]
    (_, body), (first, second) = results["wire"]
    assert body == BODY and first.authorization == "Basic YWxpY2U6cHctczNjcmV0"
    assert second.authorization is None


@pytest.mark.parametrize(
    ("location", "error"),
    [("file:///etc/passwd", "not an http"), ("/loop", "more than 20 redirects")],
)
def test_a_redirect_that_leads_nowhere_is_refused(location: str, error: str) -> None:
    def route(n: int, handler: BaseHTTPRequestHandler) -> None:
        _answer(handler, 302, Location=location)

    with servers(1, route) as (ports, seen), pytest.raises(Refusal, match=error):
        _read(Wire().stream, f"http://127.0.0.1:{ports[0]}/start")
    assert len(seen) == (1 if location.startswith("file") else 21)


def test_a_chunked_body_and_one_closed_by_the_server_arrive_whole() -> None:
    def route(n: int, handler: BaseHTTPRequestHandler) -> None:
        if n == 0:
            _answer(handler, 200, b"", Transfer_Encoding="chunked")  # a length, then chunks
            for start in range(0, len(BODY), 7000):
                piece = BODY[start : start + 7000]
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            handler.wfile.write(b"0\r\n\r\n")
        else:  # HTTP/1.0 style: no length, the end of the body is the end of the connection
            handler.send_response(200)
            handler.send_header("Connection", "close")
            handler.end_headers()
            handler.wfile.write(BODY)
            handler.close_connection = True

    with servers(2, route) as (ports, _):
        for port in ports:
            assert _read(Wire().stream, f"http://127.0.0.1:{port}/f") == (200, BODY)


def test_a_stalled_body_times_out_and_a_closed_port_is_unreachable() -> None:
    release = threading.Event()

    def route(n: int, handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(BODY)))
        handler.end_headers()
        handler.wfile.write(BODY[:100])
        handler.wfile.flush()
        release.wait(10)

    with servers(1, route) as (ports, _):
        start = time.monotonic()
        with pytest.raises(Failure, match=r"timed out \(ReadTimeout\)") as info:
            _read(Wire(read_timeout=0.3).stream, f"http://127.0.0.1:{ports[0]}/f")
        release.set()
    assert not info.value.connect and time.monotonic() - start < 5
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, never listening: refused
        with pytest.raises(Failure) as info:
            _read(Wire().stream, f"http://127.0.0.1:{port}/f")
    assert info.value.connect

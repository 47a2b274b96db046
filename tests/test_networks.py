"""Networks as they are: proxies (plain and CONNECT), a private CA, a mirror token."""

from __future__ import annotations

import json
import select
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.request import ProxyHandler, build_opener

import pytest
import trustme

from tests.conftest import World
from tui.engine.archives.catalog import load_catalog
from tui.engine.archives.http import make_client
from tui.engine.errors import CatalogError

KEY = "cpython-3.12.7-linux-x86_64-gnu"
_DIRECT = build_opener(ProxyHandler({}))  # the proxy's own requests ignore HTTP_PROXY


class _Proxy(BaseHTTPRequestHandler):
    """A forward proxy: absolute-URI GET/HEAD for http, CONNECT tunnels for https."""

    protocol_version = "HTTP/1.0"
    seen: list[str]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.seen.append(f"GET {self.path}")
        with _DIRECT.open(self.path, timeout=10) as upstream:  # never through itself
            body = upstream.read()
            self.send_response(upstream.status)
            for name in ("Content-Type", "ETag", "Last-Modified"):
                if upstream.headers.get(name):
                    self.send_header(name, upstream.headers[name])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.seen.append(f"HEAD {self.path}")
        self.send_response(405)
        self.end_headers()

    def do_CONNECT(self) -> None:
        self.seen.append(f"CONNECT {self.path}")
        host, _, port = self.path.rpartition(":")
        upstream = socket.create_connection((host, int(port)), timeout=10)
        self.send_response(200, "Connection established")
        self.end_headers()
        sockets = [self.connection, upstream]
        try:
            while True:
                ready, _, _ = select.select(sockets, [], [], 10)
                if not ready:
                    return
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is self.connection else self.connection).sendall(data)
        finally:
            upstream.close()


def _serve(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Proxy", (_Proxy,), {"seen": seen})
    server, url = _serve(handler)
    yield url, seen
    server.shutdown()
    server.server_close()


def _catalog_at(world: World, base: str) -> Path:
    catalog = json.loads(world.catalog_path.read_text())
    for entry in catalog.values():
        entry["url"] = entry["url"].replace(world.server.url, base)
    path = world.root / "via.json"
    path.write_text(json.dumps(catalog))
    return path


def test_a_fetch_goes_through_an_http_proxy(
    world: World, proxy: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seen = proxy
    monkeypatch.setenv("HTTP_PROXY", url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    code, _, err = world.cli("fetch", "3.12")
    assert code == 0, err
    spec = world.spec(KEY)
    assert any(line.startswith("GET http://127.0.0.1") and spec.build in line for line in seen)


@pytest.fixture
def https_world(world: World, tmp_path: Path) -> Iterator[tuple[World, str, Path]]:
    """The world's archives served over TLS by a certificate from a private CA."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    root = world.server.root

    class Files(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            from urllib.parse import unquote

            path = root / unquote(self.path.lstrip("/"))
            data = path.read_bytes() if path.is_file() else b""
            self.send_response(200 if data else 404)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_HEAD = do_GET

    server = ThreadingHTTPServer(("127.0.0.1", 0), Files)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    yield world, f"https://127.0.0.1:{server.server_address[1]}", ca_file
    server.shutdown()
    server.server_close()


def test_https_through_a_connect_proxy_with_a_private_ca(
    https_world: tuple[World, str, Path],
    proxy: tuple[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world, base, ca_file = https_world
    url, seen = proxy
    catalog = _catalog_at(world, base)
    code, _, err = world.cli("--catalog", str(catalog), "fetch", "3.12")
    assert code == 1 and "certificate" in err.lower()  # an unknown CA is refused
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    monkeypatch.setenv("HTTPS_PROXY", url)
    code, _, err = world.cli("--catalog", str(catalog), "fetch", "3.12")
    assert code == 0, err
    assert any(line.startswith("CONNECT 127.0.0.1:") for line in seen)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    seen.clear()
    code, _, err = world.cli("--catalog", str(catalog), "fetch", "3.13")
    assert code == 0 and not seen, (err, seen)


def test_https_straight_to_the_server_with_a_private_ca(
    https_world: tuple[World, str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No proxy: the archive comes over http.client (``wire``), with the same certificates."""
    world, base, ca_file = https_world
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    code, _, err = world.cli("--catalog", str(_catalog_at(world, base)), "fetch", "3.12")
    assert code == 0, err
    monkeypatch.setenv("SSL_CERT_FILE", str(world.root / "missing.pem"))
    code, _, err = world.cli("--catalog", str(_catalog_at(world, base)), "fetch", "3.13")
    assert code == 1 and "cannot read certificates" in err and "Traceback" not in err


SECRET = "t0k3n-s3cr3t"


@pytest.mark.parametrize("header", ["", "PRIVATE-TOKEN"])
def test_a_mirror_token_goes_to_the_mirror_host_only(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, header: str
) -> None:
    monkeypatch.setenv("PYSHELF_MIRROR_TOKEN", SECRET)
    monkeypatch.setenv("PYSHELF_MIRROR_TOKEN_HEADER", header)
    name = header or "Authorization"
    sent = f"Bearer {SECRET}" if not header else SECRET
    code, _, err = world.cli("--mirror", world.server.url, "fetch", "3.12")
    assert code == 0, err
    gets = [r for r in world.server.requests if r.method == "GET"]
    assert gets and all(r.headers.get(name) == sent for r in gets)

    # A redirect from the mirror's host to another host: the token must not follow it.
    seen: list[tuple[str, str | None]] = []

    class Hop(BaseHTTPRequestHandler):
        target: str | None = None

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            seen.append((self.headers["Host"], self.headers.get(name)))
            self.send_response(302 if self.target else 404)
            if self.target:
                self.send_header("Location", self.target + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

    other, other_url = _serve(Hop)
    first, first_url = _serve(
        type("First", (Hop,), {"target": other_url.replace("127.0.0.1", "localhost")})
    )
    try:
        client = make_client(token_urls=[first_url])
        with pytest.raises(CatalogError, match="HTTP 404"):
            load_catalog(f"{first_url}/catalog.json", store=tmp_path, client=client)
    finally:
        for server in (first, other):
            server.shutdown()
            server.server_close()
    (mirror_host, mirror_got), (other_host, other_got) = seen
    assert mirror_host.startswith("127.0.0.1") and mirror_got == sent
    assert other_host.startswith("localhost") and other_got is None
    for path in (world.root / "cache").rglob("*"):
        if path.is_file() and path.suffix == ".json":
            assert SECRET not in path.read_text()


class _Redirect(BaseHTTPRequestHandler):
    """Answers every GET with a redirect to ``target`` (same path), noting what it was sent."""

    target = ""
    seen: list[dict[str, str]]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.seen.append(dict(self.headers))
        self.send_response(302)
        self.send_header("Location", self.target + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def redirector(world: World) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A server on another port of 127.0.0.1 that sends every request on to the world's."""
    seen: list[dict[str, str]] = []
    handler = type("Hop", (_Redirect,), {"target": world.server.url, "seen": seen})
    server, url = _serve(handler)
    yield url, seen
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("header", ["", "PRIVATE-TOKEN"])
def test_the_token_does_not_follow_a_redirect_to_another_port(
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    redirector: tuple[str, list[dict[str, str]]],
    header: str,
) -> None:
    """Mirror A (127.0.0.1:A) redirects to B (127.0.0.1:B): same host, another origin."""
    monkeypatch.setenv("PYSHELF_MIRROR_TOKEN", SECRET)
    monkeypatch.setenv("PYSHELF_MIRROR_TOKEN_HEADER", header)
    name = (header or "Authorization").lower()
    mirror, seen = redirector
    catalog = str(_catalog_at(world, mirror))
    code, _, err = world.cli("--catalog", catalog, "--mirror", mirror, "fetch", "3.12")
    assert code == 0, err
    assert seen and all({k.lower(): v for k, v in h.items()}.get(name) for h in seen)
    gets = [r for r in world.server.requests if r.method == "GET"]
    assert gets, "the download never reached B"
    assert all(SECRET not in str(dict(r.headers)) for r in gets)


@pytest.mark.parametrize("header", ["", "PRIVATE-TOKEN"])
def test_the_token_is_never_sent_after_a_downgrade_to_http(
    monkeypatch: pytest.MonkeyPatch, header: str
) -> None:
    """https://m to http://m: even when http://m is itself a mirror, not once the chain
    has been on https; the default port is the same origin as the spelled-out one."""
    import httpx

    from tui.engine.archives.http import _credentials_hook, token_origins

    monkeypatch.setenv("PYSHELF_MIRROR_TOKEN", SECRET)
    monkeypatch.setenv("PYSHELF_MIRROR_TOKEN_HEADER", header)
    name = header or "Authorization"
    sent: dict[str, str | None] = {}

    def answer(request: httpx.Request) -> httpx.Response:
        sent[str(request.url)] = request.headers.get(name)
        if request.url.host == "n":  # user info, which httpx itself keeps on an upgrade
            sent[str(request.url)] = request.headers.get("Authorization")
        hops = {"https://m/a": "http://m/b", "https://m/c": "https://m:8443/d"}
        hops["http://alice:pw@n/f"] = "https://n/g"
        if str(request.url) in hops:
            return httpx.Response(302, headers={"Location": hops[str(request.url)]})
        return httpx.Response(404)

    origins = token_origins(["https://m/pbs", "http://m/also"])
    hook = _credentials_hook(origins)
    with httpx.Client(
        transport=httpx.MockTransport(answer), follow_redirects=True,
        event_hooks={"request": [hook]},
    ) as client:  # fmt: skip
        client.get("https://m:443/a")
        client.get("https://m/c")
        client.get("http://m/e")  # a chain that starts on http://m: its origin, so sent
        client.get("http://alice:pw@n/f")
    value = SECRET if header else f"Bearer {SECRET}"
    assert sent == {
        "https://m/a": value,  # asked for as https://m:443/a
        "http://m/b": None,  # downgraded
        "https://m/c": value,
        "https://m:8443/d": None,  # another port
        "http://m/e": value,
        "http://alice:pw@n/f": "Basic YWxpY2U6cHc=",
        "https://n/g": None,  # not its origin, though httpx keeps it on an upgrade
    }


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("HTTP_PROXY", "http://[::1", "HTTP_PROXY is not a proxy URL"),
        ("https_proxy", f"http://alice:{SECRET}@[::1", "https_proxy is not a proxy URL"),
        ("ALL_PROXY", "socks5://127.0.0.1:1080", "ALL_PROXY: SOCKS proxies are not supported"),
        ("HTTP_PROXY", "ftp://127.0.0.1:21", "HTTP_PROXY: ftp:// proxies are not supported"),
        ("NO_PROXY", "localhost,[::1", "NO_PROXY holds an entry that is not a host"),
    ],
)
@pytest.mark.parametrize("remote_catalog", [False, True])
def test_a_proxy_variable_httpx_cannot_use_is_one_line(
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    value: str,
    fragment: str,
    remote_catalog: bool,
) -> None:
    monkeypatch.setenv(name, value)
    catalog = f"{world.server.url}/catalog.json" if remote_catalog else str(world.catalog_path)
    code, out, err = world.cli("--catalog", catalog, "fetch", "3.12")
    assert code == 1 and not out
    # A fetch's job says it failed, on its line, as for any failed download.
    (line,) = [line for line in err.splitlines() if "failed" in line or "error" in line]
    assert fragment in line and "unexpected" not in err and SECRET not in err
    assert "Traceback" not in err and not world.server.requests


def test_doctor_says_what_answers_without_showing_secrets(world: World) -> None:
    secret_url = world.server.url.replace("http://", f"http://alice:{SECRET}@")
    catalog = _catalog_at(world, secret_url)
    code, out, err = world.cli("--catalog", str(catalog), "doctor")
    assert code == 0, out + err
    assert "ok   catalog" in out and "ok   cpython archives http://***@127.0.0.1:" in out
    assert "HTTP 200 in" in out and SECRET not in out + err
    world.server.stop()
    code, out, _ = world.cli("--catalog", str(catalog), "doctor")
    assert code == 1 and "FAIL cpython archives" in out and "no answer" in out
    code, out, _ = world.cli("--catalog", str(catalog), "--offline", "doctor")
    assert code == 0 and "not checked: offline" in out


def test_certificates_load_only_for_https(
    https_world: tuple[World, str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An http mirror never reads SSL_CERT_FILE (a broken one does not matter to it); an
    https one reads it at its first connection, and a broken one is one line."""
    world, base, _ = https_world
    monkeypatch.setenv("SSL_CERT_FILE", str(world.root / "no-such-ca.pem"))
    code, _, err = world.cli("fetch", "3.12")  # the plain-http loopback server
    assert code == 0, err
    code, _, err = world.cli("--catalog", str(_catalog_at(world, base)), "fetch", "3.13")
    assert code == 1
    assert "failed: cannot read certificates from" in err and "no-such-ca.pem" in err
    assert "Traceback" not in err

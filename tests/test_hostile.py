"""Hostile catalogs and mirrors: nothing outside the cache is touched, nothing runs away.

Each attack here was first tried by hand against the CLI; these tests keep it closed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import World, build_world
from tests.loopback import LoopbackServer
from tests.pbs_fixtures import _file
from tests.special_files import REFUSED, SPECIAL_KINDS, finishes, make_special
from tests.test_cli_input import one_line
from tui.engine.archives import catalog as catalog_module
from tui.engine.archives.catalog import load_catalog, parse_uv_catalog
from tui.engine.archives.schema import SCHEMES_LOCAL
from tui.engine.errors import CatalogError, DownloadError, PyshelfError
from tui.engine.fsutil import UnsafePath, inside
from tui.engine.names import cache_file_name
from tui.engine.requests.resolve import resolve

KEY = "cpython-3.12.7-linux-x86_64-gnu"


def _entry(world: World, key: str = KEY, **changes: Any) -> dict[str, Any]:
    entry = dict(json.loads(world.catalog_path.read_text())[key])
    entry.update(changes)
    return entry


def _write_catalog(world: World, entries: dict[str, Any]) -> Path:
    path = world.root / "hostile.json"
    path.write_text(json.dumps(entries))
    return path


# -- the deletion attack ------------------------------------------------------------------


@pytest.fixture
def victim() -> Iterator[Path]:
    """A file outside every pyshelf folder, whose path starts with 9 characters and a dash.

    That shape is what the attack needs: ``{sha256[:9]}-{file name}`` becomes an absolute
    path when the "sha256" starts with ``/`` and the file name carries ``/`` and ``..``.
    """
    folder = Path(tempfile.mkdtemp(prefix="pysh-", dir="/tmp"))
    assert len(str(folder).partition("-")[0]) == 9
    canary = folder / "canary.tar.gz"
    canary.write_text("precious")
    yield canary
    shutil.rmtree(folder, ignore_errors=True)


def _attack_entries(world: World, canary: Path) -> dict[str, Any]:
    head, _, rest = str(canary).partition("-")  # "/tmp/pysh", "abcd1234/canary.tar.gz"
    traversal = rest.replace("/", "%2F")
    return {
        "absolute-sha": _entry(
            world, sha256=head + "0" * 55, url=f"{world.server.url}/x/{traversal}"
        ),
        "dotdot-name": _entry(
            world, sha256="a" * 64, url=f"{world.server.url}/x/..%2F..%2F..%2Fetc%2Fpasswd.tar.gz"
        ),
    }


@pytest.mark.parametrize("offline", [False, True])
def test_a_catalog_cannot_make_pyshelf_delete_a_file(
    world: World, victim: Path, offline: bool
) -> None:
    catalog = _write_catalog(world, _attack_entries(world, victim))
    args = ["--offline"] if offline else []
    code, _, err = world.cli(*args, "--catalog", str(catalog), "fetch", "3.12")
    assert victim.read_text() == "precious"
    assert code == 1 and "Traceback" not in err
    assert "skipped entry 'absolute-sha': " in err
    assert "skipped entry 'dotdot-name': archive file name" in err


def test_a_remote_catalog_cannot_make_pyshelf_delete_a_file(world: World, victim: Path) -> None:
    (world.server.root / "evil.json").write_text(json.dumps(_attack_entries(world, victim)))
    code, _, err = world.cli("--catalog", f"{world.server.url}/evil.json", "install", "3.12")
    assert victim.read_text() == "precious"
    assert code == 1 and "Traceback" not in err


def test_paths_built_from_outside_data_stay_inside_their_root(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    root.mkdir()
    assert inside(root, "abc-x.tar.gz") == root / "abc-x.tar.gz"
    for bad in ["..", ".", "", "a/b", "/etc/passwd", "a\\b", "nul\0", "x" * 300]:
        with pytest.raises(UnsafePath):
            inside(root, bad)
    (root / "out").symlink_to(tmp_path)  # a folder on the way that leads out
    with pytest.raises(UnsafePath):
        inside(root, "out", "file")
    (root / "sub").mkdir()
    assert inside(root, "sub", "file") == root / "sub" / "file"


# -- malformed catalogs -------------------------------------------------------------------


BAD_FIELDS = [
    ("sha256", "zz" * 32, "sha256 must be 64 hex digits"),
    ("sha256", 12, "sha256 must be 64 hex digits"),
    ("major", "3", "major must be a whole number"),
    ("minor", True, "minor must be a whole number"),
    ("patch", 10**30, "patch must be a whole number"),
    ("prerelease", "1" * 100_000, "prerelease"),
    ("name", "cpython; rm -rf", "unknown implementation"),
    ("os", "../linux", "unknown os"),
    ("arch", {"family": "x86_64/..", "variant": None}, "unknown arch"),
    ("libc", ["gnu"], "unknown libc"),
    ("variant", "freethreaded/../../", "unknown variant"),
    ("build", "2024/../../x", "build"),
    ("url", "ftp://example.invalid/a.tar.gz", "url scheme 'ftp' is not allowed"),
    ("url", "http:///no-host/a.tar.gz", "url names no host"),
    ("url", "https://h.invalid/a%2F..%2Fb.tar.gz", "is not a plain file name"),
    ("url", "https://h.invalid/.hidden.tar.gz", "is not a plain file name"),
    ("url", "https://h.invalid/notes.txt", "is not a known archive type"),
    ("url", "https://h.invalid/a b.tar.gz", "spaces or control characters"),
]


@pytest.mark.parametrize(("field", "value", "reason"), BAD_FIELDS)
def test_a_bad_entry_is_skipped_with_its_key_and_reason(
    world: World, field: str, value: Any, reason: str
) -> None:
    entries = json.loads(world.catalog_path.read_text())
    entries["bad-one"] = _entry(world, **{field: value})
    catalog = parse_uv_catalog(entries, "test")
    assert len(catalog.builds) == len(entries) - 1  # the rest stays usable
    (warning,) = catalog.warnings
    assert warning.startswith("catalog test: skipped entry 'bad-one': ")
    assert reason in warning
    assert len(warning) < 200  # one readable line, however long the hostile value


@pytest.mark.parametrize(
    "text",
    [
        "[" * 200_000 + "]" * 200_000,  # nesting that overflows the parser's stack
        '{"a": ' + "9" * 100_000 + "}",  # a number too long to convert
        "\x00\xff",
        "[]",
        '"a string"',
    ],
    ids=["deep", "huge-number", "binary", "list", "string"],
)
def test_a_malformed_catalog_is_one_error_in_every_command(
    world: World, text: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(CatalogError):
        load_catalog(str(bad), store=tmp_path)
    for command in (["list"], ["du"], ["prune", "--evict-uninstalled", "--dry-run"]):
        code, _, err = world.cli("--catalog", str(bad), *command)
        assert "Traceback" not in err and "unexpected" not in err, (command, err)
        assert code in (0, 1)
    code, _, err = world.cli("--catalog", str(bad), "install", "3.12")
    assert code == 1 and err.count("\n") == 1 and "catalog" in err


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=json_values)
def test_random_json_is_a_catalog_error_or_a_catalog(data: Any) -> None:
    try:
        catalog = parse_uv_catalog(data, "fuzz")
    except CatalogError:
        return
    assert catalog.builds == []  # random data never makes a valid entry by chance


ENTRY_FIELDS = ["name", "arch", "os", "libc", "major", "minor", "patch", "prerelease",
                "variant", "build", "url", "sha256"]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    field=st.sampled_from(ENTRY_FIELDS),
    value=json_values | st.text(alphabet="./%2F\\\0abc-+:", max_size=40),
)
def test_fuzzed_fields_give_safe_builds_or_a_warning(field: str, value: Any) -> None:
    valid = {
        "name": "cpython", "arch": {"family": "x86_64", "variant": None}, "os": "linux",
        "libc": "gnu", "major": 3, "minor": 12, "patch": 7, "prerelease": "", "variant": None,
        "build": "20991231", "sha256": "ab" * 32,
        "url": "https://h.invalid/20991231/cpython-3.12.7-x86_64-unknown-linux-gnu.tar.gz",
    }  # fmt: skip
    catalog = parse_uv_catalog({"k": {**valid, field: value}}, "fuzz")
    if not catalog.builds:  # a bad entry is named; a word pyshelf does not know is counted
        (line,) = catalog.warnings
        assert line.startswith("catalog fuzz: skipped entry 'k': ") or (
            line.startswith("catalog fuzz: 1 build(s) for what pyshelf does not know (")
        )
        return
    (build,) = catalog.builds
    root = Path("/nonexistent-root")
    assert build.sha256 is None or len(build.sha256) == 64
    if build.sha256:
        assert inside(root, cache_file_name(build.sha256, build.filename)).parent == root
    assert inside(root, build.key).parent == root
    assert inside(root, build.minor_key).parent == root


def test_the_builtin_index_passes_the_same_check() -> None:
    catalog = load_catalog(None, store=Path("/nonexistent"))
    assert len(catalog.builds) > 500
    assert catalog.warnings == []


# -- sources --------------------------------------------------------------------------------


def test_a_remote_catalog_may_not_name_local_files(world: World, tmp_path: Path) -> None:
    secret = tmp_path / "secret.tar.gz"
    secret.write_bytes(b"not for the network to copy")
    entries = {"local": _entry(world, url=secret.as_uri())}
    (world.server.root / "remote.json").write_text(json.dumps(entries))
    catalog = load_catalog(f"{world.server.url}/remote.json", store=tmp_path / "store")
    assert catalog.builds == []
    assert "url scheme 'file' is not allowed here (http, https)" in catalog.warnings[0]
    # The same entry from a local catalog, the user's own file, is fine.
    local = parse_uv_catalog(entries, "local", remote=False)
    assert local.builds and local.builds[0].url == secret.as_uri()
    assert "file" in SCHEMES_LOCAL


def test_a_local_mirror_that_is_not_a_regular_file_is_refused(world: World) -> None:
    spec = world.spec(KEY)
    fifo_dir = world.root / "fifo" / spec.build
    fifo_dir.mkdir(parents=True)
    os.mkfifo(fifo_dir / spec.filename)  # endless to a reader, like /dev/zero
    shelf = world.shelf(python_mirror=(world.root / "fifo").as_uri())
    entries = json.loads(world.catalog_path.read_text())
    mirrored = {
        k: {**e, "url": e["url"].replace(world.server.url, (world.root / "fifo").as_uri())}
        for k, e in entries.items()
    }
    shelf.settings.catalog = str(_write_catalog(world, mirrored))
    build = resolve(KEY, shelf.builds())
    with pytest.raises(DownloadError, match="is not a regular file"):
        shelf.downloader.fetch(build)
    assert not list((world.root / "cache").glob("*.tar.gz"))


@pytest.mark.parametrize("kind", SPECIAL_KINDS)
def test_a_local_catalog_that_is_not_a_small_file_is_one_line(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    path = tmp_path / "download-metadata.json"
    make_special(path, kind, huge=catalog_module.MAX_CATALOG_BYTES + 1)
    for source in (str(path), path.as_uri()):
        code, out, err = finishes(lambda s=source: world.cli("--catalog", s, "list"))
        assert code == 1 and not out
        line = one_line(err)
        assert f"cannot read catalog {path}: {REFUSED[kind]}" in line


def test_a_sysconfigdata_that_is_not_utf8_fails_the_install_in_one_line(
    tmp_path: Path, loopback_server: LoopbackServer
) -> None:
    lib = "python/lib/python3.12"
    bad = _file(f"{lib}/_sysconfigdata__linux_x86_64-linux-musl.py", b"build_time_vars = '\xff'\n")
    world = build_world(tmp_path, loopback_server, [{"version": "3.12.7", "extra_members": [bad]}])
    code, _, err = world.cli("install", "3.12")
    assert code == 1 and "unexpected" not in err and "Traceback" not in err
    (line,) = [line for line in err.splitlines() if "failed" in line]
    assert "_sysconfigdata__linux_x86_64-linux-musl.py: not UTF-8 text" in line
    assert not (tmp_path / "installs" / KEY).exists()


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_state_files_that_are_not_plain_files_are_not_read(
    world: World, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """pyshelf's own files in a shared cache and install dir, and SSL_CERT_FILE: a fifo
    or a device in their place is passed over (or one line), never waited on or read."""
    from tui.engine.archives.tls import tls_context

    assert world.cli("install", "3.12")[0] == 0
    state = world.root / "cache" / ".pyshelf"
    for path in (
        state / "download-sizes.json",
        state / "probe-failures.json",
        world.root / "installs" / KEY / "BUILD",
    ):
        make_special(path, kind)
    code, out, err = finishes(lambda: world.cli("--offline", "list", "--json"))
    assert code == 0, err
    (row,) = [r for r in json.loads(out) if r["key"] == KEY]
    assert row["installed"] is not None
    certs = world.root / "certs.pem"
    make_special(certs, kind)
    monkeypatch.setenv("SSL_CERT_FILE", str(certs))
    with pytest.raises(DownloadError, match="not a regular file"):
        finishes(tls_context)


def test_a_download_larger_than_its_known_size_is_deleted(world: World) -> None:
    shelf = world.shelf()
    build = resolve(KEY, shelf.builds())
    spec = world.spec(KEY)
    shelf.sizes.remember(build, spec.size - 1000)  # what HEAD said earlier
    world.server.fault(spec.filename, no_length=True)
    entry = next(e for e in shelf.entries() if e.key == KEY)
    with pytest.raises(DownloadError, match="more than the archive can be"):
        shelf.fetch(entry)
    assert not list((world.root / "cache").rglob("*.part"))
    assert not list((world.root / "cache").glob("*.tar.gz"))


def test_a_declared_length_over_the_cap_is_refused_before_writing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYSHELF_MAX_DOWNLOAD", "10000")
    shelf = world.shelf()
    assert shelf.downloader.policy.max_bytes == 10_000
    build = resolve(KEY, shelf.builds())
    with pytest.raises(DownloadError, match=r"more than 9\.8 KiB"):
        shelf.downloader.fetch(build)
    assert not list((world.root / "cache").rglob("*.part"))


class _Endless(BaseHTTPRequestHandler):
    """Answers every GET with a body that never ends (until the client leaves)."""

    protocol_version = "HTTP/1.0"
    limit = 64 << 20  # a bound for the test itself, far above what pyshelf may accept

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        sent = 0
        try:
            while sent < self.limit:
                self.wfile.write(b"\0" * 65536)
                sent += 65536
        except OSError:
            pass


@pytest.fixture
def endless_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_endless_download_stops_at_the_cap_and_is_not_kept(
    world: World, endless_url: str
) -> None:
    entries = {KEY: _entry(world, url=f"{endless_url}/20991231/endless.tar.gz")}
    shelf = world.shelf(catalog=str(_write_catalog(world, entries)))
    shelf.downloader.policy.max_bytes = 1 << 20
    build = resolve(KEY, shelf.builds())
    with pytest.raises(DownloadError, match=r"sent more than 1\.0 MiB"):
        shelf.downloader.fetch(build)
    assert not list((world.root / "cache").rglob("*.part"))


def test_an_endless_catalog_stops_at_the_cap(
    endless_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog_module, "MAX_CATALOG_BYTES", 2 << 20)
    with pytest.raises(CatalogError, match="larger than 2 MiB"):
        load_catalog(f"{endless_url}/catalog.json", store=tmp_path)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (3 << 20))
    with pytest.raises(CatalogError, match="larger than 2 MiB"):
        load_catalog(str(big), store=tmp_path)


# -- secrets ----------------------------------------------------------------------------------

SECRET = "s3cr3t-pw"
TOKEN = "t0ken-value"


def _secret_url(server: LoopbackServer) -> str:
    return server.url.replace("http://", f"http://alice:{SECRET}@") + f"/?token={TOKEN}"


def _leaks(text: str) -> bool:
    return SECRET in text or TOKEN in text


def test_credentials_never_appear_in_output_or_files(tmp_path: Path) -> None:
    with LoopbackServer(tmp_path / "srv").start() as server:
        world = build_world(tmp_path, server)
        catalog = json.loads(world.catalog_path.read_text())
        secret_base = server.url.replace("http://", f"http://alice:{SECRET}@")
        for entry in catalog.values():
            entry["url"] = entry["url"].replace(server.url, secret_base) + f"?token={TOKEN}"
        (server.root / "catalog.json").write_text(json.dumps(catalog))
        remote = f"{secret_base}/catalog.json?token={TOKEN}"
        outputs = []
        outputs += world.cli("--catalog", remote, "list", "--json")[1:]
        outputs += world.cli("--catalog", remote, "fetch", "3.12")[1:]
        spec = world.spec("cpython-3.13.1-linux-x86_64-gnu")
        server.fault(spec.filename, status=404)
        outputs += world.cli("--catalog", remote, "fetch", "3.13")[1:]
        server.clear_faults()
        server.fault(spec.filename, corrupt=True)
        outputs += world.cli("--catalog", remote, "fetch", "3.13")[1:]
        server.clear_faults()
        outputs += world.cli("--catalog", f"{secret_base}/missing.json?token={TOKEN}", "list")[1:]
        state = world.root / "cache" / ".pyshelf"
        saved = [p for p in state.rglob("*") if p.is_file() and p.suffix == ".json"]
    # With the server gone: "cannot reach" and the catalog's saved-copy warning.
    outputs += world.cli("--catalog", remote, "fetch", "3.11")[1:]
    assert any("checksum mismatch" in o for o in outputs)
    assert any("HTTP 404" in o for o in outputs)
    assert any("cannot reach" in o for o in outputs)
    assert any("***@" in o for o in outputs)
    for text in outputs:
        assert not _leaks(text), text
    assert saved
    for path in saved:
        assert path.stat().st_mode & 0o077 == 0, path  # 0600: these may hold URLs
        if path.parent.name != "catalogs" or path.name.endswith(".meta.json"):
            assert not _leaks(path.read_text()), path  # what pyshelf writes of its own


def test_credentials_are_not_sent_to_another_host_after_a_redirect(tmp_path: Path) -> None:
    seen: list[tuple[int, str | None]] = []

    def handler(redirect_to: str | None) -> type[BaseHTTPRequestHandler]:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                seen.append((self.server.server_address[1], self.headers.get("Authorization")))
                if redirect_to:
                    self.send_response(302)
                    self.send_header("Location", redirect_to + self.path)
                    self.send_header("Content-Length", "0")
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler

    other = ThreadingHTTPServer(("127.0.0.1", 0), handler(None))
    first = ThreadingHTTPServer(
        ("127.0.0.1", 0), handler(f"http://127.0.0.1:{other.server_address[1]}")
    )
    for server in (other, first):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://alice:{SECRET}@127.0.0.1:{first.server_address[1]}/catalog.json"
        with pytest.raises(CatalogError) as info:
            load_catalog(url, store=tmp_path)
        assert SECRET not in str(info.value)
    finally:
        for server in (other, first):
            server.shutdown()
            server.server_close()
    (first_port, first_auth), (other_port, other_auth) = seen
    assert first_port == first.server_address[1] and first_auth is not None
    assert other_port == other.server_address[1] and other_auth is None


def test_netrc_credentials_reach_their_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, world: World
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login alice password {SECRET}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    (world.server.root / "private.json").write_text(world.catalog_path.read_text())
    catalog = load_catalog(f"{world.server.url}/private.json", store=tmp_path / "store")
    assert catalog.builds
    (request,) = [r for r in world.server.requests if r.path.endswith("/private.json")]
    assert request.headers.get("Authorization", "").startswith("Basic ")
    netrc.write_text("machine")  # a broken netrc is one line, not a traceback
    with pytest.raises(PyshelfError, match=r"cannot read .*netrc, line 1: missing 'machine'"):
        load_catalog(f"{world.server.url}/private.json", store=tmp_path / "store2")

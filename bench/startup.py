"""Start-up, side by side in one run: the app's first frame against a bare Textual app showing
the same rows, and two CLI commands against uv's. Prints a Markdown table.

    python bench/startup.py [--runs 9] [--write bench/STARTUP.md]

Every run is a fresh process in a scratch environment (its own install dir, cache, config
and home), so nothing outside it is read or written, and nothing reaches the internet: the
mirrors point at a loopback server that answers every HEAD with a size.

First frame: each app runs in a pseudo-terminal of 120x36 under the same hook
(``bench/first_frame.py``), timed from the moment its process is spawned to the first
refresh that shows the table's rows; teardown is not timed. The first run of each is a
warm-up (bytecode compiled, download sizes learned).
"""

from __future__ import annotations

import argparse
import datetime
import fcntl
import json
import os
import pty
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench import tool  # bench/bench.py: this script runs from bench/

REPO = Path(__file__).resolve().parent.parent
COLUMNS, LINES = 120, 36
FAKE_SIZE = 31_457_280  # what the loopback mirror says every archive weighs
# As on a user's machine: bytecode compiled once and reused.
BASE_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


# -- the parent ---------------------------------------------------------------------------


class _Mirror(BaseHTTPRequestHandler):
    """Every archive exists and has one size; nothing is ever downloaded from here."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(FAKE_SIZE))
        self.end_headers()

    def do_GET(self) -> None:
        self.send_error(404)


def _in_pty(cmd: list[str], env: dict[str, str]) -> float:
    """Run ``cmd`` in a pseudo-terminal; the seconds from spawn to the time it wrote."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    drained = threading.Thread(target=_drain, args=(master,), daemon=True)
    drained.start()
    with tempfile.NamedTemporaryFile(prefix="frame-", delete=False) as stamp:
        path = stamp.name
    try:
        start = time.monotonic()
        proc = subprocess.Popen(
            [*cmd, path], stdin=slave, stdout=slave, stderr=slave, env=env,
            start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        if proc.wait(timeout=60):
            raise SystemExit(f"{' '.join(cmd)} exited with {proc.returncode}")
        text = Path(path).read_text()
        if not text:
            raise SystemExit(f"{' '.join(cmd)} never showed its rows")
        return float(text) - start
    finally:
        os.unlink(path)
        drained.join(timeout=5)
        os.close(master)


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 65536):
            pass
    except OSError:  # the child closed the terminal
        pass


def _paired(ours: Callable[[], float], ref: Callable[[], float], runs: int) -> tuple[float, float]:
    """Medians of ``runs`` alternate runs of each, after a warm-up of each: a machine whose
    load changes during the bench weighs on both alike."""
    ours(), ref()
    pairs = [(ours(), ref()) for _ in range(runs)]
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def _wall(cmd: list[str], env: dict[str, str]) -> float:
    start = time.monotonic()
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - start
    if result.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stdout}{result.stderr}")
    return elapsed


def _scratch(tmp: Path, mirror: str) -> dict[str, str]:
    env = {
        k: v for k, v in BASE_ENV.items()
        if not k.startswith(("UV_", "PYSHELF_", "XDG_")) and k not in ("NETRC", "SSL_CERT_FILE")
    }  # fmt: skip
    home = tmp / "home"
    home.mkdir()
    return {
        **env,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "XDG_CACHE_HOME": str(tmp / "xdg-cache"),
        "XDG_DATA_HOME": str(tmp / "data"),
        "XDG_BIN_HOME": str(tmp / "bin"),
        "UV_PYTHON_INSTALL_DIR": str(tmp / "installs"),
        "UV_PYTHON_CACHE_DIR": str(tmp / "cache"),
        "UV_CACHE_DIR": str(tmp / "uv-cache"),
        "UV_PYTHON_INSTALL_MIRROR": mirror,
        "UV_PYPY_INSTALL_MIRROR": mirror,
        "UV_NO_CONFIG": "1",
        "TERM": "xterm-256color",
        "COLUMNS": str(COLUMNS),
        "LINES": str(LINES),
    }


def _table_cells(pyshelf: str, env: dict[str, str]) -> list[list[str]]:
    """The rows the app shows by default, as its nine columns' text, for the bare app."""
    listed = json.loads(
        subprocess.run(
            [pyshelf, "list", "--json"], env=env, capture_output=True, text=True, check=True
        ).stdout
    )
    return [
        [
            "", r["version"], r["implementation"], r["variant"] or "", r["build"] or "",
            "○ available", f"{(r['download_size'] or 0) / 2**20:.1f} MiB", "—", "—",
        ]
        for r in listed
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--write", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    pyshelf, uv = tool("pyshelf"), tool("uv")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "tui")], check=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Mirror)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    mirror = f"http://127.0.0.1:{server.server_address[1]}"
    rows: list[tuple[str, float, str, float]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="pyshelf-startup-") as tmp_name:
            tmp = Path(tmp_name)
            env = _scratch(tmp, mirror)
            subprocess.run([pyshelf, "list"], env=env, capture_output=True, check=True)
            cells = _table_cells(pyshelf, env)
            data = tmp / "rows.json"
            data.write_text(json.dumps(cells))
            child = [sys.executable, str(Path(__file__).resolve().with_name("first_frame.py"))]
            n = str(len(cells))
            ours, ref = _paired(
                lambda: _in_pty([*child, "pyshelf", n, "-"], env),
                lambda: _in_pty([*child, "bare", n, str(data)], env),
                args.runs,
            )
            rows.append((f"first frame, {n} rows", ours, "bare Textual app, same rows", ref))

            ours, ref = _paired(
                lambda: _wall([pyshelf, "--help"], env),
                lambda: _wall([uv, "--help"], env),
                args.runs,
            )
            rows.append(("`pyshelf --help`", ours, "`uv --help`", ref))

            uv_list = [uv, "python", "list", "--offline", "--only-downloads"]
            ours, ref = _paired(
                lambda: _wall([pyshelf, "list", "--offline"], env),
                lambda: _wall(uv_list, env),
                args.runs,
            )
            rows.append(("`pyshelf list --offline`", ours, f"`uv {' '.join(uv_list[1:])}`", ref))
    finally:
        server.shutdown()

    today = datetime.date.today().isoformat()
    lines = [
        "| task | pyshelf | reference | reference time | ratio (pyshelf / reference) | date |",
        "|---|---:|---|---:|---:|---|",
    ]
    for task, ours, ref_name, ref in rows:
        lines.append(
            f"| {task} | {ours * 1000:.0f} ms | {ref_name} | {ref * 1000:.0f} ms "
            f"| {ours / ref:.2f}x | {today} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.write:
        args.write.write_text(
            f"Measured by `python bench/startup.py --runs {args.runs}` (median of runs).\n\n"
            f"{table}\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Measure pyshelf against uv, curl and du in one run; print a Markdown table.

    python bench/bench.py [--runs 5] [--write bench/RESULTS.md]

Everything happens on this machine: archives are built from the running interpreter and
served from a loopback HTTP server, so the figures compare tools, not networks.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.loopback import LoopbackServer  # noqa: E402
from tests.pbs_fixtures import catalog_json, make_archive, make_real_archive  # noqa: E402
from tui.engine.du import tree_size  # noqa: E402


def tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"bench needs {name} on PATH (pip install -e '.[test]')")
    return found


def timed(fn: Callable[[], object], runs: int, before: Callable[[], object] | None = None) -> float:
    """Median wall time of ``runs`` calls, after one warm-up."""
    samples = []
    for i in range(runs + 1):
        if before:
            before()
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        if i:
            samples.append(elapsed)
    return statistics.median(samples)


# As on a user's machine: bytecode compiled once and reused. (A shell that sets
# PYTHONDONTWRITEBYTECODE would make every run compile pyshelf's modules again.)
BASE_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(cmd: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(cmd, env={**BASE_ENV, **env}, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stdout}{result.stderr}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--download-mib", type=int, default=100)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    uv, pyshelf, curl, du = tool("uv"), tool("pyshelf"), tool("curl"), tool("du")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "tui")], check=True)
    rows: list[tuple[str, str, float, str, float]] = []
    with tempfile.TemporaryDirectory(prefix="pyshelf-bench-") as tmp_name:
        tmp = Path(tmp_name)
        www = tmp / "www"
        real = make_real_archive(www / "20991231")
        big = make_archive(www / "20991231", version="3.99.0", payload_kib=args.download_mib * 1024)
        with LoopbackServer(www) as server:
            catalog = tmp / "catalog.json"
            catalog.write_text(json.dumps(catalog_json([real, big], server.url)))
            env = {
                "UV_PYTHON_DOWNLOADS_JSON_URL": str(catalog),
                "UV_PYTHON_CACHE_DIR": str(tmp / "cache"),
                "UV_PYTHON_BIN_DIR": str(tmp / "bin"),
                "UV_NO_CONFIG": "1",
            }
            request = f"{real.major}.{real.minor}"
            uv_env = {**env, "UV_PYTHON_INSTALL_DIR": str(tmp / "uv-installs")}
            ps_env = {**env, "UV_PYTHON_INSTALL_DIR": str(tmp / "ps-installs")}
            # Fill the shared cache once (pyshelf fetch), then both tools reinstall offline.
            run([pyshelf, "fetch", request], ps_env)
            run([uv, "python", "install", "--offline", request], uv_env)
            run([pyshelf, "install", request], ps_env)
            uv_time = timed(
                lambda: run([uv, "python", "install", "--reinstall", "--offline", request], uv_env),
                args.runs,
            )
            ps_time = timed(
                lambda: run([pyshelf, "--offline", "reinstall", request], ps_env), args.runs
            )
            task = f"reinstall from cache, offline ({real.size / 2**20:.1f} MiB archive)"
            rows.append((task, "uv", uv_time, "pyshelf", ps_time))

            # Install from the cached archive alone: nothing unpacked, so both tools decompress.
            # (pyshelf's uninstall drops the unpacked copy too, by default.)
            uv_time = timed(
                lambda: run([uv, "python", "install", "--offline", request], uv_env),
                args.runs,
                before=lambda: run([uv, "python", "uninstall", request], uv_env),
            )
            ps_time = timed(
                lambda: run([pyshelf, "--offline", "install", request], ps_env),
                args.runs,
                before=lambda: run([pyshelf, "uninstall", request], ps_env),
            )
            task = f"install from the cached archive alone, offline ({real.size / 2**20:.1f} MiB)"
            rows.append((task, "uv", uv_time, "pyshelf", ps_time))

            # Download throughput on loopback: pyshelf (hashing while streaming) vs curl.
            url = json.loads(catalog.read_text())[big.key]["url"]
            out = tmp / "curl.out"
            curl_time = timed(lambda: run([curl, "-sSfo", str(out), url], {}), args.runs)

            def clear_cache() -> None:
                for p in (tmp / "cache").glob("*3.99.0*"):
                    p.unlink()

            fetch_time = timed(
                lambda: run([pyshelf, "fetch", "3.99"], ps_env), args.runs, before=clear_cache
            )
            label = f"curl ({args.download_mib} MiB, loopback)"
            rows.append(("download + sha256", label, curl_time, "pyshelf fetch", fetch_time))

            # Installed size: tree_size vs du -sb on the running interpreter's own prefix,
            # a realistic tree (stdlib plus site-packages) rather than a toy one.
            target = Path(sys.base_prefix)
            du_time = timed(lambda: run([du, "-sb", str(target)], {}), args.runs)
            scan_time = timed(lambda: tree_size(target), args.runs)
            du_bytes = int(subprocess.check_output([du, "-sb", str(target)]).split()[0])
            assert du_bytes == tree_size(target), (du_bytes, tree_size(target))
            files = sum(1 for _ in target.rglob("*"))
            task = f"size of {target} ({du_bytes / 2**20:.0f} MiB, {files} entries)"
            rows.append((task, "du -sb", du_time, "tree_size", scan_time))

    lines = [
        "| task | reference | time | pyshelf | time | ratio (ref / pyshelf) |",
        "|---|---|---:|---|---:|---:|",
    ]
    for task, ref, ref_t, ours, ours_t in rows:
        ratio = ref_t / ours_t if ours_t else float("nan")
        lines.append(
            f"| {task} | {ref} | {ref_t * 1000:.0f} ms | {ours} | {ours_t * 1000:.0f} ms "
            f"| {ratio:.2f}x |"
        )
    table = "\n".join(lines)
    print(table)
    if args.write:
        args.write.write_text(
            f"Measured by `python bench/bench.py --runs {args.runs}` (median of runs).\n\n{table}\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

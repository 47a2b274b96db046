"""Measure pyshelf against uv, curl and du in one run; print a Markdown table.

    python bench/bench.py [--runs 7] [--readme] [--write bench/RESULTS.md]

Everything happens on this machine: archives are built from the running interpreter (the
whole stdlib with its tests, about the entry count of a real python-build-standalone archive)
and served from a loopback HTTP server, so the figures compare tools, not networks. Each task
alternates the two tools run by run and reports the median of each.

The working directory is on tmpfs (/dev/shm) when there is one: on ext4, freshly deleted
inodes slow file creation for minutes, which would charge one tool for the other's deletes.
The cross-filesystem tasks put the install directory on the disk holding the system temp dir.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from fleet import archives as fleet_archives  # noqa: E402  (bench/fleet.py)
from fleet import fleet_env, versions, write_catalog  # noqa: E402

from tests.loopback import LoopbackServer  # noqa: E402
from tests.pbs_fixtures import (  # noqa: E402
    ArchiveSpec,
    catalog_json,
    make_archive,
    make_real_archive,
)
from tui.engine.du import tree_size  # noqa: E402

README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"


def tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"bench needs {name} on PATH (pip install -e '.[test]')")
    return found


Step = Callable[[], object]


def paired(
    runs: int,
    ref: Step,
    ours: Step,
    before_ref: Step | None = None,
    before_ours: Step | None = None,
    *,
    own_clock: bool = False,
) -> tuple[float, float]:
    """Median wall times of ``ref`` and ``ours``, run alternately after one warm-up each;
    ``before_*`` (not timed) puts the state back between runs. ``own_clock``: each step
    returns the seconds it measured itself (a span inside the process it ran)."""
    samples: tuple[list[float], list[float]] = ([], [])
    for i in range(runs + 1):
        for side, (fn, before) in enumerate(((ref, before_ref), (ours, before_ours))):
            if before:
                before()
            start = time.perf_counter()
            got = fn()
            took = time.perf_counter() - start
            if i:
                samples[side].append(float(got) if own_clock else took)  # type: ignore[arg-type]
    return statistics.median(samples[0]), statistics.median(samples[1])


# As on a user's machine: bytecode compiled once and reused. (A shell that sets
# PYTHONDONTWRITEBYTECODE would make every run compile pyshelf's modules again.)
BASE_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(cmd: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(cmd, env={**BASE_ENV, **env}, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stdout}{result.stderr}")


@dataclass
class Row:
    task: str
    reference: str
    ref_time: float
    ours: str
    our_time: float

    @property
    def ratio(self) -> float:
        return self.our_time / self.ref_time if self.ref_time else float("nan")


def table(rows: list[Row]) -> str:
    lines = [
        "| task | reference | time | pyshelf | time | ratio (pyshelf / reference) |",
        "|---|---|---:|---|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.task} | {r.reference} | {r.ref_time * 1000:.0f} ms | {r.ours} "
            f"| {r.our_time * 1000:.0f} ms | {r.ratio:.2f} |"
        )
    return "\n".join(lines)


class Bench:
    def __init__(
        self, tmp: Path, server_url: str, archives: dict[str, ArchiveSpec], runs: int
    ) -> None:
        self.tmp = tmp
        self.runs = runs
        self.uv, self.pyshelf = tool("uv"), tool("pyshelf")
        self.catalog = tmp / "catalog.json"
        self.catalog.write_text(json.dumps(catalog_json(list(archives.values()), server_url)))
        self.rows: list[Row] = []
        self.fleets: dict[int, dict[str, str]] = {}  # installs -> the environment of that shelf

    def env(self, installs: Path, cache: Path | None) -> dict[str, str]:
        env = {
            "UV_PYTHON_DOWNLOADS_JSON_URL": str(self.catalog),
            "UV_PYTHON_INSTALL_DIR": str(installs),
            "UV_PYTHON_BIN_DIR": f"{installs}-bin",
            "UV_NO_CONFIG": "1",
            "UV_CACHE_DIR": str(self.tmp / "uv-cache"),
        }
        if cache is not None:
            env["UV_PYTHON_CACHE_DIR"] = str(cache)
        return env

    def installs(self, request: str, size_mib: float, installs_root: Path, label: str) -> None:
        """First install, install from the cached archive, and reinstall, uv against pyshelf.

        Every timed install goes into a new, empty install directory and nothing is deleted
        until the end: on ext4, files created where thousands were just deleted are slow for
        minutes, which would measure the filesystem, not the tools. A reinstall replaces a
        tree, so both tools pay for that deletion inside the timing.
        """
        uv, ps = self.uv, self.pyshelf
        cache = self.tmp / f"cache-{label}"
        uv_cache = self.tmp / f"uv-python-cache-{label}"
        numbers = itertools.count()
        where_now = {"uv": installs_root / "uv-0", "ps": installs_root / "ps-0"}

        def fresh(tool: str, also: Callable[[], None] | None = None) -> Callable[[], None]:
            def step() -> None:
                where_now[tool] = installs_root / f"{tool}-{next(numbers)}"
                if also:
                    also()

            return step

        def uv_run(*args: str, cached: bool = True) -> Callable[[], None]:
            python_cache = uv_cache if cached else None
            cmd = [uv, "python", *args, request]
            return lambda: run(cmd, self.env(where_now["uv"], python_cache))

        def ps_run(*args: str) -> Callable[[], None]:
            return lambda: run([ps, *args, request], self.env(where_now["ps"], cache))

        def drop(path: Path) -> Callable[[], None]:
            return lambda: shutil.rmtree(path, ignore_errors=True)  # tmpfs: no after-effects

        # uv streams a first install only without a python cache dir; give it its best case.
        t_uv, t_ps = paired(
            self.runs,
            uv_run("install", cached=False),
            ps_run("install"),
            fresh("uv"),
            fresh("ps", drop(cache)),
        )
        where = "" if label == "same" else ", installs on another filesystem"
        task = f"first install: download + install ({size_mib:.1f} MiB archive{where})"
        self.rows.append(Row(task, "uv python install", t_uv, "pyshelf install", t_ps))

        # Both caches hold the archive; nothing is unpacked, so both tools decompress.
        fresh("uv")()
        uv_run("install")()  # fills uv's python cache
        t_uv, t_ps = paired(
            self.runs,
            uv_run("install", "--offline"),
            ps_run("--offline", "install"),
            fresh("uv"),
            fresh("ps", drop(cache / ".pyshelf" / "unpacked")),
        )
        task = f"install from the cached archive alone, offline{where}"
        self.rows.append(Row(task, "uv python install --offline", t_uv, "pyshelf install", t_ps))

        t_uv, t_ps = paired(
            self.runs,
            uv_run("install", "--reinstall", "--offline"),
            # --yes as uv never asks: with no unpacked copy to compare the install with
            # (another filesystem), pyshelf would refuse to reinstall in a script.
            ps_run("--offline", "reinstall", "--yes"),
        )
        task = f"reinstall, offline{where}"
        uv_label = "uv python install --reinstall"
        self.rows.append(Row(task, uv_label, t_uv, "pyshelf reinstall", t_ps))

    def download(self, url: str, mib: int) -> None:
        curl = tool("curl")
        out = self.tmp / "curl.out"
        env = self.env(self.tmp / "dl-installs", self.tmp / "dl-cache")

        def clear_cache() -> None:
            shutil.rmtree(self.tmp / "dl-cache", ignore_errors=True)

        t_curl, t_ps = paired(
            self.runs,
            lambda: run([curl, "-sSfo", str(out), url], {}),
            lambda: run([self.pyshelf, "fetch", "3.99"], env),
            None,
            clear_cache,
        )
        label = f"curl -o ({mib} MiB, loopback)"
        self.rows.append(Row("download + sha256", label, t_curl, "pyshelf fetch", t_ps))
        sha256sum = tool("sha256sum")
        piped = f"{curl} -sSf {url} | {sha256sum} > /dev/null"  # pipefail: curl's failure counts
        t_pipe, t_ps = paired(
            self.runs,
            lambda: run(["bash", "-o", "pipefail", "-c", piped], {}),
            lambda: run([self.pyshelf, "fetch", "3.99"], env),
            None,
            clear_cache,
        )
        label = f"curl \\| sha256sum ({mib} MiB, loopback)"  # a pipe in a Markdown cell
        self.rows.append(Row("download + sha256", label, t_pipe, "pyshelf fetch", t_ps))

    def fleet(self, server_url: str, specs: list[ArchiveSpec], count: int) -> None:
        """``du``, ``list`` and the app's first frame on a shelf of ``count`` installs: the
        rows whose cost may grow with what the shelf holds."""
        root = self.tmp / f"fleet-{count}"
        # One catalog for every count: what grows is the shelf, not the catalog.
        catalog = write_catalog(self.tmp / f"fleet-{count}.json", specs, server_url)
        env = fleet_env(root, catalog)
        run([self.pyshelf, "install", *versions(count)], env)
        self.fleets[count] = env
        where = [str(root / "installs"), str(root / "cache")]
        t_du, t_ps = paired(
            self.runs,
            lambda: run([tool("du"), "-sb", *where], {}),
            lambda: run([self.pyshelf, "--offline", "du"], env),
        )
        task = f"disk usage, {count} install{'s' * (count > 1)} (install dir and cache)"
        self.rows.append(Row(task, "du -sb", t_du, "pyshelf --offline du", t_ps))
        # uv would run each fake interpreter to list it (and then pyenv's shims on PATH): its
        # catalog listing, which reads no install, is the fixed cost to compare with.
        uv_list = [self.uv, "python", "list", "--offline", "--only-downloads"]
        t_uv, t_ps = paired(
            self.runs,
            lambda: run(uv_list, env),
            lambda: run([self.pyshelf, "--offline", "list"], env),
        )
        task = f"list, {count} install{'s' * (count > 1)}"
        ref = "uv python list --offline --only-downloads"
        self.rows.append(Row(task, ref, t_uv, "pyshelf --offline list", t_ps))
        if count > 1:
            try:
                self.first_frame(root, env, count)
            except SystemExit as exc:  # the other rows stand; say which one is missing
                print(f"first frame at {count} installs not measured: {exc}", file=sys.stderr)

    def growth(self, count: int) -> None:
        """``list`` on the shelf of ``count`` installs against the shelf of one, same catalog:
        how a listing's cost grows with what the shelf holds."""
        one, many = self.fleets[1], self.fleets[count]
        t_one, t_many = paired(
            self.runs,
            lambda: run([self.pyshelf, "--offline", "list"], one),
            lambda: run([self.pyshelf, "--offline", "list"], many),
        )
        ref = "pyshelf --offline list, 1 install"
        task = f"list, {count} installs against 1"
        self.rows.append(Row(task, ref, t_one, f"pyshelf --offline list, {count}", t_many))

    def first_frame(self, root: Path, env: dict[str, str], count: int) -> None:
        """The app's first frame with its rows, against a bare Textual app showing as many
        (``bench/startup.py``'s harness: a pseudo-terminal, one hook for both)."""
        from startup import _in_pty, _table_cells

        full = {**BASE_ENV, **env}
        cells = _table_cells(self.pyshelf, full)
        data = root / "rows.json"
        data.write_text(json.dumps(cells))
        child = [sys.executable, str(REPO / "bench" / "first_frame.py")]
        n = str(len(cells))
        t_bare, t_ps = paired(
            self.runs,
            lambda: _in_pty([*child, "bare", n, str(data)], full),
            lambda: _in_pty([*child, "pyshelf", n, "-"], full),
            own_clock=True,  # spawn to the painted frame: not the exit that follows it
        )
        task = f"first frame of the app, {count} installs ({n} rows)"
        self.rows.append(Row(task, "bare Textual app, same rows", t_bare, "pyshelf", t_ps))

    def memory(self, request: str, fetches: list[tuple[int, str]]) -> list[str]:
        """Peak memory (max RSS, from GNU time) of a first install and of fetches of growing
        archives: the download streams, so it should not grow with the archive."""
        gnu_time = shutil.which("time") and Path("/usr/bin/time")
        if not gnu_time or not gnu_time.exists():
            return []
        lines = []

        def peak(cmd: list[str], env: dict[str, str]) -> int:
            done = subprocess.run(
                [str(gnu_time), "-f", "%M", *cmd],
                env={**BASE_ENV, **env}, capture_output=True, text=True, check=True,
            )  # fmt: skip
            return int(done.stderr.strip().splitlines()[-1])  # KiB

        root = self.tmp / "mem"
        env = self.env(root / "installs", root / "cache")
        kib = peak([self.pyshelf, "install", request], env)
        lines.append(f"first install: {kib / 1024:.0f} MiB")
        for mib, fetch_request in fetches:
            shutil.rmtree(root / "cache", ignore_errors=True)
            kib = peak([self.pyshelf, "fetch", fetch_request], env)
            lines.append(f"fetch of {mib} MiB: {kib / 1024:.0f} MiB")
        return lines

    def sizes(self) -> None:
        """Installed size: tree_size vs du -sb on the running interpreter's own prefix."""
        du = tool("du")
        target = Path(sys.base_prefix)
        t_du, t_ps = paired(
            self.runs, lambda: run([du, "-sb", str(target)], {}), lambda: tree_size(target)
        )
        du_bytes = int(subprocess.check_output([du, "-sb", str(target)]).split()[0])
        assert du_bytes == tree_size(target), (du_bytes, tree_size(target))
        files = sum(1 for _ in target.rglob("*"))
        task = f"size of an interpreter prefix ({du_bytes / 2**20:.0f} MiB, {files} entries)"
        self.rows.append(Row(task, "du -sb", t_du, "tree_size", t_ps))


def repair_pass(work: Path, runs: int) -> str:
    """The repair pass every writing command starts with, over ten installs, their links and
    a bin dir holding forty other tools' entries (tests check what it reads, this its time)."""
    from tui.engine.builds import Build
    from tui.engine.installs.installdir import InstallDir

    installs = InstallDir(work / "repair" / "python", work / "repair" / "bin", lock_timeout=10)
    for minor in range(4, 14):
        spec = make_archive(work / "repair" / "a", version=f"3.{minor}.1", payload_kib=1)
        build = Build(
            spec.implementation, spec.major, spec.minor, spec.patch, spec.prerelease,
            spec.variant, spec.os, spec.arch, spec.libc, spec.build, url=None,
            sha256=spec.sha256,
        )  # fmt: skip
        installs.install(spec.path, build)
    assert installs.bin_dir is not None
    for n in range(40):
        (installs.bin_dir / f"tool{n}").symlink_to("/usr/bin/env")
    samples = []
    for _ in range(max(runs, 50)):
        start = time.perf_counter()
        installs.repair()
        samples.append(time.perf_counter() - start)
    median = statistics.median(samples)
    return f"the repair pass before every writing command (10 installs): {median * 1e3:.2f} ms"


def other_filesystem(work: Path) -> Path | None:
    """A directory on a different filesystem from ``work``, for the cross-filesystem tasks."""
    for candidate in (Path(tempfile.gettempdir()), Path.home(), REPO):
        if candidate.is_dir() and candidate.stat().st_dev != work.stat().st_dev:
            return candidate
    return None


def write_readme(text: str) -> None:
    readme = REPO / "README.md"
    body = readme.read_text()
    pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), re.S)
    if not pattern.search(body):
        raise SystemExit(f"README.md has no {README_START} … {README_END} block")
    readme.write_text(pattern.sub(lambda _: f"{README_START}\n{text}\n{README_END}", body))


PARTS = ("installs", "download", "sizes", "fleet", "memory", "repair")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--download-mib", type=int, default=100)
    parser.add_argument("--fleet", type=int, default=80, help="installs for du, list, frame")
    parser.add_argument("--write", type=Path, help="also write the table to this file")
    parser.add_argument("--readme", action="store_true", help="put the table in README.md")
    parser.add_argument("--skip-startup", action="store_true", help="leave out bench/startup.py")
    parser.add_argument(
        "--only",
        type=lambda text: set(text.split(",")),
        default=set(PARTS),
        help=f"a comma-separated subset of {','.join(PARTS)} (implies --skip-startup)",
    )
    args = parser.parse_args()
    if unknown := args.only - set(PARTS):
        parser.error(f"--only: unknown parts {sorted(unknown)}; choose from {','.join(PARTS)}")
    if args.only != set(PARTS):
        args.skip_startup = True
    only = args.only
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "tui")], check=True)
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="pyshelf-bench-", dir=base) as tmp_name:
        tmp = Path(tmp_name)
        www = tmp / "www"
        real = make_real_archive(www / "20991231", full=True)
        big = make_archive(www / "20991231", version="3.99.0", payload_kib=args.download_mib * 1024)
        huge_mib = 4 * args.download_mib  # memory must not grow with the archive
        archives = {"real": real, "big": big}
        if "memory" in only:
            archives["huge"] = make_archive(
                www / "20991231", version="3.98.0", payload_kib=huge_mib * 1024
            )
        fleet_specs = fleet_archives(www, args.fleet) if "fleet" in only else []
        with LoopbackServer(www) as server:
            bench = Bench(tmp, server.url, archives, args.runs)
            request = f"{real.major}.{real.minor}"
            size_mib = real.size / 2**20
            if "installs" in only:
                bench.installs(request, size_mib, tmp / "installs", "same")
            elsewhere = other_filesystem(tmp) if "installs" in only else None
            if elsewhere is not None:
                with tempfile.TemporaryDirectory(prefix="pyshelf-bench-", dir=elsewhere) as other:
                    bench.installs(request, size_mib, Path(other), "cross")
            url = json.loads(bench.catalog.read_text())[big.key]["url"]
            if "download" in only:
                bench.download(url, args.download_mib)
            if "sizes" in only:
                bench.sizes()
            for count in sorted({1, args.fleet}) if "fleet" in only else ():
                bench.fleet(server.url, fleet_specs, count)
            if "fleet" in only and args.fleet > 1:
                bench.growth(args.fleet)
            fetches = [(args.download_mib, "3.99"), (huge_mib, "3.98")]
            memory = bench.memory(request, fetches) if "memory" in only else []
            repair = repair_pass(tmp, args.runs) if "repair" in only else None
    where = "tmpfs" if base else "the system temp dir"
    when = datetime.date.today().isoformat()
    cpus = os.cpu_count()
    text = (
        f"Measured on {when} by `python bench/bench.py --runs {args.runs}` on a {cpus}-core "
        f"{platform.system()} machine, working on {where}; medians of alternating runs.\n\n"
        f"{table(bench.rows)}"
    )
    if memory:
        text += "\n\nPeak memory (max RSS): " + "; ".join(memory) + "."
    if repair is not None:
        text += f"\n\nMedian time of {repair}."
    if not args.skip_startup:  # the app's first frame and two commands' start-up
        startup = subprocess.run(
            [sys.executable, str(REPO / "bench" / "startup.py"), "--runs", str(max(args.runs, 5))],
            env=BASE_ENV, capture_output=True, text=True, check=True,
        )  # fmt: skip
        text += "\n\nStart-up (`bench/startup.py`):\n\n" + startup.stdout.strip()
    print(text)
    if args.write:
        args.write.write_text(text + "\n")
    if args.readme:
        write_readme(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

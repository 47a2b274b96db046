"""The du walk shared among helper processes gives the figures of one walk in turn."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tui.engine import du
from tui.engine.du import Job, Measured, Tally

TREES = 16  # above du.PARALLEL_MIN_TREES: measure_all hands trees to helpers


def _shelf(root: Path) -> list[Job]:
    """Trees with files hard-linked within a group, across groups (so across walkers), one
    linked into three trees, one whose other link lies outside every tree, a symlink, and a
    folder that one tree leaves out."""
    jobs = []
    for n in range(TREES):
        tree = root / f"t{n:02}"
        (tree / "lib" / "pkg").mkdir(parents=True)
        (tree / "lib" / "pkg" / "own.py").write_bytes(b"x" * (100 + n))
        (tree / "bin").mkdir()
        (tree / "bin" / "python").symlink_to("../lib/pkg/own.py")
        jobs.append(Job(tree, (), f"group{n // 2}"))
    for n in range(0, TREES, 2):  # within a group: tree n+1 links tree n's file
        os.link(root / f"t{n:02}/lib/pkg/own.py", root / f"t{n + 1:02}/lib/linked.py")
    for a, b in ((0, 9), (3, 12), (14, 5)):  # across groups: settled after the walk
        os.link(root / f"t{a:02}/lib/pkg/own.py", root / f"t{b:02}/lib/cross{a}.py")
    (root / "t02" / "three.bin").write_bytes(b"3" * 3000)
    for n in (7, 11):
        os.link(root / "t02" / "three.bin", root / f"t{n:02}" / "three.bin")
    (root / "t04" / "outside.bin").write_bytes(b"o" * 700)
    os.link(root / "t04" / "outside.bin", root / "outside.bin")
    (root / "t06" / "skipped").mkdir()
    (root / "t06" / "skipped" / "big.bin").write_bytes(b"s" * 5000)
    jobs[6] = Job(root / "t06", frozenset({os.path.join(root, "t06", "skipped")}), "group3")
    return jobs


def _in_turn(jobs: list[Job]) -> list[Measured]:
    tally = Tally()
    out = [tally.measure(job.path, job.skip) for job in jobs]
    assert all(m is not None for m in out)
    return out  # type: ignore[return-value]


def _agree(shared_out: list[Measured], in_turn: list[Measured]) -> None:
    assert [(m.size, m.shared) for m in shared_out] == [(m.size, m.shared) for m in in_turn]
    for tree, (ours, theirs) in enumerate(zip(shared_out, in_turn, strict=True)):
        # Whom a tree shares with: the first holder at least, and only earlier trees.
        assert theirs.sharers <= ours.sharers and all(s < tree for s in ours.sharers)


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(du, "_cores", lambda: 2)


def test_helpers_give_the_figures_of_one_walk(
    tmp_path: Path, two_cores: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = _shelf(tmp_path)
    started = []
    real_popen = subprocess.Popen

    def popen(*args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        started.append(args[0])
        return real_popen(*args, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(du.subprocess, "Popen", popen)
    in_turn = _in_turn(jobs)
    shared_out = Tally().measure_all(jobs)
    assert shared_out is not None and len(started) == 1  # one helper beside this process
    _agree(shared_out, in_turn)
    assert in_turn[9].sharers == {0, 8} and in_turn[11].sharers == {2, 10}
    assert in_turn[15].sharers == {5} <= shared_out[15].sharers  # met again by a helper


@pytest.mark.skipif(shutil.which("du") is None or sys.platform != "linux", reason="GNU du")
def test_helpers_agree_with_du(tmp_path: Path, two_cores: None) -> None:
    jobs = [job for job in _shelf(tmp_path) if not job.skip]
    shared_out = Tally().measure_all(jobs)
    assert shared_out is not None
    paths = [os.fspath(job.path) for job in jobs]
    lines = subprocess.run(["du", "-sb", *paths], capture_output=True, text=True, check=True)
    assert [int(line.split()[0]) for line in lines.stdout.splitlines()] == [
        m.size for m in shared_out
    ]


def test_the_walk_goes_on_after_the_helpers(tmp_path: Path, two_cores: None) -> None:
    """A tree measured after a shared walk still counts a link met in a helper's tree once."""
    jobs = _shelf(tmp_path)
    (tmp_path / "late").mkdir()
    os.link(tmp_path / "t02" / "three.bin", tmp_path / "late" / "three.bin")  # a 4th link
    os.link(tmp_path / "outside.bin", tmp_path / "late" / "outside.bin")
    tally = Tally()
    assert tally.measure_all(jobs) is not None
    late = tally.measure(tmp_path / "late")
    assert late is not None and late.shared == 3000 + 700
    assert late.sharers == {2, 4} and tally.measure(tmp_path / "outside.bin") == Measured(
        0, 700, frozenset({4})
    )


@pytest.mark.parametrize("helper", ["/nonexistent/python", "false", ""])
def test_a_helper_that_fails_has_its_trees_walked_here(
    tmp_path: Path, two_cores: None, monkeypatch: pytest.MonkeyPatch, helper: str
) -> None:
    jobs = _shelf(tmp_path)
    in_turn = _in_turn(jobs)
    monkeypatch.setattr(du.sys, "executable", helper and (shutil.which(helper) or helper))
    shared_out = Tally().measure_all(jobs)
    assert shared_out is not None
    _agree(shared_out, in_turn)


def test_a_cancelled_shared_walk_returns_none(tmp_path: Path, two_cores: None) -> None:
    cancel = threading.Event()
    cancel.set()
    assert Tally().measure_all(_shelf(tmp_path), cancel) is None


@pytest.fixture
def no_helpers(two_cores: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a helper started")

    monkeypatch.setattr(du.subprocess, "Popen", refuse)


@pytest.mark.parametrize("files", [0, 3 * du.PARALLEL_MIN_TREES])
def test_few_folders_are_walked_here(tmp_path: Path, no_helpers: None, files: int) -> None:
    """Below a dozen folders no helper starts; archives in the cache are one lstat each, so
    however many there are, they never count as folders to share out."""
    jobs = _shelf(tmp_path)[: du.PARALLEL_MIN_TREES - 1]
    for n in range(files):
        (tmp_path / f"archive{n}.tar.gz").write_bytes(b"a" * n)
        jobs.append(Job(tmp_path / f"archive{n}.tar.gz", folder=False))
    shared_out = Tally().measure_all(jobs)
    assert shared_out is not None
    _agree(shared_out, _in_turn(jobs))


def test_the_trees_walked_here_are_told_as_they_end(tmp_path: Path, two_cores: None) -> None:
    """Progress: each tree this process walks is told once, with the final figure unless a
    link across walkers moved its bytes; the helper's come with the list returned."""
    jobs = _shelf(tmp_path)
    told: list[tuple[int, Measured]] = []
    shared_out = Tally().measure_all(jobs, walked=lambda n, m: told.append((n, m)))
    assert shared_out is not None and 0 < len(told) < len(jobs)
    assert len({n for n, _ in told}) == len(told)
    moved = {n for n, m in told if m != shared_out[n]}
    assert moved <= {n for n, m in enumerate(shared_out) if m.shared}
    in_turn = Tally()
    told.clear()
    assert in_turn.measure_all(jobs[:3], walked=lambda n, m: told.append((n, m))) is not None
    assert [n for n, _ in told] == [0, 1, 2]

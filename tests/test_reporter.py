"""The CLI's progress: live bars that never wrap on a terminal, plain lines otherwise."""

from __future__ import annotations

import io

import pytest

from tui.cli.reporter import ProgressPrinter as Reporter
from tui.engine.jobs import JobEvent, JobKind, Phase


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def a_terminal_that_moves_the_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")  # whatever the machine running the tests has


def test_a_dumb_terminal_gets_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "dumb")
    out = Terminal()
    Reporter(out).on_event(event(1, Phase.DOWNLOADING, 10, 100))
    assert "\x1b" not in out.getvalue() and out.getvalue().startswith("fetch ")


def event(job_id: int, phase: Phase, done: int = 0, total: int | None = None) -> JobEvent:
    key = f"cpython-3.1{job_id}.7-linux-x86_64-gnu"
    return JobEvent(job_id, JobKind.FETCH, key, phase, done, total, 2048.0, 3.0, None, None)


def test_live_block_is_redrawn_in_place_and_cut_to_the_width(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    out = Terminal()
    reporter = Reporter(out)
    reporter.on_event(event(1, Phase.DOWNLOADING, 10, 100))
    reporter.on_event(event(2, Phase.DOWNLOADING, 50, 100))
    reporter.on_event(event(1, Phase.DOWNLOADING, 90, 100))
    text = out.getvalue()
    # Each redraw climbs back over the lines it drew before (1, then 2).
    assert "\x1b[1F" in text and "\x1b[2F" in text
    lines = [line.removeprefix("\x1b[2K") for line in text.split("\n") if line]
    assert all(len(line.split("\x1b[2K")[-1]) <= 59 for line in lines)


def test_at_80_columns_the_bar_gives_way_to_bytes_speed_and_eta(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    out = Terminal()
    Reporter(out).on_event(event(1, Phase.DOWNLOADING, 45 << 20, 100 << 20))
    line = out.getvalue().split("\x1b[2K")[-1].rstrip("\n")
    assert len(line) <= 79
    assert "45.0 MiB / 100.0 MiB" in line and "2.0 KiB/s" in line and "ETA" in line
    monkeypatch.setenv("COLUMNS", "200")
    wide = Terminal()
    Reporter(wide).on_event(event(1, Phase.DOWNLOADING, 45 << 20, 100 << 20))
    assert "[#########-----------]" in wide.getvalue()  # room enough: the whole bar
    both = Terminal()  # two jobs for one platform: the lines leave the shared part out
    reporter = Reporter(both)
    reporter.on_event(event(1, Phase.DOWNLOADING, 1, 2))
    reporter.on_event(event(2, Phase.DOWNLOADING, 1, 2))
    last = both.getvalue().split("\x1b[1F")[-1]  # the redraw after the second job came
    assert "cpython-3.11.7 " in last and "linux-x86_64-gnu" not in last


def test_plain_output_logs_phases_and_tenths_only() -> None:
    out = io.StringIO()
    reporter = Reporter(out)
    reporter.on_event(event(1, Phase.QUEUED))
    for done in range(0, 101, 2):
        reporter.on_event(event(1, Phase.DOWNLOADING, done, 100))
    reporter.on_event(
        JobEvent(1, JobKind.FETCH, "k", Phase.DONE, 0, None, None, None, None, "cached")
    )
    lines = out.getvalue().splitlines()
    assert "\x1b" not in out.getvalue()
    assert 10 <= len(lines) <= 14  # queued, one line per tenth, done: not one per chunk
    assert "ETA" in lines[2] and "%" in lines[2]
    assert lines[-1].endswith("cached")


@pytest.mark.parametrize("stream", [io.StringIO, Terminal])
def test_warnings_come_last_one_line_each(stream: type[io.StringIO]) -> None:
    out = stream()
    reporter = Reporter(out)
    reporter.on_event(event(1, Phase.EXTRACTING, 5, 10))
    done = JobEvent(
        1, JobKind.INSTALL, "k", Phase.DONE, 0, None, None, None, None, "installed",
        warnings=("bin/python3.12 exists and is not managed by uv; left alone", "second"),
    )  # fmt: skip
    reporter.on_event(done)
    assert "warning" not in out.getvalue()  # not inside a block that is still redrawn
    reporter.finish()
    assert out.getvalue().splitlines()[-2:] == [
        "pyshelf: warning: bin/python3.12 exists and is not managed by uv; left alone",
        "pyshelf: warning: second",
    ]

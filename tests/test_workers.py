"""The job queue's worker threads: order, parallelism up to the limit, and close."""

from __future__ import annotations

import threading

import pytest

from tui.engine import workers
from tui.engine.workers import Workers


def test_calls_start_at_once_up_to_the_limit_then_wait_their_turn() -> None:
    pool = Workers(2, "t")
    release = threading.Event()
    started: list[int] = []
    both = threading.Barrier(3)

    def call(n: int) -> None:
        started.append(n)
        if n < 2:
            both.wait(10)  # the first two run at the same time
            assert release.wait(10)

    for n in range(4):
        pool.submit(lambda n=n: call(n))
    both.wait(10)
    assert sorted(started) == [0, 1]  # the third waits for a free thread
    release.set()
    pool.close()  # runs what is queued before it returns
    assert sorted(started) == [0, 1, 2, 3] and started[2:] == [2, 3]
    with pytest.raises(RuntimeError):
        pool.submit(lambda: None)
    assert not [t for t in threading.enumerate() if t.name.startswith("t_")]


def test_an_idle_thread_ends_and_a_new_call_gets_another(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "IDLE_SECONDS", 0.01)
    pool = Workers(4, "idle")
    done = threading.Event()
    pool.submit(done.set)
    assert done.wait(10)
    for thread in [t for t in threading.enumerate() if t.name.startswith("idle_")]:
        thread.join(10)  # ends by itself, with nothing to do
    again = threading.Event()
    pool.submit(again.set)
    assert again.wait(10)
    pool.close()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_call_that_raises_frees_its_thread() -> None:
    pool = Workers(1, "raise")

    def fail() -> None:
        raise SystemExit  # a BaseException ends the thread; the next call gets a new one

    pool.submit(fail)
    ran = threading.Event()
    pool.submit(ran.set)
    assert ran.wait(10)
    pool.close()

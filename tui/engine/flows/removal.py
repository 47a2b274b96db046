"""Removal as a flow: confirm a plan (a second time, naming them, when it breaks
environments), carry it out on the queue, and say what it freed.

``uninstall``, ``evict`` and ``prune`` on the command line and the upgrade flow's last step
go through here; the plan itself and its execution are ``tui.engine.usage.removal``'s.
"""

from __future__ import annotations

from tui.engine.errors import PyshelfError
from tui.engine.flows.questions import Answer, Flow, Note, Question, Removed, Stopped, Topic
from tui.engine.jobs import JobQueue
from tui.engine.shelf import Shelf
from tui.engine.usage.removal import Outcome, Plan, Removing, count_users, execute
from tui.format import counted, human_size


def wait_out(removing: Removing) -> Outcome:
    """``removing``'s outcome; an interruption while waiting cancels it first (Stopped)."""
    try:
        outcome = removing.wait()
    except BaseException:
        removing.cancel()
        raise Stopped(removing.wait()) from None
    assert outcome is not None  # no timeout: it is over
    return outcome


def nothing_to_remove(plan: Plan) -> str:
    """Why an empty plan removes nothing, one line."""
    item, why = plan.refused[0] if plan.refused else (None, "nothing on disk to remove")
    return f"{item.name}: {why}" if item else why


def removal(
    plan: Plan, shelf: Shelf, queue: JobQueue, *, verb: str = "Remove"
) -> Flow[Outcome | None]:
    """Ask about ``plan`` (twice when it breaks environments), run it, and return its
    outcome; None when an answer was not yes. PyshelfError for a plan that removes nothing."""
    if plan.empty:
        raise PyshelfError(nothing_to_remove(plan))
    items = counted(len(plan.removals), "item")
    question = Question(
        Topic.REMOVE, f"{verb} {items}, freeing {human_size(plan.freed)}?", plan=plan,
        must_answer=True,
    )  # fmt: skip
    if (yield question) is not Answer.YES:
        return None
    in_use_ok = False
    if plan.needs_second_confirmation:
        broken = count_users(u for u, _ in plan.broken_envs)
        second = Question(
            Topic.BREAK, f"{broken} will break. Remove the interpreters they use anyway?",
            plan=plan, firmness=2, must_answer=True,
        )  # fmt: skip
        if (yield second) is not Answer.YES:
            return None
        in_use_ok = True
    return (yield from carry_out(plan, shelf, queue, in_use_ok=in_use_ok, verb=verb))


def carry_out(
    plan: Plan, shelf: Shelf, queue: JobQueue, *, in_use_ok: bool, verb: str
) -> Flow[Outcome]:
    """Run an answered plan, one job per step, and say each step's result and the whole."""
    outcome = wait_out(execute(plan, shelf, queue, confirmed_in_use=in_use_ok))
    for result in outcome.results:
        done = f"failed: {result.error}" if result.error else f"freed {human_size(result.freed)}"
        yield Note(f"{result.step.action} {result.step.label}: {done}", detail=True)
    yield Removed(outcome, verb)
    return outcome

"""The builds view's jobs: ask when a job deletes or replaces, submit, tell how each went.

``BuildJobs`` is held by ``MainScreen``, which hands it the table the jobs act on and routes
the messages that concern them here; the queue panel and the status line stay the screen's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from tui.app import kinds
from tui.app.builds.status_line import StatusLine
from tui.app.builds.table import ShelfTable
from tui.app.commands import Command
from tui.app.dialogs.confirm import ConfirmScreen
from tui.app.keys import bound_key
from tui.app.messages import JobUpdated, RemovalDone
from tui.app.present import freeable, row_id
from tui.app.queue.panel import QueuePanel
from tui.app.rules import needs_confirmation, replacements
from tui.app.threads import in_thread
from tui.app.view import View
from tui.engine.jobs import Job, JobEvent, JobKind, Phase
from tui.engine.jobspec import spec
from tui.engine.shelf import Entry, Shelf
from tui.format import human_size

# The removal engine and its dialogs load when a removal is first asked for, not at start.
if TYPE_CHECKING:
    from tui.app.disk.scope import Scope
    from tui.engine.usage.ledger import Ledger
    from tui.engine.usage.removal import Action, Outcome, Plan


def table_sizes(plan: Plan, ledger: Ledger) -> None:
    """Give each item of ``plan`` the size the table shows for it (the ledger's): a plan's
    fresh inventory is not measured."""
    sizes = {os.path.abspath(i.path): i.size for i in ledger.items}
    for item in plan.items:
        if item.size is None:
            item.size = sizes.get(os.path.abspath(item.path))


def scope_cwd(scope: Scope | None) -> Path:
    """Where environments and pins are looked for: the scope's folder, or the current one."""
    return scope.cwd if scope is not None and scope.cwd is not None else Path.cwd()


class BuildJobs:
    """Jobs on the builds of ``table``, run on ``view``'s queue and followed in ``panel``
    and ``status``, their questions and notices shown over ``view``.

    ``entries`` and ``ledger`` are the view's rows and sizes as loaded last; ``changed``
    lists the builds again once a job has changed the disk; ``shown`` shows the highlighted
    row's details again (its job moved on).
    """

    def __init__(
        self,
        view: View,
        shelf: Shelf,
        scope: Scope | None,
        table: ShelfTable,
        panel: QueuePanel,
        status: StatusLine,
        *,
        entries: Callable[[], list[Entry]],
        ledger: Callable[[], Ledger | None],
        changed: Callable[[], object],
        shown: Callable[[], None],
    ) -> None:
        self.view = view
        self.shelf = shelf
        self.queue = view.queue
        self.scope = scope
        self.table = table
        self.panel = panel
        self.status = status
        self.entries = entries
        self.ledger = ledger
        self.changed = changed
        self.shown = shown

    def cwd(self) -> Path:
        return scope_cwd(self.scope)

    def request(self, kind: JobKind) -> None:
        """Run ``kind`` on the marked rows (or the highlighted one), asking first if it deletes."""
        view = self.view
        why_not = self.table.why_not
        targets = self.table.targets()
        if not targets:
            view.notify("no build highlighted", severity="warning")
            return
        ok = [e for e in targets if why_not(kind, e) is None]
        skipped = [e for e in targets if why_not(kind, e) is not None]
        if not ok:
            reason = why_not(kind, targets[0])
            view.notify(f"{targets[0].build.describe()}: {reason}", severity="warning", timeout=4)
            return
        if skipped:
            reason = why_not(kind, skipped[0])
            view.notify(
                f"skipped {len(skipped)}: {skipped[0].build.describe()}: {reason}",
                severity="warning",
                timeout=4,
            )
        what = ok[0].build.describe() if len(ok) == 1 else f"{len(ok)} builds"
        job, words = spec(kind), kinds.words(kind)
        title = words.question.format(what=what)
        if job.destroys:
            from tui.engine.usage.removal import Action

            # The same plan, confirmations and execution as the disk-usage view's x: the
            # removal action of a build job is named as the job is (uninstall, evict).
            self._plan_removal(Action(job.verb), ok, title, words.title)
            return
        if kind == JobKind.REINSTALL and any(e.installation is not None for e in ok):
            self._check_reinstall(ok, title)  # one key, unless it would throw work away
            return
        if not needs_confirmation(kind, ok):
            self._submit(kind, ok)
            return

    def _check_reinstall(self, entries: list[Entry], title: str) -> None:
        """Walk each install against its unpacked copy off the UI thread."""

        def walk() -> None:
            lines = []
            for entry in entries:
                losses = self.shelf.reinstall_losses(entry)
                if not losses.none:
                    lines.append(f"{entry.build.describe()}: {losses.describe()}")
            self.view.app.call_from_thread(self._reinstall_or_ask, entries, title, lines)

        in_thread(self.view, "_check_reinstall", walk, group="reinstall", exclusive=True)

    def _reinstall_or_ask(self, entries: list[Entry], title: str, losses: list[str]) -> None:
        if not losses:
            self._submit(JobKind.REINSTALL, entries)
            return
        screen = ConfirmScreen(
            title,
            replacements(entries),
            verb="Reinstall",
            total_label="replaces",
            note="; ".join(losses),
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._submit(JobKind.REINSTALL, entries)

        self.view.app.push_screen(screen, answered)

    def _plan_removal(
        self, action: Action, entries: list[Entry], title: str, verb: str, note: str = ""
    ) -> None:
        """Make the plan off the UI thread (it walks trees and looks for environments)."""

        def plan() -> None:
            made = self.plan_builds(action, entries)
            self.view.app.call_from_thread(self._ask_plan, made, title, verb, note)

        in_thread(self.view, "_plan_removal", plan, group="confirm", exclusive=True)

    def plan_builds(self, action: Action, entries: list[Entry]) -> Plan:
        """``plan_builds`` (the scope's, when it has one), its items priced as the table
        prices them, so the dialog speaks in the table's figures. Walks trees: a worker's."""
        if self.scope is not None:
            planner = self.scope.plan_builds
        else:
            from tui.engine.usage.removal import plan_builds as planner
        plan = planner(self.shelf, action, entries, cwd=self.cwd())
        if (ledger := self.ledger()) is not None:
            table_sizes(plan, ledger)
        return plan

    def _ask_plan(self, plan: Plan, title: str, verb: str, note: str = "") -> None:
        if plan.empty:
            item, why = plan.refused[0] if plan.refused else (None, "nothing to remove")
            self.view.notify(f"{item.name}: {why}" if item else why, severity="warning", timeout=5)
            return

        from tui.app.dialogs.plan_confirm import confirm_plan

        def run(in_use_ok: bool) -> None:
            self.table.action_clear_marks()
            self.execute_plan(plan, in_use_ok, verb)

        confirm_plan(self.view.app, plan, title, verb, run, note)

    def free_cache(self) -> None:
        """Evict what the header's "could free" counts (``present.freeable``), asking first."""
        from tui.engine.usage.removal import Action

        targets = freeable(self.entries())
        if not targets:
            self.view.notify("nothing to free: no installed build keeps its archive", timeout=4)
            return
        note = "Installs keep working; reinstalling one then downloads its archive again."
        self._plan_removal(Action.EVICT, targets, "Evict what could be freed?", "Evict", note)

    def execute_plan(self, plan: Plan, in_use_ok: bool, verb: str = "Remove") -> None:
        """Steps run as jobs on the app's queue, each shown in the panel; one notification
        (``removal_done``) says how the whole removal went."""

        def done(outcome: Outcome) -> None:
            self.view.post_message(RemovalDone(outcome, verb))

        def execute() -> None:
            from tui.engine.usage.removal import execute

            execute(plan, self.shelf, self.queue, confirmed_in_use=in_use_ok, on_done=done)

        in_thread(self.view, "_execute_plan", execute, group="remove")

    def removal_done(self, outcome: Outcome, verb: str) -> None:
        from tui.app.removal_notice import notice

        text, failed = notice(outcome)
        self.view.notify(
            text,
            title=verb if not failed else f"{verb} failed",
            severity="error" if failed else "information",
            timeout=8 if failed else 4,
        )

    def _submit(self, kind: JobKind, entries: list[Entry]) -> None:
        for entry in entries:
            self.queue.submit(kind, entry)
        self.table.action_clear_marks()

    def follow(self) -> Callable[[], None]:
        """Show the jobs already in the queue, then follow it (``JobUpdated``); returns what
        stops following."""
        for job in list(self.queue.jobs):  # a queue handed over with work already in it
            self.panel.show_event(job.snapshot())
        self.update_jobs_line()
        post = self.view.post_message

        def moved(event: JobEvent) -> None:
            post(JobUpdated(event))  # the queue calls back on its threads: post is thread-safe

        return self.queue.subscribe(moved)

    def updated(self, event: JobEvent) -> None:
        """A job moved on: the panel (which stays as it was: Q opens it), the jobs line,
        the table's row and its details."""
        self.panel.show_event(event)
        self.update_jobs_line()
        self.table.set_job(event)
        if event.phase.final:
            self.finished(event)
        entry = self.table.highlighted
        if entry is not None and entry.key == event.key:
            self.shown()

    def update_jobs_line(self) -> None:
        """Say in the status line how many jobs run while the queue panel is closed."""
        running = len(self.queue.active())
        if running and not self.panel.display:
            key = bound_key(self.view.app, "queue")
            jobs = "job" if running == 1 else "jobs"
            self.status.set_jobs(f"◌ {running} {jobs} running · {key} shows the queue")
        else:
            self.status.set_jobs(None)

    def retry(self, job: Job) -> None:
        """Run a failed or cancelled job again, on its build as the engine sees it now, not
        as it was when the job began."""
        assert job.entry is not None
        rid = row_id(job.entry)
        fresh = next((e for e in self.entries() if row_id(e) == rid), job.entry)
        self.panel.remove_job(job.id)
        self.queue.submit(job.kind, fresh)

    def finished(self, event: JobEvent) -> None:
        """Tell how a job went, then list the builds again: the engine says what changed."""
        notify = self.view.notify
        verb = spec(event.kind).verb
        for warning in event.warnings:
            notify(warning, title=f"{verb}: warning", severity="warning", timeout=8)
        if spec(event.kind).destroys:
            pass  # a step of a removal plan: the plan's one notification follows
        elif event.phase == Phase.DONE:
            freed = f", freed {human_size(event.freed)}" if event.freed else ""
            notify(f"{event.key}: {event.result or 'done'}{freed}", title=verb, timeout=3)
        elif event.phase == Phase.FAILED:
            notify(
                f"{event.key}: {event.error}", title=f"{verb} failed", severity="error", timeout=8
            )
        else:
            notify(f"{event.key}: cancelled", title=verb, timeout=3)
        self.changed()

    def make_default(self, key: str) -> None:
        """``install --default`` for an install already there: the bin dir's links, by uv's
        rules (a name neither uv nor pyshelf made is left alone, and said)."""
        in_thread(
            self.view, "make_default", partial(self._link_bin, key), group="default", exclusive=True
        )

    def _link_bin(self, key: str) -> None:
        app, notify = self.view.app, self.view.notify
        done = self.shelf.installs.link_bin(key, default=True, force=False)
        if done is None:
            app.call_from_thread(notify, f"{key} is no longer installed", severity="warning")
            return
        links, warnings = done
        made = ", ".join(link.name for link in links.linked) or "no link"
        text = f"{key}: linked {made}"
        if links.refused:
            left = ", ".join(link.name for link in links.refused)
            text += f"; left {left} alone (neither uv nor pyshelf made it)"
        severity = "warning" if links.refused or warnings else "information"
        app.call_from_thread(notify, "\n".join([text, *warnings]), severity=severity)

    def commands(self) -> Iterator[Command]:
        """The palette's jobs for the marked (or highlighted) builds."""
        key = partial(bound_key, self.view.app)
        table = self.table
        targets = table.targets()
        what = f"{len(targets)} marked builds" if len(targets) > 1 else ""
        if len(targets) == 1:
            what = targets[0].build.describe()
        for job in kinds.table_specs():
            if any(table.why_not(job.kind, e) is None for e in targets):
                words = kinds.words(job.kind)
                yield (
                    f"{words.palette or words.title}: {what}",
                    partial(self.request, job.kind),
                    f"{words.help} ({key(kinds.action(job.kind))})",
                )

    def default_commands(self) -> Iterator[Command]:
        """The palette's "make the default python", for an installed build."""
        entry = self.table.highlighted
        if entry is not None and entry.installation is not None:
            yield (
                f"Make the default python: {entry.build.describe()}",
                partial(self.make_default, entry.key),
                "python, python3 and its python3.X in the bin dir, as pyshelf install --default",
            )

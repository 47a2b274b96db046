"""The builds view's jobs: ask when a job deletes or replaces, submit, follow, cancel, retry.

``MainScreen`` is this screen with its table and panels; the part that talks to the queue is
here so each module stays readable.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work

from tui.app import kinds
from tui.app.keys import bound_key
from tui.app.messages import JobRequested, JobUpdated, RemovalDone
from tui.app.present import freeable, row_id
from tui.app.rules import needs_confirmation, replacements
from tui.app.screens.confirm import ConfirmScreen
from tui.app.screens.view import View
from tui.app.widgets.details import DetailsPane
from tui.app.widgets.queue_panel import QueuePanel
from tui.app.widgets.shelf_table import ShelfTable
from tui.app.widgets.status_line import StatusLine
from tui.engine.jobs import Job, JobEvent, JobKind, JobQueue, Phase
from tui.engine.jobspec import spec
from tui.engine.shelf import Entry, Shelf
from tui.format import human_size

# The removal engine and its dialogs load when a removal is first asked for, not at start.
if TYPE_CHECKING:
    from tui.app.screens.cleanup import Scope
    from tui.engine.usage.ledger import Ledger
    from tui.engine.usage.removal import Action, Plan


def table_sizes(plan: Plan, ledger: Ledger) -> None:
    """Give each item of ``plan`` the size the table shows for it (the ledger's): a plan's
    fresh inventory is not measured."""
    sizes = {os.path.abspath(i.path): i.size for i in ledger.items}
    for item in plan.items:
        if item.size is None:
            item.size = sizes.get(os.path.abspath(item.path))


class BuildJobs(View):
    """Jobs on the builds of ``table``, run on ``queue`` and shown in ``queue_panel``."""

    shelf: Shelf
    queue: JobQueue
    scope: Scope | None
    all_entries: list[Entry]
    table: ShelfTable
    ledger: Ledger | None
    queue_panel: QueuePanel
    details: DetailsPane | None
    status: StatusLine
    # What the screen does after a job: list the builds again, redraw the details pane.
    load_entries: Callable[[], object]
    _update_details: Callable[[], None]

    def _cwd(self) -> Path:
        """Where environments and pins are looked for: the scope's folder, or the current one."""
        scope = self.scope
        return scope.cwd if scope is not None and scope.cwd is not None else Path.cwd()

    @property
    def _alive(self) -> bool:
        """False while quitting: late messages from threads find no widgets to update."""
        return self.table.is_attached

    @on(JobRequested)
    def _job_requested(self, message: JobRequested) -> None:
        self.request_jobs(message.kind)

    def request_jobs(self, kind: JobKind) -> None:
        """Run ``kind`` on the marked rows (or the highlighted one), asking first if it deletes."""
        why_not = self.table.why_not
        targets = self.table.targets()
        if not targets:
            self.notify("no build highlighted", severity="warning")
            return
        ok = [e for e in targets if why_not(kind, e) is None]
        skipped = [e for e in targets if why_not(kind, e) is not None]
        if not ok:
            reason = why_not(kind, targets[0])
            self.notify(f"{targets[0].build.describe()}: {reason}", severity="warning", timeout=4)
            return
        if skipped:
            reason = why_not(kind, skipped[0])
            self.notify(
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

    @work(thread=True, group="reinstall", exclusive=True, exit_on_error=False)
    def _check_reinstall(self, entries: list[Entry], title: str) -> None:
        """Walk each install against its unpacked copy off the UI thread."""
        lines = []
        for entry in entries:
            losses = self.shelf.reinstall_losses(entry)
            if not losses.none:
                lines.append(f"{entry.build.describe()}: {losses.describe()}")
        self.app.call_from_thread(self._reinstall_or_ask, entries, title, lines)

    def _reinstall_or_ask(self, entries: list[Entry], title: str, losses: list[str]) -> None:
        if not losses:
            self._submit(JobKind.REINSTALL, entries)
        else:
            self._confirm_reinstall(entries, title, "; ".join(losses))

    def _confirm_reinstall(self, entries: list[Entry], title: str, note: str) -> None:
        screen = ConfirmScreen(
            title, replacements(entries), verb="Reinstall", total_label="replaces", note=note
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._submit(JobKind.REINSTALL, entries)

        self.app.push_screen(screen, answered)

    @work(thread=True, group="confirm", exclusive=True, exit_on_error=False)
    def _plan_removal(
        self, action: Action, entries: list[Entry], title: str, verb: str, note: str = ""
    ) -> None:
        """Make the plan off the UI thread (it walks trees and looks for environments)."""
        plan = self.plan_builds(action, entries)
        self.app.call_from_thread(self._ask_plan, plan, title, verb, note)

    def plan_builds(self, action: Action, entries: list[Entry]) -> Plan:
        """``plan_builds`` (the scope's, when it has one), its items priced as the table
        prices them, so the dialog speaks in the table's figures. Walks trees: a worker's."""
        if self.scope is not None:
            planner = self.scope.plan_builds
        else:
            from tui.engine.usage.removal import plan_builds as planner
        plan = planner(self.shelf, action, entries, cwd=self._cwd())
        if self.ledger is not None:
            table_sizes(plan, self.ledger)
        return plan

    def _ask_plan(self, plan: Plan, title: str, verb: str, note: str = "") -> None:
        if plan.empty:
            item, why = plan.refused[0] if plan.refused else (None, "nothing to remove")
            self.notify(f"{item.name}: {why}" if item else why, severity="warning", timeout=5)
            return

        from tui.app.screens.plan_confirm import confirm_plan

        def run(in_use_ok: bool) -> None:
            self.table.action_clear_marks()
            self._execute_plan(plan, in_use_ok, verb)

        confirm_plan(self.app, plan, title, verb, run, note)

    def free_cache(self) -> None:
        """Evict what the header's "could free" counts (``present.freeable``), asking first."""
        from tui.engine.usage.removal import Action

        targets = freeable(self.all_entries)
        if not targets:
            self.notify("nothing to free: no installed build keeps its archive", timeout=4)
            return
        note = "Installs keep working; reinstalling one then downloads its archive again."
        self._plan_removal(Action.EVICT, targets, "Evict what could be freed?", "Evict", note)

    @work(thread=True, group="remove", exit_on_error=False)
    def _execute_plan(self, plan: Plan, in_use_ok: bool, verb: str = "Remove") -> None:
        """Steps run as jobs on the app's queue, each shown in the panel; one notification
        says how the whole removal went."""
        from tui.engine.usage.removal import execute

        execute(
            plan, self.shelf, self.queue, confirmed_in_use=in_use_ok,
            on_done=lambda outcome: self.post_message(RemovalDone(outcome, verb)),
        )  # fmt: skip

    @on(RemovalDone)
    def _removal_done(self, message: RemovalDone) -> None:
        from tui.app.removal_notice import notice

        text, failed = notice(message.outcome)
        self.notify(
            text,
            title=message.verb if not failed else f"{message.verb} failed",
            severity="error" if failed else "information",
            timeout=8 if failed else 4,
        )

    def _submit(self, kind: JobKind, entries: list[Entry]) -> None:
        for entry in entries:
            self.queue.submit(kind, entry)
        self.table.action_clear_marks()

    @on(JobUpdated)
    def _job_updated(self, message: JobUpdated) -> None:
        if not self._alive:
            return
        event = message.event
        self.queue_panel.show_event(event)  # the panel stays as it was: Q opens it
        self.update_jobs_line()
        self.table.set_job(event)
        if event.phase.final:
            self._job_finished(event)
        entry = self.table.highlighted
        if entry is not None and entry.key == event.key:
            self._update_details()

    def update_jobs_line(self) -> None:
        """Say in the status line how many jobs run while the queue panel is closed."""
        running = len(self.queue.active())
        if running and not self.queue_panel.display:
            key = bound_key(self.app, "queue")
            jobs = "job" if running == 1 else "jobs"
            self.status.set_jobs(f"◌ {running} {jobs} running · {key} shows the queue")
        else:
            self.status.set_jobs(None)

    def _job_finished(self, event: JobEvent) -> None:
        verb = spec(event.kind).verb
        for warning in event.warnings:
            self.notify(warning, title=f"{verb}: warning", severity="warning", timeout=8)
        if spec(event.kind).destroys:
            pass  # a step of a removal plan: the plan's one notification follows
        elif event.phase == Phase.DONE:
            freed = f", freed {human_size(event.freed)}" if event.freed else ""
            self.notify(f"{event.key}: {event.result or 'done'}{freed}", title=verb, timeout=3)
        elif event.phase == Phase.FAILED:
            self.notify(
                f"{event.key}: {event.error}", title=f"{verb} failed", severity="error", timeout=8
            )
        else:
            self.notify(f"{event.key}: cancelled", title=verb, timeout=3)
        self.load_entries()  # the engine says what changed on disk

    def retry_job(self, job: Job) -> None:
        if job.entry is None:  # a removal from the cleanup view: nothing in the table to refresh
            super().retry_job(job)
            return
        # Retry with the entry as the engine sees it now, not as it was when the job began.
        rid = row_id(job.entry)
        fresh = next((e for e in self.all_entries if row_id(e) == rid), job.entry)
        self.queue_panel.remove_job(job.id)
        self.queue.submit(job.kind, fresh)

"""One job in the queue panel: what, on which build, its phase, a progress bar, numbers."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import ListItem, ProgressBar, Static

from tui.app.keys import bound_key
from tui.app.present import ERROR_STYLE, INSTALLED_STYLE, JOB_STYLE, PARTIAL_STYLE
from tui.engine.jobs import JobEvent, Phase
from tui.format import human_eta, human_size, human_speed, progress_text

_RESULT_STYLE = {Phase.DONE: INSTALLED_STYLE, Phase.FAILED: ERROR_STYLE, Phase.CANCELLED: "dim"}
_BUSY = {
    Phase.DOWNLOADING: "connecting",
    Phase.VERIFYING: "checking the sha256",
    Phase.EXTRACTING: "unpacking",
    Phase.COMPILING: "compiling the standard library",
    Phase.LINKING: "linking into place",
    Phase.REMOVING: "removing files",
}
_SYMBOL = {Phase.DONE: "✓", Phase.FAILED: "✗", Phase.CANCELLED: "⊘"}
_WARNING_STYLE = PARTIAL_STYLE  # amber: done, but something was left alone


class JobItem(ListItem):
    # The bar reads these (data_bind), so updating the item is one assignment per number.
    done: reactive[float] = reactive(0.0)
    total: reactive[float | None] = reactive(None)

    def __init__(self, event: JobEvent) -> None:
        super().__init__(id=f"job-{event.job_id}")
        self.event = event
        self._ready = False
        self._shown: dict[str, Text | str] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="job-head")
        with Horizontal(id="job-progress"):
            yield ProgressBar(show_eta=False).data_bind(progress=JobItem.done, total=JobItem.total)
            yield Static(id="job-numbers")
        yield Static(id="job-error")

    def on_mount(self) -> None:
        self._ready = True
        self.show(self.event)

    def show(self, event: JobEvent) -> None:
        self.event = event
        if not self._ready:  # events before mounting: on_mount shows the newest
            return
        phase = event.phase
        head = Text.assemble(
            (f"{event.kind.value:<9} ", "bold"),
            (event.key, ""),
            "  ",
        )
        if phase.final:
            words = event.result or phase.value
            if event.freed:
                words += f", freed {human_size(event.freed)}"
            head.append(f"{_SYMBOL[phase]} {words}", _RESULT_STYLE[phase])
            if event.warnings:
                more = f" (+{len(event.warnings) - 1} more)" if len(event.warnings) > 1 else ""
                head.append(f"  ⚠ {event.warnings[0]}{more}", _WARNING_STYLE)
        else:
            head.append(phase.value, JOB_STYLE)
        self._update("#job-head", head)
        self.set_class(phase == Phase.FAILED, "-failed")
        self.set_class(phase.final, "-finished")
        error = self.query_one("#job-error", Static)
        error.display = phase == Phase.FAILED
        if phase == Phase.FAILED:
            retry = bound_key(self.app, "retry")
            error.update(Text(f"{event.error}  ({retry} retries)", style=ERROR_STYLE))
        progress = self.query_one("#job-progress")
        progress.display = not phase.final
        if phase.final:
            return
        if phase == Phase.QUEUED:
            self.total, self.done = 1.0, 0.0  # an empty bar: nothing is happening yet
            numbers = "waiting for a free slot"
        elif event.total:
            # Whole percents: the bar cannot show finer steps, and repainting it is not free.
            self.total = float(event.total)
            self.done = event.total * int(100 * event.done / event.total) / 100
            numbers = (
                f"{progress_text(event.done, event.total)}  "
                f"{human_speed(event.speed)}  ETA {human_eta(event.eta)}"
            )
        else:  # no measure of the work (verifying a fresh download, linking): a pulsing bar
            self.total, self.done = None, 0.0
            numbers = _BUSY.get(phase, "")
        self._update("#job-numbers", numbers)

    def _update(self, selector: str, content: Text | str) -> None:
        if self._shown.get(selector) == content:
            return  # most ticks change only the numbers; skip repainting the rest
        self._shown[selector] = content
        # One line each (see app.tcss): a new text never needs a new layout.
        self.query_one(selector, Static).update(content, layout=False)

"""A reporter for tests: it keeps every phase and progress call, and can be cancelled."""

from __future__ import annotations

from collections.abc import Callable

from tui.engine.progress import Phase, Reporter


class Recording(Reporter):
    def __init__(self, on_progress: Callable[[int, int | None], None] | None = None) -> None:
        super().__init__()
        self.phases: list[Phase] = []
        self.calls: list[tuple[int, int | None]] = []
        self.on_progress = on_progress

    def set_phase(self, phase: Phase) -> None:
        self.phases.append(phase)

    def progress(self, done: int, total: int | None) -> None:
        self.calls.append((done, total))
        if self.on_progress is not None:
            self.on_progress(done, total)

    def cancel(self) -> None:
        self.cancel_event.set()

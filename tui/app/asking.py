"""The app's side of a flow (``tui.engine.flows``): it answers with dialogs and shows what
the flow says as notifications.

A flow runs on a thread worker and waits there for each answer; the dialog is pushed on the
UI thread and its answer handed back through a future. Nothing here decides a step: which
dialog shows a question is all it knows.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from textual.screen import ModalScreen, Screen

from tui.app.messages import RemovalDone
from tui.engine.flows.questions import Answer, Note, Question, Removed, Topic

if TYPE_CHECKING:
    from textual.app import App

POLL = 0.2  # seconds between looks at whether the app is still there to answer

# What shows a question: a dialog that answers yes (True), no (False) or nothing (None), or
# an answer given at once (the question was already put in a dialog before it).
Dialog = Callable[[Question], "ModalScreen[bool] | Answer"]


def plan_dialogs(question: Question) -> ModalScreen[bool] | Answer:
    """The removal plan's dialogs, as every removal in the app asks: the plan with what it
    frees, then the environments it breaks."""
    from tui.app.screens.plan_confirm import BreakConfirmScreen, PlanConfirmScreen

    plan = question.plan
    assert plan is not None, question
    if question.topic == Topic.BREAK:
        return BreakConfirmScreen(plan)
    verb = "Uninstall" if question.topic == Topic.UNINSTALL_OLD else "Remove"
    return PlanConfirmScreen(question.text, plan, verb=verb)


class DialogAsker:
    """An ``Asker`` for a flow driven on a thread worker of ``screen``."""

    def __init__(
        self,
        screen: Screen[Any],
        dialog: Dialog = plan_dialogs,
        *,
        title: str,
        answered: Callable[[Question, Answer], None] | None = None,
    ) -> None:
        self.screen = screen
        self.dialog = dialog
        self.title = title  # of the notifications
        self.answered = answered  # on the UI thread, once a dialog is answered

    @property
    def app(self) -> App[Any]:
        return self.screen.app

    def ask(self, question: Question) -> Answer:
        future: Future[Answer] = Future()

        def show() -> None:
            shown = self.dialog(question)
            if isinstance(shown, Answer):
                future.set_result(shown)
                return

            def dismissed(yes: bool | None) -> None:
                answer = Answer.YES if yes else Answer.CANCEL if yes is None else Answer.NO
                if self.answered is not None:
                    self.answered(question, answer)
                future.set_result(answer)

            self.app.push_screen(shown, dismissed)

        if not self._on_ui(show):
            return Answer.CANCEL
        while True:
            try:
                return future.result(timeout=POLL)
            except TimeoutError:
                if not self.app.is_running:  # quit with the dialog up: nobody answers
                    return Answer.CANCEL

    def tell(self, event: Note | Removed) -> None:
        if isinstance(event, Removed):  # the view says how a removal went, as for u and e
            self.screen.post_message(RemovalDone(event.outcome, event.verb))
        elif not event.detail:  # the queue's own notifications say the rest
            severity = "error" if event.level == "error" else "information"
            timeout = 6 if event.level == "info" else 8
            self._on_ui(self.screen.notify, event.text, title=self.title, severity=severity,
                        timeout=timeout)  # fmt: skip

    def _on_ui(self, callback: Callable[..., object], *args: Any, **kwargs: Any) -> bool:
        """Run ``callback`` on the UI thread; False once the app has gone."""
        try:
            self.app.call_from_thread(callback, *args, **kwargs)
        except RuntimeError:
            return False
        return True

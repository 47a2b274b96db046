"""The command line's side of a flow (``tui.engine.flows``): it answers with ``--yes`` or a
prompt on a terminal, and prints what the flow says on stderr.

How a command answers is set when it is built: the questions its own words already answer
(``pyshelf uninstall`` is the yes to its plan), how many ``--yes`` it was given, and whether
it may prompt at all (``uninstall`` and ``evict`` never do, so scripts keep working).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection

from tui.cli import prompt
from tui.engine.errors import PyshelfError
from tui.engine.flows.questions import Answer, Note, Question, Removed, Topic
from tui.format import human_size

_PREFIX = {"info": "", "warning": "pyshelf: warning: ", "error": "pyshelf: error: "}


def _no_one_to_ask(question: Question) -> str:
    return f"not a terminal: pass --yes to answer {question.text!r}"


class Answers:
    """An ``Asker`` for one command."""

    def __init__(
        self,
        yes: int = 0,
        *,
        implied: Collection[Topic] = (),
        prompts: bool = True,
        show: Callable[[Question], None] | None = None,
        refusal: Callable[[Question], str] = _no_one_to_ask,
        details: bool = True,
        before_output: Callable[[], None] | None = None,
    ) -> None:
        self.yes = yes
        self.implied = frozenset(implied)
        self.prompts = prompts
        self.show = show  # prints what a question is about before it is answered
        self.refusal = refusal  # the error when a question that must be answered cannot be
        self.details = details  # print the notes a job's progress line already says
        self.before_output = before_output  # lets live progress bars settle first

    def ask(self, question: Question) -> Answer:
        self._settle()
        if self.show is not None:
            self.show(question)
        if question.topic in self.implied or self.yes >= question.firmness:
            return Answer.YES
        if self.prompts and prompt.interactive():
            return Answer.YES if prompt.ask(question.text) else Answer.NO
        if question.must_answer:
            raise PyshelfError(self.refusal(question))
        return Answer.NO  # nobody to ask: the step is left undone, and said

    def tell(self, event: Note | Removed) -> None:
        self._settle()
        if isinstance(event, Removed):
            print(f"freed {human_size(event.outcome.freed)}", file=sys.stderr)
        elif self.details or not event.detail:
            print(f"{_PREFIX[event.level]}{event.text}", file=sys.stderr)

    def _settle(self) -> None:
        if self.before_output is not None:
            self.before_output()

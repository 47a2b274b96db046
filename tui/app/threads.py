"""Thread work for the views' collaborators, which are not widgets and so cannot use ``@work``."""

from __future__ import annotations

from collections.abc import Callable

from textual.dom import DOMNode
from textual.worker import Worker


def in_thread(
    node: DOMNode, name: str, work: Callable[[], object], *, group: str, exclusive: bool = False
) -> Worker[object]:
    """Run ``work`` as ``@work(thread=True, exit_on_error=False)`` would on a method of
    ``node``: the worker is the node's, so a failure lands in its view's one handler
    (``View.on_worker_state_changed``) under ``group``, and ``exclusive`` replaces the
    group's running worker."""
    return node.run_worker(
        work, name=name, group=group, exclusive=exclusive, exit_on_error=False, thread=True
    )

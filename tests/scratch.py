"""Scratch a test makes outside ``tmp_path`` (its server's files, its home) goes with the test,
as ``tmp_path`` itself does under ``tmp_path_retention_policy = "failed"`` (pyproject.toml):
kept only when the test failed, so a run leaves little and a failure can still be looked at.
PYTEST_DONT_REWRITE: no asserts here, and conftest imports it before registering it.
"""

from __future__ import annotations

import shutil
from collections.abc import Generator
from pathlib import Path

import pytest

# Whether each phase of a test (setup, call, teardown) passed, as pytest reports them.
_PASSED = pytest.StashKey[dict[str, bool]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(_PASSED, {})[report.when] = report.passed
    return report


def discard_unless_failed(request: pytest.FixtureRequest, path: Path) -> None:
    """Empty the directory ``path`` at a function fixture's teardown unless the test failed
    so far, or the retention policy keeps everything (``-o tmp_path_retention_policy=all``).

    The empty directory stays: ``mktemp`` numbers after the directories that exist, so a
    removed one's name would be handed to a later test, and pyshelf keeps its key per state
    folder path for the process (``seal._key_at``): a later home of the same name would get
    the key of a home that is gone.
    """
    if request.config.getini("tmp_path_retention_policy") == "all":
        return
    if all(request.node.stash.get(_PASSED, {}).values()):
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(mode=0o700, exist_ok=True)

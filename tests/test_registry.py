"""The manager registry: each entry alone makes its manager's interpreters found, grouped,
titled, mapped to the environments made from them, and removable as whole units."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import World
from tests.test_managers import clear_manager_env, make_unit, make_venv
from tests.test_prune import run_plan
from tui.engine.usage.inventory import Kind, Owner, take_inventory
from tui.engine.usage.managers import is_unit
from tui.engine.usage.registry import GROUP_TITLES, MANAGERS, Manager
from tui.engine.usage.removal import make_plan
from tui.engine.usage.venvs import SearchRoot


@pytest.fixture(autouse=True)
def _no_manager_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_manager_env(monkeypatch)


def test_every_group_has_one_title_in_order() -> None:
    assert [str(o) for o in Owner] == ["uv", "cache", *(m.name for m in MANAGERS), "system"]
    assert all(o.title == GROUP_TITLES[o] for o in Owner)
    assert len({m.name for m in MANAGERS}) == len(MANAGERS)


@pytest.mark.parametrize("manager", MANAGERS, ids=lambda m: m.name)
def test_one_entry_is_all_a_manager_needs(
    manager: Manager, world: World, isolated_home: Path, tmp_path: Path
) -> None:
    unit = manager.interpreters(os.environ, isolated_home) / "3.12.4"
    make_unit(unit / Path(manager.home).parent, "3.12.4")
    assert is_unit(unit)
    venv = make_venv(tmp_path / "envs" / "app", unit / manager.home, "3.12.4")

    inventory = take_inventory(world.shelf(), system_dirs=[])
    item = next(i for i in inventory.items if i.kind == Kind.INTERPRETER)
    assert (item.owner, item.name, item.version) == (Owner(manager.name), "3.12.4", "3.12.4")
    assert item.owner.title == manager.title
    inventory.scan_venvs([SearchRoot(tmp_path / "envs", 1, "test")])
    assert [v.path for v in item.used_by or ()] == [venv]

    plan = make_plan(inventory, [item])
    assert [u.path for u, _ in plan.broken_envs] == [venv]
    outcome = run_plan(plan, world.shelf(), confirmed_in_use=True)
    assert outcome.failed == [] and outcome.freed > 0
    assert not unit.exists() and list(unit.parent.iterdir()) == []

"""Other managers' defaults and pins are users: pyenv's, asdf's and mise's files and variables
mark the interpreter they ask for in use, in the inventory, the plans, ``du`` and ``prune``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import World
from tests.test_managers import clear_manager_env, make_unit
from tests.test_prune import run_plan
from tests.test_usage import Machine, by_name, stock
from tui.engine.usage import registry
from tui.engine.usage.inventory import Inventory, Item, Kind, take_inventory
from tui.engine.usage.prune import prune_plan
from tui.engine.usage.removal import InUseError, count_users, how_used, make_plan
from tui.engine.usage.versionfiles import (
    MAX_FILE,
    ManagerPin,
    Scope,
    find_manager_pins,
    parse_mise_toml,
    parse_pyenv,
    parse_tool_versions,
)

UNITS = {  # where each manager keeps its interpreters, under the home directory
    "pyenv": ".pyenv/versions",
    "asdf": ".asdf/installs/python",
    "mise": ".local/share/mise/installs/python",
}


@pytest.fixture(autouse=True)
def _no_manager_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clear_manager_env(monkeypatch)
    work = tmp_path / "work" / "project"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)


def unit(home: Path, manager: str, name: str) -> Path:
    return make_unit(home / UNITS[manager] / name, name.split("-")[0])


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def inventory(world: World, home: Path, env: dict[str, str] | None = None) -> Inventory:
    inv = take_inventory(world.shelf(), env={**os.environ, **(env or {})}, home=home,
                         system_dirs=[])  # fmt: skip
    inv.scan_venvs([], cwd=Path.cwd())
    return inv


def item_at(inv: Inventory, path: Path) -> Item:
    return next(i for i in inv.items if i.path == path)


def labels(item: Item) -> list[str]:
    return [u.label() for u in item.used_by or () if isinstance(u, ManagerPin)]


# (manager, the version asked for, files to write {where: text}, variables, the user's label)
# "~" is the home directory, "@" the current directory's parent (a project above the cwd).
CASES = [
    ("pyenv", "3.11.7", {"~/.pyenv/version": "3.11.7\n"}, {}, "pyenv global"),
    ("pyenv", "3.11.7", {"@/../pyenvroot/version": "# mine\n3.11.7 3.10.1\n"},
     {"PYENV_ROOT": "@/../pyenvroot"}, "pyenv global"),
    ("pyenv", "3.11.7", {}, {"PYENV_VERSION": "3.10.1:3.11.7"}, "PYENV_VERSION"),
    ("pyenv", "3.11.7", {"@/.python-version": "3.11.7\n"}, {}, "@/.python-version (pyenv)"),
    ("asdf", "3.9.18", {"~/.tool-versions": "nodejs 20.1.0\npython 3.9.18\n"}, {},
     "asdf global"),
    ("asdf", "3.9.18", {"~/.versions": "python 3.9.18 # pinned\n"},
     {"ASDF_DEFAULT_TOOL_VERSIONS_FILENAME": ".versions"}, "asdf global"),
    ("asdf", "3.9.18", {"@/.tool-versions": "python 3.10.1 3.9.18\n"}, {},
     "@/.tool-versions (asdf)"),
    ("asdf", "3.9.18", {}, {"ASDF_PYTHON_VERSION": "3.9.18"}, "ASDF_PYTHON_VERSION"),
    ("mise", "3.8.18", {"~/.config/mise/config.toml": '[tools]\npython = "3.8.18"\n'}, {},
     "mise global"),
    ("mise", "3.8.18", {"@/../xdg/mise/config.toml": '[tools]\npython = "3.8.18"\n'},
     {"XDG_CONFIG_HOME": "@/../xdg"}, "mise global"),
    ("mise", "3.8.18", {"@/../g.toml": '[tools]\npython = ["3.12", "3.8.18"]\n'},
     {"MISE_GLOBAL_CONFIG_FILE": "@/../g.toml"}, "mise global"),
    ("mise", "3.8.18", {"@/mise.toml": '[tools]\npython = ["3.12", "3.8.18"]\n'}, {},
     "@/mise.toml (mise)"),
    ("mise", "3.8.18", {"@/.mise.toml": '[tools]\npython = { version = "3.8.18" }\n'}, {},
     "@/.mise.toml (mise)"),
    ("mise", "3.8.18", {"@/.tool-versions": "python 3.8.18\n"}, {}, "@/.tool-versions (mise)"),
    ("mise", "3.8.18", {}, {"MISE_PYTHON_VERSION": "3.8.18"}, "MISE_PYTHON_VERSION"),
]  # fmt: skip


@pytest.mark.parametrize(("manager", "version", "files", "variables", "label"), CASES)
def test_each_managers_default_and_pin_files_mark_their_version_in_use(
    world: World, isolated_home: Path, manager: str, version: str,
    files: dict[str, str], variables: dict[str, str], label: str,
) -> None:  # fmt: skip
    project = Path.cwd().parent  # a pin in a parent counts: the current folder is under it
    Path.cwd().joinpath("sub").mkdir()
    os.chdir(Path.cwd() / "sub")

    def where(text: str) -> str:
        return text.replace("~", str(isolated_home)).replace("@", str(project))

    for name, text in files.items():
        write(Path(where(name)), text)
    env = {k: where(v) for k, v in variables.items()}
    units = registry.manager(manager).interpreters({**os.environ, **env}, isolated_home)
    asked = make_unit(units / version, version)
    other = make_unit(units / "3.10.1", "3.10.1")
    inv = inventory(world, isolated_home, env)
    item = item_at(inv, asked)
    assert labels(item) == [where(label)]
    named = any("3.10.1" in text for text in [*files.values(), *variables.values()])
    assert bool(labels(item_at(inv, other))) == named  # listed too, or not in use
    plan = make_plan(inv, [item])
    assert plan.needs_second_confirmation
    [(user, lost)] = plan.broken_envs
    assert lost is item and how_used(user, item) == f"{where(label)} asks for {version}"
    assert count_users([user]) == where(label)


def test_a_version_nothing_names_stays_removable(world: World, isolated_home: Path) -> None:
    write(isolated_home / ".pyenv" / "version", "3.11.7\n")
    write(isolated_home / ".tool-versions", "python 3.11.7\nruby 3.3.0\n")  # asdf's, not pyenv's
    unit(isolated_home, "pyenv", "3.11.7")
    free = unit(isolated_home, "pyenv", "3.12.1")
    inv = inventory(world, isolated_home)
    assert item_at(inv, free).used_by == ()
    plan = make_plan(inv, [item_at(inv, free)])
    assert not plan.needs_second_confirmation
    run_plan(plan, world.shelf())
    assert not free.exists()


def test_a_prefix_names_the_only_install_it_matches(world: World, isolated_home: Path) -> None:
    write(isolated_home / ".pyenv" / "version", "3.11\n")
    newest = unit(isolated_home, "pyenv", "3.11.7")
    unit(isolated_home, "pyenv", "3.110.1")  # not a 3.11: prefixes end at a dot
    unit(isolated_home, "pyenv", "3.11.7t")  # nor a variant
    inv = inventory(world, isolated_home)
    item = item_at(inv, newest)
    assert labels(item) == ["pyenv global"]
    [(user, _)] = make_plan(inv, [item]).broken_envs
    assert how_used(user, item) == (
        "pyenv global asks for 3.11: 3.11.7, and no other install of pyenv left matches"
    )
    for other in ("3.110.1", "3.11.7t"):
        assert labels(item_at(inv, newest.parent / other)) == []

    # Another 3.11 install: the pin moves to it when 3.11.7 goes, and breaks when both go.
    older = unit(isolated_home, "pyenv", "3.11.6")
    inv = inventory(world, isolated_home)
    one, two = item_at(inv, newest), item_at(inv, older)
    assert labels(one) == labels(two) == []
    plan = make_plan(inv, [one])
    assert not plan.needs_second_confirmation
    assert [(u.label(), i) for u, i in plan.switched_envs] == [("pyenv global", one)]
    assert make_plan(inv, [two]).empty is False and not make_plan(inv, [two]).switched_envs
    both = make_plan(inv, [one, two])
    assert [(u.label(), i) for u, i in both.broken_envs] == [("pyenv global", one)]


def test_mise_latest_and_prefix_forms(world: World, isolated_home: Path) -> None:
    write(Path.cwd() / "mise.toml", '[tools]\npython = ["latest", "prefix:3.9"]\n')
    only = unit(isolated_home, "mise", "3.9.18")
    inv = inventory(world, isolated_home)
    assert len(labels(item_at(inv, only))) == 2  # the only install: latest and 3.9 both


def test_a_managers_entry_linked_to_a_uv_install_names_that_install(
    world: World, isolated_home: Path
) -> None:
    """``mise sync python --uv`` (or a hand-made link) puts uv's installs among mise's."""
    assert world.cli("install", "3.12.7")[0] == 0
    install = world.root / "installs" / "cpython-3.12.7-linux-x86_64-gnu"
    mise = isolated_home / UNITS["mise"]
    mise.mkdir(parents=True)
    (mise / "3.12.7").symlink_to(install)
    write(Path.cwd() / ".tool-versions", "python 3.12.7\n")
    inv = inventory(world, isolated_home)
    item = item_at(inv, install)
    assert labels(item) == [f"{Path.cwd() / '.tool-versions'} (mise)"]
    assert make_plan(inv, [item]).needs_second_confirmation


GARBAGE = {
    "binary": b"\x00\xff\xfe python 3.11.7 \x00",
    "huge": b"python 3.11.7\n" * (MAX_FILE // 14 + 1),
    "not toml": b"[tools\npython = \n",
    "deep toml": b"[tools]\npython = " + b"[" * 100_000,
    "tools not a table": b"tools = 3\n",
    "python not text": b"[tools]\npython = 42\n",
    "a path for a version": b"python ../../../../3.11.7\n",
    "a long version": b"python " + b"3" * 1000 + b"\n",
}


@pytest.mark.parametrize("kind", sorted(GARBAGE))
def test_garbage_files_are_ignored_without_a_traceback(
    world: World, isolated_home: Path, kind: str
) -> None:
    data = GARBAGE[kind]
    for name in (".tool-versions", "mise.toml", ".python-version"):
        (Path.cwd() / name).write_bytes(data)
    write(isolated_home / ".config" / "mise" / "config.toml", "").write_bytes(data)
    write(isolated_home / ".pyenv" / "version", "3.12.1\n")  # still read, after the garbage
    pinned = unit(isolated_home, "pyenv", "3.12.1")
    asked = [unit(isolated_home, m, "3.11.7") for m in UNITS]
    inv = inventory(world, isolated_home)
    assert labels(item_at(inv, pinned)) == ["pyenv global"]
    assert [labels(item_at(inv, path)) for path in asked] == [[], [], []]


def test_special_files_and_odd_variables_are_ignored(world: World, isolated_home: Path) -> None:
    os.mkfifo(isolated_home / ".tool-versions")  # would block a plain open for ever
    (isolated_home / ".pyenv").mkdir()
    (isolated_home / ".pyenv" / "version").symlink_to("/dev/zero")  # would never end
    (Path.cwd() / ".python-version").mkdir()  # a folder where a file should be
    outside = write(Path.cwd().parent / "evil", "python 3.11.7\n")
    env = {"ASDF_DEFAULT_TOOL_VERSIONS_FILENAME": f"../{outside.name}",  # not a file name
           "PYENV_VERSION": "../3.11.7"}  # fmt: skip
    asked = [unit(isolated_home, m, "3.11.7") for m in UNITS]
    pins = find_manager_pins({**os.environ, **env}, isolated_home, Path.cwd())
    assert pins == []
    inv = inventory(world, isolated_home, env)
    assert [labels(item_at(inv, path)) for path in asked] == [[], [], []]


def test_parsers() -> None:
    assert parse_pyenv("# comment\n3.11.7 3.10.1\n\n3.9.0 # trailing\n") == [
        "3.11.7", "3.10.1", "3.9.0",
    ]  # fmt: skip
    assert parse_tool_versions("python 3.11.7 system\nnodejs 20\n") == ["3.11.7", "system"]
    assert parse_tool_versions("pythonx 3.11.7\n") == []
    assert parse_mise_toml('[tools]\n"core:python" = "3.12"\n') == ["3.12"]
    assert parse_mise_toml('[tools]\npython = [{ version = "3.12" }, "3.11"]\n') == [
        "3.12", "3.11",
    ]  # fmt: skip
    assert parse_mise_toml("[env]\nPYTHON = '3.12'\n") == []


def test_each_file_counts_once_and_the_global_one_by_that_name(isolated_home: Path) -> None:
    """Run from a project under the home directory, ``~/.tool-versions`` is both asdf's
    global file and a file up the tree: named once, as the global one (and as mise's)."""
    project = isolated_home / "proj"
    project.mkdir()
    write(isolated_home / ".tool-versions", "python 3.9.18\n")
    pins = find_manager_pins({}, isolated_home, project)
    assert [(p.manager, p.scope) for p in pins] == [("asdf", Scope.GLOBAL), ("mise", Scope.PROJECT)]


# -- through the disk usage, prune and the CLI ---------------------------------------------


@pytest.fixture
def pyenv_global(world: World, isolated_home: Path) -> Machine:
    """The stock machine (pyenv 3.11.7 and 3.12.1, ...), with ``pyenv global 3.11.7``."""
    machine = stock(world, isolated_home)
    write(isolated_home / ".pyenv" / "version", "3.11.7\n")
    return machine


def test_du_json_says_who_uses_a_default_and_that_it_is_not_deletable(
    pyenv_global: Machine, isolated_home: Path
) -> None:
    code, out, err = pyenv_global.world.cli("du", "--json")
    assert code == 0, err
    groups = {g["owner"]: g["items"] for g in json.loads(out)["groups"]}
    pyenv = {i["name"]: i for i in groups["pyenv"]}
    default = pyenv["3.11.7"]
    assert default["used_by"] == [str(isolated_home / ".pyenv" / "version")]
    assert default["deletable"] is False and default["reason"] == "in use by pyenv global"
    assert pyenv["3.12.1"]["used_by"] == [] and pyenv["3.12.1"]["deletable"] is True
    code, out, err = pyenv_global.world.cli("du")
    line = next(line for line in out.splitlines() if line.strip().startswith("3.11.7"))
    assert "in use by pyenv global" in line


def test_the_prune_presets_never_offer_a_default(pyenv_global: Machine) -> None:
    inv = pyenv_global.inventory()
    inv.scan_venvs([], cwd=Path.cwd())
    plan = prune_plan(
        inv, keep_newest_patch=True, evict_uninstalled=True, older_than_days=0, max_cache=0
    )
    assert not any(i.kind == Kind.INTERPRETER for i in plan.items)
    assert labels(by_name(inv, "3.11.7")) == ["pyenv global"]


def test_removing_a_default_asks_twice(pyenv_global: Machine) -> None:
    inv = pyenv_global.inventory()
    item = by_name(inv, "3.11.7")
    plan = make_plan(inv, [item])
    with pytest.raises(InUseError, match="pyenv global would break"):
        run_plan(plan, pyenv_global.shelf)
    assert item.path.is_dir()
    run_plan(plan, pyenv_global.shelf, confirmed_in_use=True)
    assert not item.path.exists()

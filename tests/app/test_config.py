"""The config file: a keymap the keys, hints, footer and help follow; remembered view
settings; a bad file as one line per problem, with the defaults kept."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from tests.app.conftest import CPYTHON_312, AppMaker, loaded, messages, settle, wait_for
from tests.conftest import World
from tests.special_files import SPECIAL_KINDS, deadline, finishes, make_special
from tui.app.builds.action_footer import ActionFooter
from tui.app.help.screen import HelpScreen
from tui.config import Allowed, Config, load_config
from tui.engine.jobs import JobKind


async def _focus_312(pilot) -> None:
    await pilot.press("slash", *"3.12.7", "enter")
    await wait_for(pilot, lambda: pilot.app.main.table.row_count == 1)


def _footer_keys(app) -> dict[str, str]:
    return {i.binding_id: i.display for i in app.main.query_one(ActionFooter).items()}


async def test_keymap_file_moves_fetch_to_F_everywhere(
    world: World, make_app: AppMaker, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keymap]\nfetch = "F"\n')
    app = make_app(config=config)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await _focus_312(pilot)
        assert _footer_keys(app)["fetch"] == "F"
        await pilot.press("f")
        await pilot.pause()
        assert not app.queue.jobs and not messages(app)  # f is no key at all now
        await pilot.press("r")  # not cached: the reason names the key that fetches
        await pilot.pause()
        assert any("press F to fetch" in m for m in messages(app))
        assert "F fetches" in str(app.main.queue_panel.border_title)
        await pilot.press("F")
        await settle(pilot)
        assert [(j.kind, j.key) for j in app.queue.jobs] == [(JobKind.FETCH, CPYTHON_312)]
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        lines = help_screen.text.splitlines()
        assert "F  fetch into the cache" in lines and not any(x.startswith("f ") for x in lines)
        assert "F i r u e V act" in help_screen.context


async def test_a_bad_file_is_one_line_per_problem_and_keeps_the_defaults(
    world: World, make_app: AppMaker, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('all_versions = "yes"\nsort = "colour"\n[keymap]\nfetc = "F"\n')
    app = make_app(config=config)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        lines = [m for m in messages(app) if str(config) in m]
        assert len(lines) == 3 and all("\n" not in m for m in lines)
        assert any("all_versions: expected true or false" in m for m in lines)
        assert any("sort: 'colour' is none of" in m for m in lines)
        assert any("keymap.fetc: no such action" in m for m in lines)
        assert app.main.show_all is False and app.main.table.sort_column == "version"
        await _focus_312(pilot)
        await pilot.press("f")  # the default keys still work
        await settle(pilot)
        assert [j.kind for j in app.queue.jobs] == [JobKind.FETCH]


async def test_not_toml_is_one_line_and_the_file_is_left_alone(
    world: World, make_app: AppMaker, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("theme = \n")
    app = make_app(config=config)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        (line,) = [m for m in messages(app) if str(config) in m]
        assert "not TOML" in line and "line 1" in line and "\n" not in line
        await pilot.press("a")  # a remembered value changes; the user's text stays
        await pilot.pause()
    assert config.read_text() == "theme = \n"


async def test_theme_sort_and_all_versions_are_remembered(
    world: World, make_app: AppMaker, tmp_path: Path
) -> None:
    config = tmp_path / "pyshelf" / "config.toml"
    app = make_app(config=config)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        dark = app.current_theme.dark
        await pilot.press("a", "t", "s", "o")  # the implementation, Z to A
        await pilot.pause()
    saved = tomllib.loads(config.read_text())
    assert saved["all_versions"] is True
    assert (saved["sort"], saved["sort_reverse"]) == ("impl", True)
    assert saved["theme"] == ("textual-light" if dark else "textual-dark")
    assert not list(config.parent.glob("*.tmp"))  # written beside it, renamed into place
    again = make_app(config=config)
    async with again.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert again.main.show_all is True
        assert (again.main.table.sort_column, again.main.table.sort_reverse) == ("impl", True)
        assert again.theme == saved["theme"]


def test_load_config_checks_types_ids_and_names(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    allowed = Allowed(binding_ids={"fetch"}, themes={"textual-dark"}, columns={"version"})
    path.write_text('theme = "textual-dark"\nsort_reverse = false\n[keymap]\nfetch = "F"\n')
    assert load_config(path, allowed) == (
        Config(theme="textual-dark", sort_reverse=False, keymap={"fetch": "F"}),
        [],
        True,
    )
    path.write_text('theme = 3\nspeed = 1\nkeymap = "F"\n')
    config, problems, writable = load_config(path, allowed)
    assert config == Config() and writable
    assert [p.removeprefix(f"{path}: ").split(":")[0] for p in problems] == [
        "theme", "speed", "keymap"
    ]  # fmt: skip
    assert load_config(tmp_path / "none.toml", allowed) == (Config(), [], True)


@pytest.mark.parametrize(
    "kind", [*SPECIAL_KINDS, "deep-arrays", "deep-tables", "long-integer", "not-utf8"]
)
def test_a_config_that_cannot_be_read_is_one_line_and_the_defaults(
    tmp_path: Path, kind: str
) -> None:
    """A fifo hung the app before its first frame; ``/dev/zero`` grew memory; deep nesting
    and a 5,001-digit number were unexpected errors: each is one line, with the defaults."""
    path = tmp_path / "config.toml"
    if kind in SPECIAL_KINDS:
        make_special(path, kind)
    else:
        path.write_bytes({
            "deep-arrays": b"theme = " + b"[" * 5000 + b"]" * 5000 + b"\n",
            "deep-tables": b"theme = " + b"{a = " * 5000 + b"1" + b"}" * 5000 + b"\n",
            "long-integer": b"theme = " + b"7" * 5001 + b"\n",
            "not-utf8": b'theme = "\xff"\n',
        }[kind])  # fmt: skip
    config, problems, writable = finishes(lambda: load_config(path))
    assert config == Config() and not writable  # whatever is there is never overwritten
    (line,) = problems
    assert line.startswith(f"{path}: ") and line.endswith("using the defaults")
    assert "\n" not in line and len(line) < 300


async def test_a_config_fifo_leaves_the_app_working(
    world: World, make_app: AppMaker, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    os.mkfifo(config)
    with deadline():
        app = make_app(config=config)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(pilot)
            (line,) = [m for m in messages(app) if str(config) in m]
            assert "a fifo, not a regular file" in line
            await pilot.press("ctrl+q")
            await pilot.pause()
        assert app.return_code == 0


def test_the_readme_names_every_binding_id() -> None:
    import tui.app.app  # noqa: F401  (every view registers its bindings)
    from tui.app.keys import known_ids

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("### The config file") :]
    assert {i for i in known_ids() if f"`{i}`" not in section} == set()

"""``pyshelf uninstall`` and ``evict`` go through the removal plan: they say what they free,
and refuse to break an environment or a ``.python-version`` unless told twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import World
from tests.test_managers import make_venv
from tui.engine.usage.venvs import CWD_DEPTH, PIN, SearchRoot, find_users, read_pin
from tui.format import human_size

K127 = "cpython-3.12.7-linux-x86_64-gnu"
K126 = "cpython-3.12.6-linux-x86_64-gnu"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current directory, scanned for environments and pins: only what a test puts there."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def last_line(err: str) -> str:
    assert "Traceback" not in err, err
    return err.strip().splitlines()[-1]


def promised_and_freed(err: str) -> tuple[str, str]:
    """The plan's "frees X" line and the final "freed Y" line."""
    lines = err.strip().splitlines()
    frees = next(line for line in lines if line.startswith("frees "))
    return frees.removeprefix("frees "), last_line(err).removeprefix("freed ")


def test_uninstall_refuses_to_break_an_environment_unless_yes_is_given_twice(
    world: World, work: Path
) -> None:
    assert world.cli("install", "3.12.7")[0] == 0
    install = world.root / "installs" / K127
    venv = make_venv(work / "proj" / ".venv", install / "bin", "3.12.7")
    for yes in ([], ["--yes"], ["-y"]):
        code, out, err = world.cli("uninstall", "3.12", *yes)
        assert code == 1, err
        assert f"breaks {venv} (uses {K127})" in err  # named, with what it loses
        assert last_line(err).startswith("pyshelf: error: 1 environment would break")
        assert "twice (-yy)" in last_line(err) and out == ""
        assert install.is_dir() and (world.root / "bin" / "python3.12").is_symlink()
    code, _, err = world.cli("uninstall", "3.12", "-yy")
    assert code == 0, err
    assert not install.exists() and not (world.root / "bin" / "python3.12").exists()
    promised, freed = promised_and_freed(err)
    assert promised == freed != human_size(0)


def test_uninstall_without_users_needs_no_yes_and_frees_what_it_said(
    world: World, work: Path
) -> None:
    assert world.cli("install", "3.12.7")[0] == 0
    make_venv(work / "other", "/usr/bin", "3.11.2")  # an environment, but not of this one
    code, out, err = world.cli("uninstall", "3.12")
    assert code == 0, err
    assert out == ""  # stdout stays clean for scripts: the plan goes to stderr
    assert "to remove:" in err and "breaks" not in err
    promised, freed = promised_and_freed(err)
    assert promised == freed != human_size(0)
    assert not (world.root / "installs" / K127).exists()


@pytest.mark.parametrize("pinned", ["3.12", "3.12.7", K127, "cpython@3.12"])
def test_a_python_version_file_that_only_this_install_satisfies_is_a_user(
    world: World, work: Path, pinned: str
) -> None:
    assert world.cli("install", "3.12.7")[0] == 0
    pin = work / "app" / PIN
    pin.parent.mkdir()
    pin.write_text(f"# the project's interpreter\n{pinned}\n")
    code, _, err = world.cli("uninstall", K127, "--yes")
    assert code == 1, err
    assert f"breaks {pin} (asks for {pinned}: {K127}" in err
    assert last_line(err).startswith("pyshelf: error: 1 .python-version file would break")
    assert (world.root / "installs" / K127).is_dir()
    assert world.cli("uninstall", K127, "-yy")[0] == 0


def test_a_pin_with_another_match_left_or_none_at_all_breaks_nothing(
    world: World, work: Path
) -> None:
    assert world.cli("install", "3.12.7", "3.12.6")[0] == 0
    (work / PIN).write_text("3.12\n")  # resolves to 3.12.7 today, to 3.12.6 after
    (work / "old").mkdir()
    (work / "old" / PIN).write_text("3.11\n")  # matches nothing installed: not ours to keep
    (work / "odd").mkdir()
    (work / "odd" / PIN).write_text("system\n")  # not a request pyshelf reads
    code, _, err = world.cli("uninstall", "3.12.7")
    assert code == 0, err
    assert "breaks" not in err and f"note: {work / PIN} moves from {K127}" in err
    # The last 3.12 goes: now the pin breaks.
    code, _, err = world.cli("uninstall", "3.12.6")
    assert code == 1 and f"breaks {work / PIN} (asks for 3.12: {K126}" in err


def test_evict_goes_through_the_plan_and_frees_what_it_previewed(world: World, work: Path) -> None:
    assert world.cli("fetch", "3.12.7")[0] == 0
    code, out, err = world.cli("evict", "3.12.7", "-y")  # -y is accepted, and not needed
    assert code == 0, err
    assert out == "" and "evict" in err and K127 in err
    promised, freed = promised_and_freed(err)
    assert promised == freed == human_size(world.spec(K127).size)


def test_the_pin_scan_is_as_bounded_as_the_environment_scan(tmp_path: Path) -> None:
    deep = tmp_path
    for depth in range(CWD_DEPTH + 1):
        deep = deep / f"d{depth}"
        deep.mkdir()
        (deep / PIN).write_text(f"3.{depth}\n")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / PIN).write_text("3.12\n")  # skipped like for environments
    venvs, pins = find_users([SearchRoot(tmp_path, CWD_DEPTH, "cwd")])
    assert venvs == []
    assert [p.request for p in pins] == [f"3.{d}" for d in range(CWD_DEPTH)]
    big = tmp_path / "big"
    big.write_bytes(b"3.12\n" + b"#" * 10_000)
    assert read_pin(big) is None  # not a pin file; read no further


@pytest.mark.parametrize("asked", ["3.12.6", "3.12"])
def test_another_managers_default_linked_to_an_install_is_refused_without_yes_twice(
    world: World, work: Path, isolated_home: Path, asked: str
) -> None:
    """``pyenv global 3.12.6`` where pyenv's 3.12.6 is a link to a uv install (as ``mise sync
    python --uv`` makes them): removing the install breaks the default python."""
    assert world.cli("install", "3.12.7", "3.12.6")[0] == 0
    install = world.root / "installs" / K126
    versions = isolated_home / ".pyenv" / "versions"
    versions.mkdir(parents=True)
    (versions / "3.12.6").symlink_to(install)
    (isolated_home / ".pyenv" / "version").write_text(f"{asked}\n")
    named = f"breaks {isolated_home / '.pyenv' / 'version'} (pyenv global asks for {asked}"
    for yes in ([], ["--yes"]):
        code, _, err = world.cli("uninstall", K126, *yes)
        assert code == 1, err
        assert named in err
        assert last_line(err).startswith("pyshelf: error: pyenv global would break")
        assert "twice (-yy)" in last_line(err) and install.is_dir()
    code, out, err = world.cli("prune", "--keep-newest-patch", "--yes")  # the older patch
    assert code == 1 and named in out
    assert "pyenv global would break" in last_line(err) and install.is_dir()
    code, _, err = world.cli("uninstall", K126, "-yy")
    assert code == 0, err
    assert not install.exists() and (world.root / "installs" / K127).is_dir()

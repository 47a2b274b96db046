"""`--json` on the commands that had none: stdout parses, line by line, with the README's
fields; the human lines stay on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import World

KEY_12 = "cpython-3.12.7-linux-x86_64-gnu"
JOB_FIELDS = {"action", "name", "ok", "result", "error", "warnings", "archive", "install"}
STEP_FIELDS = {"action", "name", "ok", "error", "freed", "paths"}


def records(out: str) -> list[dict[str, object]]:
    """Every stdout line is one JSON object."""
    lines = out.splitlines()
    assert lines and all(line.startswith("{") for line in lines), out
    return [json.loads(line) for line in lines]


def test_job_commands_print_one_object_per_outcome(world: World) -> None:
    code, out, err = world.cli("fetch", "--json", "3.12", "3.11")
    assert code == 0, err
    fetched = records(out)
    assert [r["name"] for r in fetched] == [KEY_12, "cpython-3.11.9-linux-x86_64-gnu"]
    for r in fetched:
        assert set(r) == JOB_FIELDS and r["action"] == "fetch" and r["ok"] is True
        assert r["result"] == "cached" and r["install"] is None
        assert Path(str(r["archive"])).is_file()
    code, out, err = world.cli("install", "--json", "3.12", "--no-bin")
    assert code == 0, err
    (installed,) = records(out)
    assert installed["install"] == str(world.root / "installs" / KEY_12)
    assert (installed["action"], installed["result"], installed["error"]) == (
        "install", "installed", None
    )  # fmt: skip
    code, out, err = world.cli("reinstall", "--json", "3.12")
    assert code == 0, err
    assert records(out)[0]["result"] == "reinstalled"
    code, out, err = world.cli("uninstall", "--json", "3.12")
    assert code == 0, err
    (step,) = records(out)
    assert set(step) == STEP_FIELDS and step["action"] == "uninstall" and step["ok"] is True
    assert step["name"] == KEY_12 and isinstance(step["freed"], int) and step["freed"] > 0
    assert step["paths"][0] == str(world.root / "installs" / KEY_12)  # then its unpacked copy
    code, out, err = world.cli("evict", "--json", "3.11")
    assert code == 0, err
    (step,) = records(out)
    assert step["action"] == "evict" and step["ok"] is True and step["freed"] > 0
    assert "freed" in err  # the human lines stay on stderr


def test_a_failed_job_is_an_object_too(world: World) -> None:
    code, out, _ = world.cli("fetch", "--json", "3.12", "--offline")  # not cached: cannot
    assert code == 1
    (failed,) = records(out)
    assert failed["ok"] is False and failed["error"] and failed["result"] is None


def test_a_removal_refused_as_a_whole_says_so_per_step(world: World, tmp_path: Path) -> None:
    assert world.cli("install", "3.12")[0] == 0
    venv = tmp_path / "proj" / ".venv"
    venv.mkdir(parents=True)
    home = world.root / "installs" / KEY_12 / "bin"
    (venv / "pyvenv.cfg").write_text(f"home = {home}\nversion_info = 3.12.7\n")
    code, out, err = world.cli("uninstall", "--json", "3.12", "--venv-dir", str(tmp_path))
    assert code == 1 and "pass --yes twice" in err
    (step,) = records(out)
    assert step["ok"] is False and "pass --yes twice" in str(step["error"]) and step["freed"] == 0
    assert (world.root / "installs" / KEY_12).is_dir()


def test_verify_prints_one_object_per_item(world: World) -> None:
    assert world.cli("install", "3.12", "--no-bin")[0] == 0
    assert world.cli("fetch", "3.11")[0] == 0
    archive = next((world.root / "cache").glob("*cpython-3.11.9*"))
    with archive.open("r+b") as handle:  # one byte changed: the sha256 no longer matches
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 0xFF]))
    code, out, err = world.cli("verify", "--json")
    assert code == 1
    items = records(out)
    assert {(i["kind"], i["ok"]) for i in items} == {
        ("archive", True), ("archive", False), ("unpacked", True)
    }  # fmt: skip
    bad = next(i for i in items if not i["ok"])
    assert bad["name"] == "cpython-3.11.9-linux-x86_64-gnu" and bad["path"] == str(archive)
    assert len(bad["problems"]) == 1 and "sha256" in bad["problems"][0]
    assert bad["repair"] == "`pyshelf fetch cpython-3.11.9-linux-x86_64-gnu` downloads it again"
    assert all(set(i) == {"kind", "path", "name", "ok", "problems", "repair"} for i in items)
    assert "sha256" in err and "verified 2 archives and 1 unpacked copy: 1 problem" in err


def test_find_dir_and_doctor(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert world.cli("install", "3.12", "--no-bin")[0] == 0
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".python-version").write_text("3.12\n")
    code, out, err = world.cli("find", "--json")
    assert code == 0, err
    (found,) = records(out)
    assert found == {
        "executable": str(world.root / "installs" / KEY_12 / "bin" / "python3.12"),
        "name": KEY_12, "version": "3.12.7", "implementation": "cpython", "variant": None,
        "install": str(world.root / "installs" / KEY_12), "request": "3.12",
        "pinned_by": str(tmp_path / ".python-version"),
    }  # fmt: skip
    code, out, _ = world.cli("dir", "--json")
    (where,) = records(out)
    assert where == {
        "install_dir": str(world.root / "installs"), "bin_dir": str(world.root / "bin"),
        "cache_dir": str(world.root / "cache"),
        "env": f"export UV_PYTHON_CACHE_DIR={world.root / 'cache'}",
    }  # fmt: skip
    assert world.cli("dir", "--json", "--bin")[0] == 2
    code, out, err = world.cli("doctor", "--json")
    assert code == 0, err
    checks = records(out)
    assert {c["check"] for c in checks} >= {"catalog", "cpython archives"}
    for check in checks:
        assert set(check) == {"check", "target", "ok", "detail", "ms"} and check["ok"] is True


def test_upgrade_dry_run(world: World, tmp_path: Path) -> None:
    assert world.cli("install", "3.12.6")[0] == 0
    venv = tmp_path / "old" / ".venv"
    venv.mkdir(parents=True)
    home = world.root / "installs" / "cpython-3.12.6-linux-x86_64-gnu" / "bin"
    (venv / "pyvenv.cfg").write_text(f"home = {home}\nversion_info = 3.12.6\n")
    code, out, err = world.cli("upgrade", "--dry-run", "--json", "--venv-dir", str(tmp_path))
    assert code == 0, err
    (plan,) = records(out)
    assert plan == {
        "from": "cpython-3.12.6-linux-x86_64-gnu", "to": KEY_12, "version": "3.12.7",
        "cached": False, "follow": [], "repoint": [str(venv)],
    }  # fmt: skip
    assert not (world.root / "installs" / KEY_12).exists()

"""What a reinstall would discard: nothing for a fresh install, then what people changed."""

from __future__ import annotations

from tests.conftest import World

KEY = "cpython-3.12.7-linux-x86_64-gnu"


def _losses(world: World):
    shelf = world.shelf()
    entry = next(e for e in shelf.entries() if e.key == KEY)
    return shelf.reinstall_losses(entry)


def test_a_fresh_install_loses_nothing_then_additions_and_edits_are_named(world: World) -> None:
    assert world.cli("install", "3.12")[0] == 0
    assert _losses(world).none  # fix-ups, BUILD and EXTERNALLY-MANAGED are pyshelf's own
    install = world.root / "installs" / KEY
    cache = install / "lib" / "python3.12" / "__pycache__"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "os.cpython-312.pyc").write_bytes(b"bytecode")  # the interpreter's own writes
    assert _losses(world).none
    package = install / "lib" / "python3.12" / "site-packages" / "mine"
    package.mkdir(parents=True)
    for name in ("__init__.py", "core.py"):
        (package / name).write_text("x = 1\n")
    shared = next(p for p in install.rglob("*") if p.is_file() and p.stat().st_nlink > 1)
    with shared.open("ab") as handle:
        handle.write(b"\n# edited\n")
    losses = _losses(world)
    assert len(losses.added) == 1 and losses.added[0].endswith("mine")  # the folder, once
    assert losses.edited == (str(shared.relative_to(install)),)
    assert losses.describe().startswith("a reinstall discards 1 file added (")
    # After the reinstall the edit is gone (the copy is unpacked again) and so is the package.
    assert world.cli("reinstall", "3.12", "--yes")[0] == 0  # told to discard them
    assert _losses(world).none


def test_without_an_unpacked_copy_it_cannot_tell(world: World) -> None:
    assert world.cli("install", "3.12")[0] == 0
    shelf = world.shelf()
    entry = next(e for e in shelf.entries() if e.key == KEY)
    assert entry.build.sha256 is not None
    shelf.unpacked.remove(entry.build.sha256)
    losses = shelf.reinstall_losses(entry)
    assert not losses.none and "no unpacked copy" in losses.describe()

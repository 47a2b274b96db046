"""Checking an unpacked copy against its manifest: by one lstat per entry as it is linked
(``compare_copy``), or by hashing every file (``verify_copy``)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tui.engine.installs.linktree import CANNOT_LINK, link_or_copy
from tui.engine.installs.manifest import DIR, Manifest, entry_key, hash_file, what_changed
from tui.engine.platform import flags
from tui.engine.platform import links as platform_links
from tui.engine.progress import NULL, Reporter


class CopyDiffers(Exception):
    """An unpacked copy differs from its manifest; ``str()`` says how."""


UNSEALED = "its manifest is missing, damaged, or not sealed by pyshelf for this user"
_FOREIGN = "{} belongs to another user"  # planted: a copy is only ever this user's files
_DIR_FLAGS = os.O_RDONLY | flags.O_DIRECTORY | flags.O_NOFOLLOW | flags.O_CLOEXEC


def _open_folder(path: str) -> int | None:
    """A descriptor to read ``path``'s entries by (short lookups, and a folder swapped for a
    link midway is refused); None where folders take none (Windows): then by path."""
    return os.open(path, _DIR_FLAGS) if flags.FOLDER_FDS else None


def compare_copy(
    root: str, rows: dict[str, str], dest: str | None = None, reporter: Reporter = NULL
) -> str | None:
    """Why the tree at ``root`` differs from its manifest ``rows``, or None when it matches.

    With ``dest`` (a new path) the tree is also recreated there as it is read, with hard links
    (a copy where a link is refused): a reinstall checks and links in one walk. Errors
    reading ``root`` are differences; errors writing ``dest`` are raised.
    """

    def unreadable(exc: OSError) -> str:
        return f"it cannot be read ({exc.strerror or exc})"

    geteuid = getattr(os, "geteuid", None)
    uid = geteuid() if geteuid is not None else None  # every entry must be this user's
    try:
        top_st = os.lstat(root)
    except OSError as exc:
        return unreadable(exc)
    top = top_st.st_mode
    if f"{DIR}\t{top:o}\t\t" != rows.get("."):
        return "the mode of its top directory changed"
    if uid is not None and top_st.st_uid != uid:
        return _FOREIGN.format(".")
    modes: list[tuple[str, int]] = []  # directories made, given their modes last
    if dest is not None:
        os.mkdir(dest)
        modes.append((dest, stat.S_IMODE(top)))
    seen = 1
    stack = [""]
    while stack:
        reporter.check("install cancelled")
        rel_dir = stack.pop()
        src_dir = f"{root}/{rel_dir}" if rel_dir else root
        try:
            fd = _open_folder(src_dir)
        except OSError as exc:
            return unreadable(exc)
        out = None
        try:
            if dest is not None:
                dst_dir = f"{dest}/{rel_dir}" if rel_dir else dest
                out = _open_folder(dst_dir)
            try:
                with os.scandir(src_dir if fd is None else fd) as entries:
                    names = [e.name for e in entries]
            except OSError as exc:
                return unreadable(exc)
            for name in names:
                rel = f"{rel_dir}/{name}" if rel_dir else name
                want = rows.get(rel)
                if want is None:
                    return f"{rel} was added"
                src = name if fd is not None else f"{src_dir}/{name}"  # Windows: by path
                try:
                    st = os.lstat(src, dir_fd=fd)
                    key = entry_key(st, src, fd)
                except OSError as exc:
                    return unreadable(exc)
                if key != want:
                    return f"{rel} changed ({what_changed(st, want)})"
                if uid is not None and st.st_uid != uid:
                    return _FOREIGN.format(rel)
                seen += 1
                mode = st.st_mode
                if dest is None:
                    if stat.S_ISDIR(mode):
                        stack.append(rel)
                    continue
                dst = name if out is not None else f"{dst_dir}/{name}"
                if stat.S_ISDIR(mode):
                    stack.append(rel)
                    os.mkdir(dst, dir_fd=out)
                    modes.append((f"{dest}/{rel}", stat.S_IMODE(mode)))
                elif stat.S_ISLNK(mode):
                    os.symlink(os.readlink(src, dir_fd=fd), dst, dir_fd=out)
                elif fd is None:
                    platform_links.link_or_copy(src, dst)
                else:
                    try:
                        os.link(name, name, src_dir_fd=fd, dst_dir_fd=out, follow_symlinks=False)
                    except OSError as exc:
                        if exc.errno not in CANNOT_LINK:
                            raise
                        link_or_copy(f"{root}/{rel}", f"{dest}/{rel}", link_ok=False)
        finally:
            if fd is not None:
                os.close(fd)
            if out is not None:
                os.close(out)
    if seen != len(rows):
        missing = next(
            (r for r in rows if r != "." and not os.path.lexists(f"{root}/{r}")), "a file"
        )
        return f"{missing} is missing"
    for path, mode in reversed(modes):  # last, so a read-only directory could still be filled
        os.chmod(path, mode)
    return None


def verify_copy(
    tree: Path, manifest: Manifest, structural: str | None, reporter: Reporter = NULL
) -> list[str]:
    """Every difference between ``tree`` and its full ``manifest``, hashing every file:
    one line each, naming the file; ``structural`` is what the lstat check found."""
    problems: list[str] = []
    if structural is not None:
        problems.append(f"{tree}: {structural}")
    sizes = {rel: int(manifest.rows[rel].split("\t")[2]) for rel in manifest.digests}
    total = sum(sizes.values())
    done = 0
    for rel, want in manifest.digests.items():
        path = f"{tree}/{rel}"
        try:
            if not stat.S_ISREG(os.lstat(path).st_mode):
                continue  # the structural check named it
            got = hash_file(path, reporter)
        except FileNotFoundError:
            continue
        except OSError as exc:
            problems.append(f"{path}: unreadable ({exc.strerror or exc})")
            continue
        if got != want:
            why = f"CRC-32 {got}, was {want} when unpacked"
            problems.append(f"{path}: content differs from the archive's ({why})")
        done += sizes[rel]
        reporter.progress(done, total)
    return problems

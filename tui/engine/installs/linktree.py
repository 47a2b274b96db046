"""Hard-linked copies of trees: an install made from an unpacked copy shares its disk space."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from tui.engine.fsutil import new_scratch_file, own_dir
from tui.engine.platform import links as platform_links
from tui.engine.progress import NULL, Reporter


def clone_tree(source: Path, dest: Path, reporter: Reporter = NULL) -> None:
    """Recreate ``source`` at ``dest`` (new) with hard links, copying where linking fails."""
    link_ok = True
    os.mkdir(dest)
    modes = [(os.fspath(dest), stat.S_IMODE(os.stat(source).st_mode))]
    stack = [(os.fspath(source), os.fspath(dest))]
    while stack:
        reporter.check("install cancelled")
        src_dir, dst_dir = stack.pop()
        with os.scandir(src_dir) as entries:
            for entry in entries:
                src, dst = entry.path, f"{dst_dir}/{entry.name}"
                if entry.is_symlink():
                    os.symlink(os.readlink(src), dst)
                elif entry.is_dir(follow_symlinks=False):
                    os.mkdir(dst)
                    modes.append((dst, stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode)))
                    stack.append((src, dst))
                elif entry.is_file(follow_symlinks=False):
                    link_ok = link_or_copy(src, dst, link_ok)
    for path, mode in reversed(modes):  # last, so a read-only directory can still be filled
        os.chmod(path, mode)


def link_or_copy(src: str, dst: str, link_ok: bool) -> bool:
    """Returns whether to keep trying links (not across filesystems or where forbidden)."""
    if link_ok:
        try:
            os.link(src, dst, follow_symlinks=False)
            return True
        except NotImplementedError:  # Windows' os.link before Python 3.13 lacks the option
            return platform_links.link_or_copy(src, dst)
        except OSError as exc:
            if exc.errno not in CANNOT_LINK:
                raise
            link_ok = exc.errno == errno.EMLINK  # too many links to one inode: copy just this
    import shutil  # rarely: links are the rule

    shutil.copy2(src, dst, follow_symlinks=False)
    return link_ok


CANNOT_LINK = (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP)


def can_link(source_dir: Path, dest_dir: Path) -> bool:
    """Whether files in ``source_dir`` can be hard-linked into ``dest_dir``: the same
    filesystem, and one that allows it (bind mounts of one disk still refuse). Tried with a
    scratch file, named so that both directories' sweeps take it if a kill leaves it."""
    own_dir(source_dir)  # a link planted in place of either is refused
    own_dir(dest_dir)
    fd, probe = new_scratch_file(source_dir, ".probe.pyshelf-")
    os.close(fd)
    target = dest_dir / probe.name
    try:
        os.link(probe, target)
    except OSError as exc:
        if exc.errno not in CANNOT_LINK:
            raise
        return False
    else:
        os.unlink(target)
        return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(probe)

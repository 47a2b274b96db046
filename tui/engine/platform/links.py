"""A second name for a file: a hard link where the filesystem makes one, else a copy."""

from __future__ import annotations

import errno
import os

# Refusals that say "no hard links here", as opposed to a missing source or a full disk.
_NO_LINKS = {errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP}


def link_or_copy(source: str, dest: str) -> bool:
    """Make ``dest`` a hard link to ``source`` (never through a link), or a copy with its
    mode and times where links cannot be made; True for a link.

    Windows' ``os.link`` raises NotImplementedError for ``follow_symlinks=False``, which is
    not an OSError: it would skip an ``except OSError`` fallback.
    """
    try:
        os.link(source, dest, follow_symlinks=False)
        return True
    except NotImplementedError:
        try:
            os.link(source, dest)
            return True
        except OSError as exc:
            if exc.errno not in _NO_LINKS and not isinstance(exc, PermissionError):
                raise
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
    import shutil  # only filesystems without hard links pay for its import

    shutil.copy2(source, dest, follow_symlinks=False)
    return False

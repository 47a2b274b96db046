"""Errors that end an operation with a one-line message the user can act on."""


class PyshelfError(Exception):
    """An expected failure: shown as one line, never as a traceback."""


def shown(value: object, limit: int = 40) -> str:
    """Input quoted for an error line: escaped (NULs, newlines) and cut short when long.

    Any value will do (a catalog field may hold a number or a list): it is shown as repr.
    """
    if isinstance(value, str):
        return repr(value if len(value) <= limit else value[:limit] + "…")
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def describe_os_error(exc: OSError) -> str:
    """``Permission denied: /opt/python`` rather than ``[Errno 13] ...`` with a class name."""
    what = exc.strerror or str(exc)
    return f"{what}: {exc.filename}" if exc.filename else what


def describe_error(error: BaseException | None) -> str:
    """One line for any failure, for the CLI, the queue and the app alike.

    An expected failure says what to do; an OS error names what and where; anything else is
    a bug, so it names the exception. URLs in the text lose their credentials on the way.
    """
    from tui.engine.redact import redact_text

    if isinstance(error, PyshelfError):
        text = str(error)
    elif isinstance(error, OSError):
        text = describe_os_error(error)
    else:
        text = f"unexpected error: {type(error).__name__}: {error}"
    return redact_text(" ".join(text.split()))


class CatalogError(PyshelfError):
    """The catalog could not be read or parsed."""


class RequestError(PyshelfError):
    """A request such as ``3.12`` or ``pypy@3.10`` matched nothing usable."""


class OfflineError(PyshelfError):
    """The network is needed but pyshelf runs offline (or cannot reach the server)."""


class DownloadError(PyshelfError):
    """A download failed after its retries."""


class ChecksumError(DownloadError):
    """The bytes did not hash to the published sha256."""


class Cancelled(PyshelfError):
    """A job was cancelled by the user; partial work is kept for resume."""


class ArchiveError(PyshelfError):
    """An archive is corrupt or hostile (paths escaping the target, devices, ...)."""


class LockTimeout(PyshelfError):
    """Another process holds a lock we need."""


class NotAnInterpreter(ArchiveError):
    """An archive (or its unpacked copy) holds no runnable interpreter of its key's version.

    ``archive_at_fault``: its files say so (no interpreter, one of another version); False
    when the interpreter could not be asked (it did not start, or did not answer in time),
    which may be this machine's doing rather than the archive's.
    """

    def __init__(self, message: str, *, archive_at_fault: bool = True) -> None:
        super().__init__(message)
        self.archive_at_fault = archive_at_fault

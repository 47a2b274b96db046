"""Keep credentials out of everything pyshelf shows or writes.

A mirror or catalog URL may carry a password (``https://user:secret@host/``) or a token in its
query string (signed object-store URLs). Those URLs are still used for requests, but whatever
is printed, put in JSON, shown in the app or saved to disk goes through :func:`redact_url`
or :func:`redact_text` first.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
# scheme://[userinfo@]host... up to whitespace or a quote; enough to find URLs inside messages.
_URL_IN_TEXT = r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+"  # compiled on first use


def redact_url(url: str) -> str:
    """The URL with its user info and every query-string value masked."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            # The user name goes too: tokens are often passed as one (https://TOKEN@host/).
            netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
        query = parts.query
        if query:
            query = "&".join(
                f"{name}={MASK}" if sep else name
                for name, sep, _ in (pair.partition("=") for pair in query.split("&"))
            )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:  # not a URL urlsplit can read (a bad IPv6 literal): hide all of it
        return MASK


def redact_text(text: str) -> str:
    """Every URL inside a free-form message (an error from the HTTP stack, say), redacted."""
    return re.sub(_URL_IN_TEXT, lambda m: redact_url(m.group(0)), text)

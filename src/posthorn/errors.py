"""Errors a person caused and can fix: each carries a message fit to show them.

The CLI prints these without a traceback, the REST API maps them to a status and a JSON
body, the LMTP server to a reply code.  Anything else is a bug and is logged in full.
"""

from __future__ import annotations

__all__ = ["PosthornError"]


class PosthornError(Exception):
    """Base of every user-facing error; ``str(error)`` is the message to show."""

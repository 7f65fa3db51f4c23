"""Header text that stays one line: decoded RFC 2047 words and list settings.

An encoded word may decode to anything, CR and LF included (``=?utf-8?q?a=0D=0AX:_y?=``).
Written back into a header, such text would end the field early (the email package then
refuses to write the message at all, which shunts the post).  Every place that turns
decoded header text into text for a header, or shows it as one line, reads it through
``decoded_header``; ``one_line`` does the same for any other text bound for a header.
"""

from __future__ import annotations

import re
from email.header import decode_header, make_header

__all__ = ["CONTROL", "decoded_header", "one_line"]

# C0 controls, DEL and C1 controls: none has a place in a one-line header text.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Folding (a line break before white space) is undone first, as RFC 5322 unfolds.
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_BREAKS = re.compile(r"[\r\n]+")
# What one_line replaces: the controls but TAB, which is white space in a header.
_STRAY = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def one_line(text: str) -> str:
    """``text`` unfolded; every other run of CR/LF and every control but TAB a space."""
    return _STRAY.sub(" ", _BREAKS.sub(" ", _FOLD.sub("", text)))


def decoded_header(value: object) -> str:
    """A header value as one line of text, RFC 2047 words decoded; never raises."""
    raw = str(value)
    try:
        text = str(make_header(decode_header(raw)))
    except (UnicodeError, LookupError, ValueError):
        text = raw
    return one_line(text)

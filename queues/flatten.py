"""A message written as bytes straight to a file, with no whole copy of it in memory.

``email.generator.BytesGenerator`` writes the body of every message and of every MIME
part into a buffer of its own before copying it into the enclosing one (so that it may
still change headers it has not written yet), and splits each text into a list of its
lines; writing a large post held some five copies of it at once.  ``StreamingGenerator``
writes the same bytes in the same order, but straight to the output, and turns line
endings into the policy's a slice at a time.  It falls back to the buffered way only
where the headers may still change after the body is generated: a multipart without a
boundary (one is made up to fit the parts) and a policy with ``cte_type = 7bit`` (8-bit
text is re-encoded).
"""

from __future__ import annotations

import hashlib
import re
from email.generator import BytesGenerator
from email.message import Message
from email.policy import Policy
from io import BytesIO
from typing import IO, Any

__all__ = [
    "StreamingGenerator",
    "flatten_to",
    "line_ends",
    "message_sha1",
    "message_size",
    "message_to_bytes",
]

# Characters turned into one slice of output at a time.
SLICE = 64 * 1024
_FROM = re.compile(r"^From ", re.MULTILINE)


def line_ends(text: str, newline: str) -> str:
    """``text`` with every line end ("\\r\\n", "\\r" or "\\n") made ``newline``.

    The same as substituting the three at once, but by plain replacement, which is
    several times quicker (and nothing at all where the text has the ends already).
    """
    if "\r" in text:
        # Every pair first, so that only lone "\r"s remain for the second step.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if newline != "\n":
        text = text.replace("\n", newline)
    return text


def _mangled(text: str) -> str:
    """``text`` with every line starting "From " made ">From " (mbox quoting)."""
    # Most texts have no such line: a substring search is far cheaper than the regex.
    if not text.startswith("From ") and "\nFrom " not in text:
        return text
    return _FROM.sub(">From ", text)


class StreamingGenerator(BytesGenerator):
    """``BytesGenerator`` without its per-part buffers (see the module docstring)."""

    def _seven_bit(self) -> bool:
        policy: Any = self.policy
        return bool(policy.cte_type == "7bit")

    def _write(self, msg: Message) -> None:
        if self._seven_bit():
            super()._write(msg)  # type: ignore[misc]
            return
        # The content type is looked up once: each look is a walk over every field.
        ctype = msg.get_content_type()
        # As the base class decides in _handle_multipart, but before the headers.
        multipart = ctype.startswith("multipart/")
        if multipart and not isinstance(msg.get_payload(), str) and not msg.get_boundary():
            msg.set_boundary(self._make_boundary())  # type: ignore[attr-defined]
        write_headers = getattr(msg, "_write_headers", None)
        if write_headers is None:
            self._write_headers(msg)
        else:
            write_headers(self)
        self._dispatch_as(msg, ctype)

    def _dispatch(self, msg: Message) -> None:
        self._dispatch_as(msg, msg.get_content_type())

    def _dispatch_as(self, msg: Message, ctype: str) -> None:
        """The base class's ``_dispatch`` for a message of content type ``ctype``."""
        # get_content_type always gives one "/"; the base class reads it twice.
        main, sub = ctype.split("/")
        handle = getattr(self, f"_handle_{main}_{sub}".replace("-", "_"), None)
        if handle is None:
            handle = getattr(self, "_handle_" + main.replace("-", "_"), None)
        if handle is None:
            handle = self._writeBody
        handle(msg)

    def _write_headers(self, msg: Message) -> None:
        # As the base class, with one write for the whole header block.
        fold = self.policy.fold_binary  # type: ignore[union-attr]
        block = b"".join([fold(name, value) for name, value in msg.raw_items()])
        self._fp.write(block + self._encoded_NL)  # type: ignore[attr-defined]

    def _write_lines(self, text: str) -> None:
        # What the base class does with a list of lines: every line end becomes the
        # policy's.  A slice always ends just after a "\n", so no CRLF is cut in two.
        newline = self._NL  # type: ignore[attr-defined]
        start, end = 0, len(text)
        while start < end:
            stop = text.find("\n", start + SLICE)
            stop = end if stop < 0 else stop + 1
            self.write(line_ends(text[start:stop], newline))
            start = stop

    def _handle_text(self, msg: Message) -> None:
        payload = msg._payload  # type: ignore[attr-defined]
        if payload is None:
            return
        if not isinstance(payload, str) or self._seven_bit():
            super()._handle_text(msg)  # type: ignore[misc]
            return
        # Both of the base classes' paths end here for an 8-bit policy, with or without
        # surrogate-escaped bytes in the payload.
        if self._mangle_from_:  # type: ignore[attr-defined]
            payload = _mangled(payload)
        self._write_lines(payload)

    _writeBody = _handle_text

    def _handle_multipart(self, msg: Message) -> None:
        parts: Any = msg.get_payload()
        if parts is None:
            parts = []
        elif not isinstance(parts, list | str):
            parts = [parts]
        if isinstance(parts, str) or not msg.get_boundary() or self._seven_bit():
            super()._handle_multipart(msg)  # type: ignore[misc]
            return
        boundary = msg.get_boundary()
        newline = self._NL  # type: ignore[attr-defined]
        if msg.preamble is not None:
            preamble = msg.preamble
            if self._mangle_from_:  # type: ignore[attr-defined]
                preamble = _mangled(preamble)
            self._write_lines(preamble)
            self.write(newline)
        self.write(f"--{boundary}{newline}")
        for index, part in enumerate(parts):
            if index:
                self.write(f"{newline}--{boundary}{newline}")
            self.clone(self._fp).flatten(part, unixfrom=False, linesep=newline)  # type: ignore[attr-defined]
        self.write(f"{newline}--{boundary}--{newline}")
        if msg.epilogue is not None:
            epilogue = msg.epilogue
            if self._mangle_from_:  # type: ignore[attr-defined]
                epilogue = _mangled(epilogue)
            self._write_lines(epilogue)

    def _handle_message(self, msg: Message) -> None:
        payload = msg._payload  # type: ignore[attr-defined]
        if not isinstance(payload, list):
            super()._handle_message(msg)  # type: ignore[misc]
            return
        self.clone(self._fp).flatten(  # type: ignore[attr-defined]
            msg.get_payload(0),
            unixfrom=False,
            linesep=self._NL,  # type: ignore[attr-defined]
        )


def flatten_to(
    fp: IO[bytes],
    msg: Message,
    *,
    policy: Policy[Any] | None = None,
    mangle_from: bool = False,
    unixfrom: bool = False,
) -> None:
    """Write ``msg`` to ``fp`` as ``BytesGenerator`` would, without holding copies."""
    StreamingGenerator(fp, mangle_from_=mangle_from, policy=policy).flatten(msg, unixfrom=unixfrom)


def message_to_bytes(msg: Message, policy: Policy[Any] | None = None) -> bytes:
    """``msg.as_bytes(policy=policy)``, with one copy of the result in memory at most."""
    buffer = BytesIO()
    flatten_to(buffer, msg, policy=policy)
    return buffer.getvalue()


class _Tally:
    """A file that keeps only the size and the SHA-1 of what is written to it."""

    def __init__(self, digest: bool) -> None:
        self.size = 0
        self.sha1 = hashlib.sha1(usedforsecurity=False) if digest else None

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.sha1 is not None:
            self.sha1.update(data)
        return len(data)


def message_size(msg: Message, policy: Policy[Any] | None = None) -> int:
    """``len(msg.as_bytes(policy=policy))`` without the bytes; raises what generating
    the bytes would."""
    tally = _Tally(digest=False)
    flatten_to(tally, msg, policy=policy)  # type: ignore[arg-type]
    return tally.size


def message_sha1(msg: Message) -> str:
    """The SHA-1 (hex) of ``msg.as_bytes()``, without the bytes."""
    tally = _Tally(digest=True)
    flatten_to(tally, msg)  # type: ignore[arg-type]
    assert tally.sha1 is not None
    return tally.sha1.hexdigest()

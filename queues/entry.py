"""The on-disk form of one queue entry: a version line, then two pickles.

Layout::

    b"posthorn-queue 1\\n"        format marker and version
    pickle(metadata dict)          protocol 5, built-in types only
    pickle(message bytes)          the message exactly as received or generated

The metadata comes first so a tool can show it (``read_metadata``) without unpickling
a large message.

Message form, measured with ``bench/queue_bench.py`` (Python 3.11, compat32; a hop is
storing on one side and loading on the other; a 5.5 KB text post / a 180 KB post with
an attachment):

====================  ======================  ======================
per hop               bytes, re-parsed        pickled Message
====================  ======================  ======================
stored size           5,552 B / 180,053 B     5,806 B / 180,323 B
store                 206 us / 1.25 ms        4 us / 9 us
                      (generate + pickle)     (pickle)
load                  58 us / 1.60 ms         4 us / 16 us
                      (unpickle + parse)      (unpickle)
whole hop             0.26 ms / 2.85 ms       0.008 ms / 0.025 ms
====================  ======================  ======================

Pickling the parsed object is some 35 times cheaper, but the bytes form costs about
a quarter of a millisecond per hop for a typical post -- less than the fsynced enqueue
itself (~0.6-0.9 ms there) and far less than SMTP delivery.  We store bytes: a pickled
``email.message.Message`` names classes and private attributes of the ``email``
package (and its policy object), so queued messages can fail to load after a Python
upgrade, and loading it needs an unpickler that imports ``email`` classes; bytes load
under any version with an unpickler that imports nothing, and the entry is exactly the
message as received.  A runner that passes a message on untouched can take it with
``Switchboard.dequeue_raw`` and enqueue the same bytes, skipping both costs.

Loading uses an unpickler that refuses every global name.  Built-in containers and
scalars need none, so a valid entry loads unchanged, while a file that tries to import
anything -- the usual way a pickle executes code -- is rejected as bad.
"""

from __future__ import annotations

import io
import pickle
from email.message import Message
from typing import IO, Any, NoReturn

FORMAT_VERSION = 1
MAGIC = b"posthorn-queue"
HEADER = b"%s %d\n" % (MAGIC, FORMAT_VERSION)
PICKLE_PROTOCOL = 5

# Exact types only: a subclass of str or int (an enum, say) pickles as a reference to
# its class, which is exactly the kind of thing that stops loading after an upgrade.
_SCALARS = (str, int, float, bool, type(None), bytes)
_CONTAINERS = (list, tuple, dict)


class FormatError(Exception):
    """The bytes on disk are not a loadable entry; the text says why."""


class _NoGlobals(pickle.Unpickler):
    """An unpickler that can build built-in values but never import anything."""

    def find_class(self, module: str, name: str, /) -> NoReturn:
        raise pickle.UnpicklingError(f"refusing global {module}.{name}")


def message_bytes(msg: bytes | bytearray | Message) -> bytes:
    """The bytes to store for ``msg``: as given, or generated from a parsed message."""
    if isinstance(msg, bytes | bytearray):
        return bytes(msg)
    if isinstance(msg, Message):
        # Generate with the message's own policy but without re-folding long headers,
        # so a message that goes through several queues keeps its header lines intact.
        return msg.as_bytes(policy=msg.policy.clone(max_line_length=0))
    raise TypeError(f"message must be bytes or email.message.Message, not {type(msg).__name__}")


def check_metadata(value: object, where: str = "msgdata") -> None:
    """Raise TypeError unless ``value`` is built of built-in types only."""
    _check(value, where, set())


def _check(value: object, where: str, open_ids: set[int]) -> None:
    kind = type(value)
    if kind in _SCALARS:
        return
    if kind not in _CONTAINERS:
        raise TypeError(
            f"{where} is a {kind.__module__}.{kind.__qualname__}; queue metadata takes only "
            "str, int, float, bool, None, bytes, list, tuple and dict"
        )
    # A container that contains itself cannot be checked (or sensibly stored).
    if id(value) in open_ids:
        raise TypeError(f"{where} contains itself")
    open_ids.add(id(value))
    if isinstance(value, dict):
        for key, item in value.items():
            _check(key, f"{where} key {key!r}", open_ids)
            _check(item, f"{where}[{key!r}]", open_ids)
    else:
        assert isinstance(value, list | tuple)
        for index, item in enumerate(value):
            _check(item, f"{where}[{index}]", open_ids)
    open_ids.discard(id(value))


def encode(data: bytes, msgdata: dict[str, Any]) -> bytes:
    """The full file content for an entry (metadata is assumed already checked)."""
    return b"".join(
        (
            HEADER,
            pickle.dumps(msgdata, protocol=PICKLE_PROTOCOL),
            pickle.dumps(data, protocol=PICKLE_PROTOCOL),
        )
    )


def read_metadata(fp: IO[bytes]) -> dict[str, Any]:
    """Read the header and the metadata from ``fp``; raise FormatError if unusable."""
    header = fp.readline(64)
    if not header.startswith(MAGIC + b" ") or not header.endswith(b"\n"):
        raise FormatError("not a queue entry (no posthorn-queue header)")
    version = header[len(MAGIC) + 1 : -1]
    if version != str(FORMAT_VERSION).encode():
        raise FormatError(f"unknown entry format version {version.decode('ascii', 'replace')!r}")
    msgdata = _load(fp, "metadata")
    if not isinstance(msgdata, dict):
        raise FormatError(f"metadata is a {type(msgdata).__name__}, not a dict")
    return msgdata


def read_entry(fp: IO[bytes]) -> tuple[bytes, dict[str, Any]]:
    """Read a whole entry from ``fp``; raise FormatError if any part is unusable."""
    msgdata = read_metadata(fp)
    data = _load(fp, "message")
    if not isinstance(data, bytes):
        raise FormatError(f"message is a {type(data).__name__}, not bytes")
    # Anything after the second pickle means the file is not what we wrote.
    if fp.read(1):
        raise FormatError("trailing data after the message")
    return data, msgdata


def decode(content: bytes) -> tuple[bytes, dict[str, Any]]:
    """Like read_entry, for content already in memory."""
    return read_entry(io.BytesIO(content))


def _load(fp: IO[bytes], part: str) -> object:
    try:
        return _NoGlobals(fp).load()
    except EOFError:
        raise FormatError(f"{part} is truncated") from None
    except Exception as error:
        # A damaged pickle can fail in many ways (UnpicklingError, ValueError,
        # IndexError, MemoryError from a corrupt length, ...); all mean "unloadable".
        raise FormatError(f"{part} cannot be unpickled: {error}") from None

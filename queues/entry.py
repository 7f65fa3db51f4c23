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

A large message is never held twice for its entry: it is written to the file as it is
generated (``write_entry``), its pickle's length filled in afterwards, and read back a
slice at a time (``message_length`` then ``read_message``), so a reader can parse it
while reading.  The message pickle is one bytes object in any of the forms
``pickle.dumps(data, protocol=5)`` gives, which are the only forms a reader accepts.

Loading uses an unpickler that refuses every global name.  Built-in containers and
scalars need none, so a valid entry loads unchanged, while a file that tries to import
anything -- the usual way a pickle executes code -- is rejected as bad.
"""

from __future__ import annotations

import io
import pickle
import struct
from collections.abc import Iterator
from email.message import Message
from typing import IO, Any, NoReturn

from posthorn.queues.flatten import flatten_to, message_to_bytes

FORMAT_VERSION = 1
MAGIC = b"posthorn-queue"
HEADER = b"%s %d\n" % (MAGIC, FORMAT_VERSION)
PICKLE_PROTOCOL = 5
# The opcodes around a pickled bytes object (protocol 5): PROTO 5, an optional FRAME,
# then SHORT_BINBYTES, BINBYTES or BINBYTES8 and the data, then MEMOIZE and STOP.
_PROTO = b"\x80\x05"
_FRAME = b"\x95"
_BYTES_OPS = {b"C": "<B", b"B": "<I", b"\x8e": "<Q"}
_ENDS = (b".", b"\x94.")
READ_SLICE = 256 * 1024

# Exact types only: a subclass of str or int (an enum, say) pickles as a reference to
# its class, which is exactly the kind of thing that stops loading after an upgrade.
_SCALARS = frozenset((str, int, float, bool, type(None), bytes))
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
        return message_to_bytes(msg, queue_policy(msg))
    raise TypeError(f"message must be bytes or email.message.Message, not {type(msg).__name__}")


def queue_policy(msg: Message) -> Any:
    """The policy a message is written to a queue with."""
    # The message's own policy but without re-folding long headers, so a message that
    # goes through several queues keeps its header lines intact.
    return msg.policy.clone(max_line_length=0)


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
    # Scalars, nearly every item, are passed over here: the words naming where an
    # item is are made only for an item that needs a look of its own.
    if isinstance(value, dict):
        for key, item in value.items():
            if type(key) not in _SCALARS:
                _check(key, f"{where} key {key!r}", open_ids)
            if type(item) not in _SCALARS:
                _check(item, f"{where}[{key!r}]", open_ids)
    else:
        assert isinstance(value, list | tuple)
        for index, item in enumerate(value):
            if type(item) not in _SCALARS:
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


def write_entry(fp: IO[bytes], msg: bytes | bytearray | Message, msgdata: dict[str, Any]) -> None:
    """Write an entry to ``fp`` (a seekable file); a Message is generated straight into it.

    Gives the same bytes as ``encode``, but neither the message nor the entry is ever
    a second time in memory.
    """
    fp.write(HEADER)
    pickle.dump(msgdata, fp, protocol=PICKLE_PROTOCOL)
    if isinstance(msg, bytes | bytearray):
        # The pickle of a bytes object, written around the data rather than made by
        # pickle.dump, which would first copy a bytearray into bytes.
        fp.write(_PROTO + b"\x8e" + struct.pack("<Q", len(msg)))
        fp.write(msg)
        fp.write(b".")
        return
    fp.write(_PROTO + b"\x8e")
    length_at = fp.tell()
    fp.write(bytes(8))
    flatten_to(fp, msg, policy=queue_policy(msg))
    end = fp.tell()
    fp.seek(length_at)
    fp.write(struct.pack("<Q", end - length_at - 8))
    fp.seek(end)
    fp.write(b".")


def message_length(fp: IO[bytes]) -> int:
    """Read the start of the message pickle from ``fp``; return the message's length."""
    start = fp.tell()
    head = fp.read(3)
    op = head[2:]
    if op == _FRAME:
        fp.read(8)
        op = fp.read(1)
    form = _BYTES_OPS.get(op)
    if head[:2] != _PROTO or form is None:
        fp.seek(start)
        found = _load(fp, "message")
        raise FormatError(f"message is a {type(found).__name__}, not bytes")
    size = struct.calcsize(form)
    field = fp.read(size)
    if len(field) != size:
        raise FormatError("message is truncated")
    return int(struct.unpack(form, field)[0])


def read_message(fp: IO[bytes], length: int) -> Iterator[bytes]:
    """The message's ``length`` bytes from ``fp``, a slice at a time; then check the end."""
    remaining = length
    while remaining:
        piece = fp.read(min(READ_SLICE, remaining))
        if not piece:
            raise FormatError("message is truncated")
        remaining -= len(piece)
        yield piece
    end = fp.read(11)
    if end[:1] == _FRAME:
        end = end[9:]
    if end not in _ENDS:
        raise FormatError("message is truncated" if not end else "trailing data after the message")


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
    length = message_length(fp)
    # Read in one piece: a list of slices joined would be a second copy.
    data = fp.read(length)
    if len(data) != length:
        raise FormatError("message is truncated")
    # Anything after the pickle's end means the file is not what we wrote.
    for _ in read_message(fp, 0):
        pass
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

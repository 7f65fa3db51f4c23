"""What an administrator does to single entries, as Postfix's postqueue and postsuper.

``list_entries`` shows each entry of a queue folder (id, age, size, list, Message-ID)
without claiming it; ``delete``, ``hold``, ``release`` and ``requeue`` act on one entry
named by its id (the file name without suffix), wherever it waits.  Only waiting
entries (``.pck``) are touched: an entry a runner has claimed (``.bak``) is in hand and
is refused until it is done.  Holding keeps the file as it is, in queue ``hold``, which
no runner reads; its ``whichq`` still names the queue it goes back to on release.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posthorn.queues.entry import (
    FormatError,
    encode,
    message_length,
    read_entry,
    read_message,
    read_metadata,
)
from posthorn.queues.errors import QueueError
from posthorn.queues.files import (
    UnsafeFile,
    ensure_private_dir,
    fsync_dir,
    open_private,
    write_durable,
)
from posthorn.queues.listing import CLAIMED, QUEUED
from posthorn.queues.naming import arrival_ns, is_queue_name

__all__ = [
    "HOLD",
    "PARKED",
    "EntryInfo",
    "StoredEntry",
    "delete",
    "describe",
    "find",
    "hold",
    "list_entries",
    "peek",
    "release",
    "requeue",
    "scan",
]

HOLD = "hold"
# Keys that belong to one stay in one queue, dropped when an entry is sent on again.
_STAY_KEYS = ("queue_attempts", "shunt_reason")
_ENTRY_ID = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_.+=-]*\Z")
# Queues where entries wait for a person: an entry sent there keeps naming its own.
PARKED = frozenset({"bad", "dead", HOLD, "shunt"})
_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)
_HEAD = 64 * 1024


@dataclass(frozen=True)
class EntryInfo:
    """One line of a queue listing."""

    id: str
    queue: str
    state: str  # "queued", or "claimed" while a runner has it in hand
    age: float
    size: int
    list_id: str
    message_id: str


@dataclass(frozen=True)
class StoredEntry:
    """One entry, loaded without claiming it (``scan``)."""

    id: str
    queue: str
    state: str  # "queued", or "claimed" while a runner has it in hand
    data: bytes
    msgdata: dict[str, Any]


def scan(queue_root: Path) -> Iterator[StoredEntry]:
    """Every entry of every queue that loads, queue by queue, oldest first."""
    for path in sorted(queue_root.glob("*/*")):
        state = {QUEUED: "queued", CLAIMED: "claimed"}.get(path.suffix)
        if state is None:
            continue
        try:
            with open_private(path) as fp:
                data, msgdata = read_entry(fp)
        except (OSError, FormatError, UnsafeFile):
            continue
        yield StoredEntry(path.stem, path.parent.name, state, data, msgdata)


def peek(queue_root: Path, ref: str) -> tuple[bytes, dict[str, Any]]:
    """The entry with id ``ref`` in any queue (claimed too), or the entry file at path
    ``ref``, loaded without claiming it; QueueError if there is none or it is unreadable."""
    path = Path(ref)
    if not path.is_file():
        if not _ENTRY_ID.match(ref):
            raise QueueError(f"no entry file and no entry id {ref!r}")
        found = [*queue_root.glob(f"*/{ref}{QUEUED}"), *queue_root.glob(f"*/{ref}{CLAIMED}")]
        if not found:
            raise QueueError(f"no entry {ref} in any queue")
        path = found[0]
    try:
        with path.open("rb") as fp:
            return read_entry(fp)
    except (OSError, FormatError) as error:
        raise QueueError(f"cannot read: {error}") from None


def list_entries(queue_root: Path, names: list[str]) -> list[EntryInfo]:
    """Every entry of the named queues, oldest first; unreadable ones show as ``-``."""
    found: list[EntryInfo] = []
    now = time.time()
    for name in names:
        folder = queue_root / name
        if not folder.is_dir():
            continue
        for file in sorted(folder.iterdir()):
            state = {QUEUED: "queued", CLAIMED: "claimed"}.get(file.suffix)
            if state is None:
                continue
            try:
                info = file.stat()
            except FileNotFoundError:
                continue
            arrived = arrival_ns(file.stem)
            age = now - (info.st_mtime if arrived is None else arrived / 1e9)
            list_id, message_id = _describe(file)
            found.append(
                EntryInfo(file.stem, name, state, max(age, 0.0), info.st_size, list_id, message_id)
            )
    return sorted(found, key=lambda entry: -entry.age)


def _describe(path: Path) -> tuple[str, str]:
    """The list and the Message-ID of an entry, read from its start only."""
    try:
        with open_private(path) as fp:
            msgdata = read_metadata(fp)
            length = message_length(fp)
            head = next(read_message(fp, min(length, _HEAD)), b"")
    except (OSError, FormatError, UnsafeFile):
        return "-", "-"
    return describe(msgdata, head)


def describe(msgdata: dict[str, Any], head: bytes) -> tuple[str, str]:
    """The list and the Message-ID of an entry, from its metadata and its first bytes."""
    head = head[:_HEAD].split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    match = _MESSAGE_ID.search(head)
    message_id = b" ".join(match.group(1).split()).decode("ascii", "replace") if match else "-"
    return str(msgdata.get("list_id") or "-"), message_id or "-"


def find(queue_root: Path, entry_id: str) -> Path:
    """The waiting file of entry ``entry_id`` in any queue; QueueError if none or in hand."""
    if not _ENTRY_ID.match(entry_id):
        raise QueueError(f"{entry_id!r} is not an entry id")
    folders = [p for p in sorted(queue_root.iterdir()) if p.is_dir()] if queue_root.is_dir() else []
    for folder in folders:
        if (folder / (entry_id + QUEUED)).is_file():
            return folder / (entry_id + QUEUED)
    for folder in folders:
        if (folder / (entry_id + CLAIMED)).is_file():
            raise QueueError(f"{entry_id} is being processed in {folder.name}; try again later")
    raise QueueError(f"no entry {entry_id} in any queue under {queue_root}")


def delete(queue_root: Path, entry_id: str) -> str:
    """Remove the entry for good (postsuper -d); return the queue it was in."""
    path = find(queue_root, entry_id)
    path.unlink()
    fsync_dir(path.parent)
    return path.parent.name


def hold(queue_root: Path, entry_id: str) -> str:
    """Move the entry, unchanged, to queue ``hold`` (postsuper -h); return where it was."""
    path = find(queue_root, entry_id)
    if path.parent.name == HOLD:
        raise QueueError(f"{entry_id} is already held")
    _move(path, queue_root / HOLD)
    return path.parent.name


def release(queue_root: Path, entry_id: str) -> str:
    """Put a held entry back in the queue it was held from (postsuper -H); return it."""
    path = find(queue_root, entry_id)
    if path.parent.name != HOLD:
        raise QueueError(f"{entry_id} is not held (it waits in {path.parent.name})")
    target = _origin(path)
    _move(path, queue_root / target)
    return target


def requeue(queue_root: Path, entry_id: str, to: str | None = None) -> tuple[str, str]:
    """Send any entry (held, shunted, dead ...) to queue ``to``, by default the one it
    was last queued for, with a fresh stay there (postsuper -r); return (from, to)."""
    path = find(queue_root, entry_id)
    target = to or _origin(path)
    if not is_queue_name(target) or target in (HOLD,):
        raise QueueError(f"{target!r} is not a queue an entry can be sent to")
    try:
        with open_private(path) as fp:
            data, msgdata = read_entry(fp)
    except (FormatError, UnsafeFile) as error:
        raise QueueError(f"{entry_id} cannot be read ({error}); delete it instead") from None
    for key in _STAY_KEYS:
        msgdata.pop(key, None)
    if target not in PARKED:
        msgdata["whichq"] = target
    ensure_private_dir(queue_root / target)
    write_durable(queue_root / target, path.name, encode(data, msgdata))
    if path.parent != queue_root / target:
        path.unlink()
        fsync_dir(path.parent)
    return path.parent.name, target


def _origin(path: Path) -> str:
    try:
        with open_private(path) as fp:
            whichq = read_metadata(fp).get("whichq")
    except (FormatError, UnsafeFile) as error:
        raise QueueError(f"{path.stem} cannot be read ({error})") from None
    if not is_queue_name(whichq) or whichq == HOLD:
        raise QueueError(f"{path.stem} does not say which queue it came from; use --to")
    return whichq


def _move(path: Path, target_dir: Path) -> None:
    """Rename within the queue root: atomic, and the entry keeps its name and slice."""
    ensure_private_dir(target_dir)
    target = target_dir / path.name
    if target.exists():
        raise QueueError(f"{target} exists already")
    os.rename(path, target)
    fsync_dir(target_dir)
    fsync_dir(path.parent)

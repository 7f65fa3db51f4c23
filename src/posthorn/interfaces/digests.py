"""The digest-store contract: where a list's posts wait for its next digest.

The ``to-digest`` handler appends each post; the digest sender, holding the list's
site lock (``digest.LIST-ID``), rotates what has gathered into a numbered issue, reads
each pending issue, queues it and removes it.  A post appended twice under the same
key (its Message-ID-Hash: a redone pipeline entry) is kept once.  An issue is named by
its volume and number.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import Message
from typing import Protocol

__all__ = ["IDigestStore", "IssueNumber"]

IssueNumber = tuple[int, int]


class IDigestStore(Protocol):
    def append(self, list_id: str, msg: Message, key: str = "") -> tuple[int, int]:
        """Add the post; the bytes now gathered, and how many of them this post added
        (0 if a post of that key was appended before)."""

    def size(self, list_id: str) -> int:
        """The bytes gathered for the list's next issue."""

    def rotate(self, list_id: str, numbered: Callable[[], IssueNumber]) -> bool:
        """Make what has gathered the issue ``numbered()`` (called only if anything has);
        False if nothing had."""

    def discard(self, list_id: str, numbered: Callable[[], IssueNumber]) -> bool:
        """Number what has gathered as ``rotate`` would, then forget its posts (but not
        their keys), for an issue nobody is to receive; False if nothing had gathered."""

    def pending(self, list_id: str) -> list[IssueNumber]:
        """The issues rotated and not yet removed, oldest first."""

    def read(self, list_id: str, issue: IssueNumber) -> list[Message]:
        """The posts of an issue, in the order they were appended."""

    def remove(self, list_id: str, issue: IssueNumber) -> None:
        """The issue is queued: forget its posts (but not their keys)."""

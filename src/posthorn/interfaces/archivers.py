"""The archiver contract: what the pipeline and the archive runner ask of an archive.

The permalink must be computable from the message alone (its ``Message-ID-Hash``),
without asking the archive, because ``cook-headers`` stamps it as ``Archived-At`` on
the members' copies before the archive has seen the message.
"""

from __future__ import annotations

from email.message import Message
from typing import Protocol, runtime_checkable

from posthorn.interfaces.lists import IMailingList

__all__ = ["IArchiver"]


@runtime_checkable
class IArchiver(Protocol):
    """One archive.  Built as ``Cls(site, name)`` once per process that needs it.

    Calls may come from a worker thread (the archive runner bounds each call with
    ``[archiver.NAME] timeout``), and the same message may be offered again after a
    failure or a timeout, so ``archive_message`` must be idempotent: archiving the same
    message twice keeps one copy.
    """

    @property
    def name(self) -> str:
        """The NAME of ``[archiver.NAME]``; also the key of per-list switches."""

    def list_url(self, mlist: IMailingList) -> str | None:
        """The list's archive (RFC 2369 ``List-Archive``), or None if it has none."""

    def permalink(self, mlist: IMailingList, msg: Message) -> str | None:
        """The message's URL in the archive (RFC 5064 ``Archived-At``), or None.

        Computed from the message's headers only, never by asking the archive.
        """

    def archive_message(self, mlist: IMailingList, msg: Message) -> str | None:
        """Archive the message; return the URL it is served at, if known.

        Raise to report a failure: the runner retries it later, for this archiver only.
        """

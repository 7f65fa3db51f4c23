"""What the built-in archivers share: their section, the hash, and URL building."""

from __future__ import annotations

from email.message import Message

from posthorn.config import Section
from posthorn.interfaces.lists import IMailingList
from posthorn.interfaces.messages import message_id_hash
from posthorn.site import Site

__all__ = ["Archiver", "hash_of"]


def hash_of(msg: Message) -> str | None:
    """The message's Message-ID-Hash: the header cook-headers set, else computed.

    The header wins so that every archiver agrees with the Archived-At the members got.
    """
    for header in ("message-id-hash", "x-message-id-hash"):
        value = msg.get(header)
        if value:
            return str(value).strip()
    message_id = msg.get("message-id")
    return message_id_hash(str(message_id)) if message_id else None


class Archiver:
    """A base for archivers configured by ``[archiver.NAME]`` (optional for plugins)."""

    def __init__(self, site: Site, name: str) -> None:
        self.site = site
        self.name = name
        self.section: Section = site.config[f"archiver.{name}"]

    def base_url(self) -> str:
        return str(self.section.get_str("base_url")).rstrip("/")

    def list_url(self, mlist: IMailingList) -> str | None:
        base = self.base_url()
        return f"{base}/{mlist.list_id}" if base else None

    def permalink(self, mlist: IMailingList, msg: Message) -> str | None:
        base, hashed = self.base_url(), hash_of(msg)
        return f"{base}/{mlist.list_id}/{hashed}" if base and hashed else None

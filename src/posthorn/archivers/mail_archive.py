"""``mail-archive``: The Mail Archive (mail-archive.com), fed a copy by SMTP.

Only lists whose ``archive_policy`` is ``public`` are archived there, since the
service's archive is public.  The permalink is ``base_url`` + Message-ID-Hash: The
Mail Archive resolves ``http://go.mail-archive.com/<Message-ID-Hash>`` (the hash
GNU Mailman defines, which it adopted in place of its own earlier one), and the list's
archive is ``base_url`` + the quoted posting address.  The copy goes through the
site's MTA (``[mta] smtp_host``/``smtp_port``) to ``[archiver.mail-archive]
recipient``, from the list's ``-bounces`` address.
"""

from __future__ import annotations

import smtplib
from email.message import Message
from urllib.parse import quote, urljoin

from posthorn.archivers.base import Archiver, hash_of
from posthorn.delivery.wire import to_wire
from posthorn.interfaces.lists import IMailingList

__all__ = ["MailArchiveArchiver"]


class MailArchiveArchiver(Archiver):
    def _base(self) -> str:
        return str(self.section.get_str("base_url"))

    def list_url(self, mlist: IMailingList) -> str | None:
        if mlist.archive_policy != "public":
            return None
        return urljoin(self._base(), quote(mlist.posting_address))

    def permalink(self, mlist: IMailingList, msg: Message) -> str | None:
        hashed = hash_of(msg)
        if mlist.archive_policy != "public" or not hashed:
            return None
        return urljoin(self._base(), hashed)

    def archive_message(self, mlist: IMailingList, msg: Message) -> str | None:
        if mlist.archive_policy != "public":
            return None
        mta = self.site.config["mta"]
        timeout = self.section.get_float("timeout")
        with smtplib.SMTP(
            mta.get_str("smtp_host"), mta.get_int("smtp_port"), timeout=timeout
        ) as smtp:
            smtp.sendmail(mlist.bounces_address, [self.section.get_str("recipient")], to_wire(msg))
        return self.permalink(mlist, msg)

"""Where a site keeps its delivery records: the database when its hosts share it.

A site on PostgreSQL may run on several hosts, and a post's record must be seen by
whichever host an entry for it reaches, so the records are rows in the message
database (``model.delivery_records``).  A site on SQLite is one host: its records are
rows of a ledger of its own in ``[paths] data_dir``/outgoing (``delivery.ledger``),
which cost no write to the site's database and no file per post; record files an
earlier version left there (``delivery.progress``) are still read, and pruned.

Reads: ``[database]`` (which backend the message slice is on), ``[paths] data_dir``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from posthorn.delivery.ledger import LedgerRecords
from posthorn.delivery.progress import FileRecords
from posthorn.interfaces.delivery import IDeliveryRecords
from posthorn.model.delivery_records import DatabaseRecords
from posthorn.site_lock import SLICE, SiteLocks

if TYPE_CHECKING:
    from posthorn.site import Site

__all__ = ["delivery_records"]


def delivery_records(site: Site) -> IDeliveryRecords:
    locks = SiteLocks.from_site(site)
    directory = site.config.path("data_dir") / "outgoing"
    if locks.shared:
        files = FileRecords(directory)
        return DatabaseRecords(site.databases.session_factory(SLICE), locks, earlier=files)
    return LedgerRecords(directory)

"""Where a site's posts wait for their digest: the database when its hosts share it.

On PostgreSQL, a site may run on several hosts, the pipeline runner of any of them
appends and the digest runner of any of them sends, so the posts are rows of the
message database (``model.digest_posts``) and no folder needs sharing.  A site on
SQLite is one host: its posts are mbox files in ``[paths] data_dir``/digests
(``digests.mailbox``).

Reads: ``[database]`` (which backend the message slice is on), ``[paths] data_dir``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from posthorn.digests.mailbox import FileDigests
from posthorn.interfaces.digests import IDigestStore
from posthorn.model.digest_posts import DatabaseDigests
from posthorn.site_lock import SLICE, SiteLocks

if TYPE_CHECKING:
    from posthorn.site import Site

__all__ = ["digest_store", "digest_stores"]


def digest_store(site: Site) -> IDigestStore:
    """Where new posts go."""
    if SiteLocks.from_site(site).shared:
        return DatabaseDigests(site.databases.session_factory(SLICE))
    return FileDigests(site.config.path("data_dir"))


def digest_stores(site: Site) -> list[IDigestStore]:
    """Every store that may hold the site's posts, the one of new posts last.

    A site on PostgreSQL that kept mailboxes in ``data_dir`` before its posts moved to
    the database may still have posts there; they are sent first, so none is lost.
    """
    current = digest_store(site)
    if isinstance(current, FileDigests):
        return [current]
    return [FileDigests(site.config.path("data_dir")), current]

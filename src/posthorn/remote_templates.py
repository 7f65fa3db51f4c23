"""Notice texts a front end keeps: fetched from the template URIs of a list, domain or site.

Postorius stores the templates its users edit and gives the core their URIs under
Mailman's names (``rest/uris.py``).  When Posthorn writes a notice that has a Mailman
name (``MAILMAN_NAMES``), it looks for a URI on the list, then the list's domain, then
the site, and uses the text found there as the notice's body (Mailman's templates carry
no subject; the subject stays the shipped template's).  ``http``, ``https`` and
``file`` URIs are fetched, with HTTP basic authentication when a username and password
are stored; a fetched text is kept for ``CACHE_SECONDS`` in each process.  A URI that
cannot be fetched is logged and the shipped text is used: a notice is never lost to a
front end being down.
"""

from __future__ import annotations

import base64
import logging
import time
import urllib.request
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Self

from posthorn.interfaces.template_uris import ITemplateUri, ITemplateUris
from posthorn.model.template_uris import DatabaseTemplateUris

if TYPE_CHECKING:
    from posthorn.database.changes import StampedCache
    from posthorn.interfaces.lists import IMailingList
    from posthorn.site import Site

__all__ = ["MAILMAN_NAMES", "RemoteTemplates", "fetch_uri"]

log = logging.getLogger("posthorn.templates")

# Posthorn's notice templates that have a Mailman name a front end may point elsewhere.
MAILMAN_NAMES = {
    "welcome": "list:user:notice:welcome",
    "goodbye": "list:user:notice:goodbye",
    "confirm-subscribe": "list:user:action:subscribe",
    "confirm-unsubscribe": "list:user:action:unsubscribe",
    "held-poster": "list:user:notice:hold",
    "held": "list:admin:action:post",
    "moderator-request": "list:admin:action:subscribe",
    "request-refused": "list:user:notice:refuse",
    "admin-subscribed": "list:admin:notice:subscribe",
    "admin-unsubscribed": "list:admin:notice:unsubscribe",
}
CACHE_SECONDS = 60.0
TIMEOUT_SECONDS = 10.0
MAX_BYTES = 1 << 20

Fetch = Callable[[ITemplateUri], str]
_cache: dict[tuple[str, str | None], tuple[float, str]] = {}


def fetch_uri(uri: ITemplateUri) -> str:
    """The text at the URI (OSError or ValueError when it cannot be had)."""
    scheme = uri.uri.partition(":")[0].lower()
    if scheme not in ("http", "https", "file"):
        raise ValueError(f"cannot fetch a {scheme!r} URI")
    request = urllib.request.Request(uri.uri)
    if uri.username is not None and uri.password is not None:
        token = base64.b64encode(f"{uri.username}:{uri.password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        data: bytes = response.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValueError(f"the template is larger than {MAX_BYTES} bytes")
    return data.decode("utf-8")


class RemoteTemplates:
    def __init__(
        self,
        uris: ITemplateUris,
        fetch: Fetch = fetch_uri,
        clock: Callable[[], float] = time.monotonic,
        cache: StampedCache | None = None,
    ) -> None:
        self.uris = uris
        self._fetch = fetch
        self._clock = clock
        self._cache = cache

    @classmethod
    def from_site(cls, site: Site) -> Self:
        return cls(DatabaseTemplateUris.from_site(site), cache=site.cache)

    def body(self, name: str, mlist: IMailingList | None) -> str | None:
        """The front end's text for notice ``name``, or None to use the shipped one."""
        mailman_name = MAILMAN_NAMES.get(name)
        if mailman_name is None:
            return None
        return self.texts([mailman_name], mlist).get(mailman_name)

    def texts(self, names: Sequence[str], mlist: IMailingList | None) -> dict[str, str]:
        """The front end's texts for these Mailman names, where it has them (one query)."""
        contexts = [mlist.list_id, mlist.mail_host, None] if mlist is not None else [None]
        found: dict[str, str] = {}
        key = ("template_uris", tuple(names), tuple(contexts))
        uris = (
            self.uris.lookup(names, contexts)
            if self._cache is None
            else self._cache.get(key, lambda: self.uris.lookup(names, contexts))
        )
        for name, uri in uris.items():
            text = self._text(uri)
            if text is not None:
                found[name] = text
        return found

    def _text(self, uri: ITemplateUri) -> str | None:
        key = (uri.uri, uri.username)
        cached = _cache.get(key)
        now = self._clock()
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        try:
            text = self._fetch(uri)
        except (OSError, ValueError) as error:
            log.warning("cannot fetch template %s from %s: %s", uri.name, uri.uri, error)
            return None
        _cache[key] = (now, text)
        return text

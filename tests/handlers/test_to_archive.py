"""to-archive: a copy for the archive runner only when some archiver will read it."""

from __future__ import annotations

from email import message_from_string

from posthorn.handlers.to_archive import ToArchive
from posthorn.interfaces.handlers import HandlerContext
from posthorn.interfaces.lists import IMailingList
from posthorn.site import Site
from tests.conftest import ConfigFactory, SiteFactory
from tests.handlers.conftest import Queued

POST = "From: anne@example.net\nTo: dev@example.org\nSubject: news\n\nWords.\n"


def archived(queued: Queued) -> int:
    return sum(1 for queue, _, _ in queued if queue == "archive")


def archiving_site(make_config: ConfigFactory, make_site: SiteFactory) -> Site:
    return make_site(make_config(**{"archiver.prototype": {"enable": "yes"}}))


def context(site: Site, queued: Queued) -> HandlerContext:
    return HandlerContext(site, lambda queue, msg, data: queued.append((queue, msg, data)) or "")


def test_no_archiver_enabled_means_no_archive_entry(
    ctx: HandlerContext, mlist: IMailingList, queued: Queued
) -> None:
    ToArchive(ctx).process(mlist, message_from_string(POST), {})
    assert archived(queued) == 0


def test_an_enabled_archiver_gets_a_copy_unless_the_list_or_poster_says_no(
    make_config: ConfigFactory, make_site: SiteFactory, queued: Queued
) -> None:
    site = archiving_site(make_config, make_site)
    mlist = site.lists.create("dev@example.org")
    handler = ToArchive(context(site, queued))
    handler.process(mlist, message_from_string(POST), {})
    assert archived(queued) == 1
    handler.process(mlist, message_from_string("X-No-Archive: yes\n" + POST), {})
    assert archived(queued) == 1
    switched_off = site.lists.update(mlist, disabled_archivers=("prototype",))
    handler.process(switched_off, message_from_string(POST), {})
    never = site.lists.update(mlist, disabled_archivers=(), archive_policy="never")
    handler.process(never, message_from_string(POST), {})
    assert archived(queued) == 1

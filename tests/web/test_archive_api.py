"""The hyperkitty archiver against HyperKitty's own archive API, beside a running Posthorn.

The archiver is built in the test process on the stack's site configuration (the
same ``[archiver.hyperkitty]`` the master's archive runner uses) and posts to the real
HyperKitty, which asks Posthorn's REST API about the list.  HyperKitty's read API and
pages then show what it stored, at the URLs the archiver computed.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from mailmanclient import Client

from posthorn.archivers.hyperkitty import HyperKittyArchiver, HyperKittyRefused
from posthorn.interfaces.lists import IMailingList
from posthorn.interfaces.messages import message_id_hash
from posthorn.site import Site
from tests.sites import open_site
from tests.web.conftest import Stack

# The first test also builds the web peer venv (pip, up to INSTALL_TIMEOUT).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
LIST = "archive@example.org"


@pytest.fixture(scope="module")
def site(stack: Stack) -> Iterator[Site]:
    client = Client(f"{stack.rest.url}/3.1", stack.rest.user, stack.rest.password)
    client.create_domain("example.org").create_list("archive")
    with open_site(stack.site_file) as site:
        yield site


@pytest.fixture(scope="module")
def mlist(site: Site) -> IMailingList:
    found = site.lists.get(LIST)
    assert found is not None
    return found


def post(n: int, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Zoë Poster <poster@example.net>"
    msg["To"] = LIST
    msg["Subject"] = subject
    msg["Message-ID"] = f"<api-{n}@example.net>"
    msg.set_content(body)
    return msg


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def test_a_message_is_archived_once_and_opens_at_its_permalink(
    stack: Stack, site: Site, mlist: IMailingList
) -> None:
    archiver = HyperKittyArchiver(site, "hyperkitty")
    msg = post(1, "Ünïcode in the subject", "Grüße from the archive API.\n")
    permalink = archiver.permalink(mlist, msg)
    assert permalink == (
        f"{stack.url}/hyperkitty/list/{LIST}/message/{message_id_hash('<api-1@example.net>')}/"
    )
    assert archiver.archive_message(mlist, msg) == permalink
    # A retry after a lost answer: HyperKitty keeps the one copy it has.
    assert archiver.archive_message(mlist, msg) == permalink
    status, page = get(permalink)
    assert status == 200 and "Grüße from the archive API." in page.decode()
    status, listing = get(f"{stack.url}/hyperkitty/api/list/{LIST}/emails/")
    emails = json.loads(listing)
    emails = emails.get("results", emails) if isinstance(emails, dict) else emails
    assert status == 200
    assert [e["subject"] for e in emails] == ["Ünïcode in the subject"]
    status, _ = get(str(archiver.list_url(mlist)))
    assert status == 200


def test_a_reply_joins_the_thread_of_its_parent(
    stack: Stack, site: Site, mlist: IMailingList
) -> None:
    archiver = HyperKittyArchiver(site, "hyperkitty")
    parent = post(2, "A thread", "The start.\n")
    reply = post(3, "Re: A thread", "The answer.\n")
    reply["In-Reply-To"] = parent["Message-ID"]
    archiver.archive_message(mlist, parent)
    archiver.archive_message(mlist, reply)
    thread = message_id_hash("<api-2@example.net>")
    status, page = get(f"{stack.url}/hyperkitty/list/{LIST}/thread/{thread}/")
    assert status == 200 and "The answer." in page.decode()


def test_a_wrong_key_is_refused_and_nothing_is_stored(
    stack: Stack, site: Site, mlist: IMailingList, monkeypatch: pytest.MonkeyPatch
) -> None:
    archiver = HyperKittyArchiver(site, "hyperkitty")
    real = archiver.section.get_str
    monkeypatch.setattr(
        archiver.section, "get_str", lambda key: "not-the-key" if key == "api_key" else real(key)
    )
    msg = post(4, "Refused", "Never stored.\n")
    with pytest.raises(HyperKittyRefused, match="HTTP 401"):
        archiver.archive_message(mlist, msg)
    status, _ = get(str(archiver.permalink(mlist, msg)))
    assert status == 404

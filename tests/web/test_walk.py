"""Every Postorius page a list owner and a site administrator can reach loads against Posthorn.

The module arranges, through mailmanclient as Postorius itself talks to Posthorn, a
domain, a list with an owner, a moderator, members, a held post and an archived one
(both over LMTP) and a pending subscription, then walks each page as the site
administrator (a Django superuser) and the list's pages as its owner (an ordinary web
account, whose rights come from Posthorn's roster): HTTP 200 and no "Something went
wrong".  Every settings tab, the member options, the user preference forms and the
domain are also saved as they stand, which fails when a value Posthorn hands out does
not come back as Posthorn accepts it.
"""

from __future__ import annotations

import os
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from mailmanclient import Client
from playwright.sync_api import Browser, Page

from posthorn.interfaces.messages import message_id_hash
from tests.waiting import wait_for
from tests.web.conftest import Stack, logged_in
from tests.web.pages import form_of, open_page, set_field, submit
from tests.web.server import ADMIN, PERSON

# The first test also builds the web peer venv (pip, up to INSTALL_TIMEOUT).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
DOMAIN, LIST, LIST_ID = "example.org", "walk@example.org", "walk.example.org"
MEMBER, WAITING = "member@example.net", "waiting@example.net"
ARCHIVED = "<walk-archived@example.net>"
H = f"/hyperkitty/list/{LIST}"
POSTS = f"/hyperkitty/users/{{member_user_id}}/posts?list={LIST}"
TABS = (
    "list_identity", "automatic_responses", "alter_messages", "dmarc_mitigations", "digest",
    "message_acceptance", "archiving", "subscription_policy", "bounce_processing",
    "newsgroup_gateway",
)  # fmt: skip
L = f"/postorius/lists/{LIST_ID}"
D = f"/postorius/domains/{DOMAIN}"
ADMIN_PAGES = [
    "/postorius/domains/", "/postorius/domains/new/", f"{D}/", f"{D}/owners",
    f"{D}/templates", f"{D}/templates/new", f"{D}/delete", "/postorius/system/",
    "/postorius/bans/", "/postorius/users", "/postorius/users/{user_id}/manage",
    "/postorius/lists/new/", "/postorius/users/{user_id}/delete",
    f"{D}/templates/{{domain_template}}/update", f"{D}/templates/{{domain_template}}/delete",
    "/hyperkitty/users/",
]  # fmt: skip
# A list owner's, which the site administrator reaches too.
OWNER_PAGES = [
    "/postorius/lists/",
    f"{L}/", f"{L}/members/member/", f"{L}/members/owner/", f"{L}/members/moderator/",
    f"{L}/members/nonmember/", f"{L}/members/options/{MEMBER}", f"{L}/mass_subscribe/",
    f"{L}/mass_removal/", f"{L}/subscription_requests", f"{L}/unsubscription_requests",
    f"{L}/pending_confirmation", f"{L}/held_messages", f"{L}/bans/", f"{L}/header-matches/",
    f"{L}/templates", f"{L}/templates/new", f"{L}/templates/{{list_template}}/update",
    f"{L}/templates/{{list_template}}/delete", f"{L}/remove/moderator/moderator@example.org",
    f"{L}/delete", f"{L}/unsubscribe_all",
    *(f"{L}/settings/{tab}" for tab in TABS),
    # Every user's own.
    "/postorius/accounts/subscriptions/", "/postorius/accounts/per-address-preferences/",
    "/postorius/accounts/per-subscription-preferences/", "/postorius/accounts/mailmansettings/",
    "/user-profile/", "/accounts/email/", "/hyperkitty/profile/",
    "/hyperkitty/profile/subscriptions",
    # HyperKitty's, for the same list.
    "/hyperkitty/", f"{H}/", f"{H}/message/{message_id_hash(ARCHIVED)}/",
    f"{H}/thread/{message_id_hash(ARCHIVED)}/", f"{H}/latest",
    time.strftime(f"{H}/%Y/%m/", time.gmtime()), f"/hyperkitty/search?q=walk&mlist={LIST}",
    "/hyperkitty/users/{member_user_id}/", POSTS,
]  # fmt: skip
# The administrator is also a member of the list.
PAGES = [*ADMIN_PAGES, *OWNER_PAGES, "/postorius/accounts/list-options/{member_id}/"]
# With POSTHORN_SCREENSHOTS=DIR set, these pages are also saved there as NAME.png
# (docs/screenshots holds the set shown in docs/postorius-hyperkitty.md).
SHOTS = {
    "/postorius/lists/": "postorius-lists",
    f"{L}/": "postorius-list-summary",
    f"{L}/members/member/": "postorius-members",
    f"{L}/settings/message_acceptance": "postorius-settings",
    f"{L}/held_messages": "postorius-held-messages",
    "/postorius/system/": "postorius-system",
    "/postorius/domains/": "postorius-domains",
    f"{H}/": "hyperkitty-list",
    f"{H}/thread/{message_id_hash(ARCHIVED)}/": "hyperkitty-thread",
}
# Forms saved as they stand: the page, and a field that names the form.
SAVED = [
    *((f"{L}/settings/{tab}", None) for tab in TABS),
    (f"{L}/members/options/{MEMBER}", "delivery_status"),
    ("/postorius/accounts/mailmansettings/", "delivery_status"),
    ("/postorius/accounts/list-options/{member_id}/", "delivery_status"),
    ("/postorius/accounts/per-address-preferences/", "form-0-delivery_status"),
    ("/postorius/accounts/per-subscription-preferences/", "form-0-delivery_status"),
    (f"{D}/", "description"),
]  # fmt: skip


@dataclass
class Arranged:
    user_id: str  # the administrator's, in Posthorn
    member_id: str  # the administrator's membership
    member_user_id: str  # the user of MEMBER, who posted to the archive
    list_template: str  # Postorius's keys of a list's and a domain's template
    domain_template: str


@pytest.fixture(scope="module")
def owner_page(browser: Browser, stack: Stack) -> Iterator[Page]:
    """A page logged in as the list's owner, who has no rights on the web site itself."""
    page = logged_in(browser, stack, PERSON[0], PERSON[2])
    yield page
    page.context.close()


@pytest.fixture(scope="module")
def arranged(stack: Stack, page: Page) -> Arranged:
    """The list and its people; ``page`` first, so that logging in made the admin's user."""
    client = Client(f"{stack.rest.url}/3.1", stack.rest.user, stack.rest.password)
    domain = client.create_domain(DOMAIN)
    mlist = domain.create_list("walk")
    mlist.add_owner(PERSON[1])
    mlist.add_moderator("moderator@example.org")
    for address in (MEMBER, ADMIN[1]):
        mlist.subscribe(address, pre_verified=True, pre_confirmed=True, pre_approved=True)
    settings = mlist.settings
    settings["subscription_policy"] = "moderate"
    settings.save()
    mlist.subscribe(WAITING, pre_verified=True, pre_confirmed=True)
    deliver(stack, "stranger@example.net", "<walk-held@example.net>")
    deliver(stack, MEMBER, ARCHIVED)
    wait_for(lambda: mlist.held, "the held post")
    # HyperKitty knows a list from the first post archived to it.
    wait_for(lambda: _answers(f"{stack.url}{H}/"), "the list in HyperKitty")
    user = client.get_user(ADMIN[1])
    [member] = [m for m in mlist.members if m.email == ADMIN[1]]
    return Arranged(
        user_id=str(user.user_id),
        member_id=str(member.member_id),
        member_user_id=str(client.get_user(MEMBER).user_id),
        list_template=make_template(page, stack, L),
        domain_template=make_template(page, stack, D),
    )


def make_template(page: Page, stack: Stack, where: str) -> str:
    """A footer template made on the page, as an owner makes one; its key in Postorius."""
    open_page(page, f"{stack.url}{where}/templates/new")
    set_field(page, "name", "list:member:regular:footer")
    set_field(page, "data", "A footer for the walk")
    submit(page, form_of(page, "data"))
    edit = page.locator("a[href*='/templates/'][href$='/update']").first.get_attribute("href")
    assert edit is not None
    return edit.rstrip("/").split("/")[-2]


def deliver(stack: Stack, sender: str, message_id: str) -> None:
    post = EmailMessage()
    post["From"], post["To"], post["Subject"] = sender, LIST, f"Walk post {message_id}"
    post["Message-ID"] = message_id
    post.set_content("A post for the walk.\n")
    with smtplib.LMTP("127.0.0.1", stack.lmtp_port, timeout=10) as lmtp:
        lmtp.send_message(post, to_addrs=[LIST])


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=10).close()
    except urllib.error.HTTPError as error:
        error.close()
        return False
    return True


def url(stack: Stack, arranged: Arranged, path: str) -> str:
    return stack.url + path.format(**vars(arranged))


@pytest.mark.parametrize("path", PAGES)
def test_the_page_loads(page: Page, stack: Stack, arranged: Arranged, path: str) -> None:
    open_page(page, url(stack, arranged, path))
    folder = os.environ.get("POSTHORN_SCREENSHOTS")
    if folder and path in SHOTS:
        page.wait_for_load_state("networkidle")
        page.screenshot(path=Path(folder) / f"{SHOTS[path]}.png")


@pytest.mark.parametrize("path", OWNER_PAGES)
def test_the_list_owner_reaches_the_page(
    owner_page: Page, stack: Stack, arranged: Arranged, path: str
) -> None:
    open_page(owner_page, url(stack, arranged, path))


def test_the_list_owner_saves_a_settings_tab(
    owner_page: Page, stack: Stack, arranged: Arranged
) -> None:
    open_page(owner_page, f"{stack.url}{L}/settings/list_identity")
    alerts = submit(owner_page, owner_page.locator("form.list_settings"))
    assert "The settings have been updated." in alerts


def test_hyperkitty_finds_the_posters_user_in_posthorn(
    page: Page, stack: Stack, arranged: Arranged
) -> None:
    """HyperKitty asks Posthorn for the user of each sender's address, and lists posts by it."""
    open_page(page, url(stack, arranged, POSTS))
    page.get_by_text(f"Walk post {ARCHIVED}").first.wait_for()


def test_the_members_download_as_csv(page: Page, stack: Stack, arranged: Arranged) -> None:
    response = page.request.get(f"{stack.url}{L}/csv_view/")
    assert response.status == 200 and MEMBER in response.text()


@pytest.mark.parametrize(("path", "field"), SAVED)
def test_the_form_saves_as_it_stands(
    page: Page, stack: Stack, arranged: Arranged, path: str, field: str | None
) -> None:
    open_page(page, url(stack, arranged, path))
    form = form_of(page, field) if field else page.locator("form.list_settings")
    alerts = submit(page, form)
    assert not [a for a in alerts if "error" in a.lower()], alerts
    saved = ("updated", "success", "did not change")
    assert [a for a in alerts if any(word in a.lower() for word in saved)], alerts


@pytest.mark.parametrize("style", ["legacy-announce", "private-default"])
def test_a_list_of_each_style_shows_and_saves(
    page: Page, stack: Stack, arranged: Arranged, style: str
) -> None:
    """Lists made in the other styles Postorius offers carry other values; they save too."""
    name = style.replace("-", "")
    client = Client(f"{stack.rest.url}/3.1", stack.rest.user, stack.rest.password)
    client.get_domain(DOMAIN).create_list(name, style_name=style)
    base = f"{stack.url}/postorius/lists/{name}.{DOMAIN}"
    open_page(page, f"{base}/")
    open_page(page, f"{base}/members/member/")
    for tab in TABS:
        open_page(page, f"{base}/settings/{tab}")
        alerts = submit(page, page.locator("form.list_settings"))
        assert "The settings have been updated." in alerts, (tab, alerts)

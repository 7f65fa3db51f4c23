"""A list owner's day in Postorius and HyperKitty against Posthorn, clicked in chromium.

Log in, create a domain and a list, change one setting on every settings tab and read
it back from Posthorn (the newsgroup tab shows why Posthorn refuses a newsgroup), add
and remove a ban and a header filter, subscribe an address, moderate a post held after
arriving over LMTP, and open the accepted post in HyperKitty through the
``Archived-At`` link of the copy the member got.  The tests run in file order on one
list; each later one needs what the earlier ones made.
"""

from __future__ import annotations

import smtplib
import urllib.parse
from email.message import EmailMessage

import pytest
from playwright.sync_api import Page

from tests.waiting import wait_for
from tests.web.conftest import Stack
from tests.web.pages import form_of, needs_resource, open_page, rest, set_field, submit

# The first test also builds the web peer venv (pip, up to INSTALL_TIMEOUT).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
LIST, LIST_ID = "dev@example.org", "dev.example.org"
MEMBER = "member@example.net"
FOOTER = "list:member:regular:footer"
# Per settings tab: a field, the value given on the page, and what Posthorn then holds.
CHANGES = {
    "list_identity": ("description", "Changed on the web", "Changed on the web"),
    "automatic_responses": ("autorespond_postings", "respond_and_continue",
                            "respond_and_continue"),
    "alter_messages": ("reply_goes_to_list", "point_to_list", "point_to_list"),
    "dmarc_mitigations": ("dmarc_mitigate_action", "munge_from", "munge_from"),
    "digest": ("digest_volume_frequency", "weekly", "weekly"),
    "message_acceptance": ("max_message_size", "123", 123),
    "archiving": ("archive_policy", "private", "private"),
    "subscription_policy": ("subscription_policy", "moderate", "moderate"),
    "bounce_processing": ("bounce_score_threshold", "7", 7),
}  # fmt: skip


def lists_url(stack: Stack, path: str = "") -> str:
    return f"{stack.url}/postorius/lists/{LIST_ID}/{path}"


def test_a_domain_and_a_list_are_created(page: Page, stack: Stack) -> None:
    open_page(page, f"{stack.url}/postorius/domains/new/")
    set_field(page, "mail_host", "example.org")
    assert "New Domain registered" in submit(page, form_of(page, "mail_host"))
    open_page(page, f"{stack.url}/postorius/lists/new/")
    set_field(page, "listname", "dev")
    set_field(page, "mail_host", "example.org")
    set_field(page, "list_owner", "owner@example.org")
    set_field(page, "description", "Development")
    assert "List created" in submit(page, form_of(page, "listname"))
    assert rest(stack.rest, f"lists/{LIST_ID}")["fqdn_listname"] == LIST


@pytest.mark.parametrize("tab", sorted(CHANGES))
def test_each_settings_tab_saves_into_posthorn(page: Page, stack: Stack, tab: str) -> None:
    if tab == "alter_messages":
        needs_resource(stack.rest, "system/pipelines")
    field, value, stored = CHANGES[tab]
    open_page(page, lists_url(stack, f"settings/{tab}"))
    set_field(page, field, value)
    assert "The settings have been updated." in submit(page, form_of(page, field))
    assert rest(stack.rest, f"lists/{LIST_ID}/config")[field] == stored
    # And the page shows what Posthorn now holds.
    open_page(page, lists_url(stack, f"settings/{tab}"))
    shown = page.locator(f"[name='{field}']:checked, select[name='{field}'] option:checked")
    if shown.count():
        assert shown.first.get_attribute("value") == value
    else:
        assert page.locator(f"[name='{field}']").first.input_value() == value


def test_the_newsgroup_tab_stores_the_newsgroup(page: Page, stack: Stack) -> None:
    """The news gateway's group is set from its tab like any other setting."""
    open_page(page, lists_url(stack, "settings/newsgroup_gateway"))
    set_field(page, "linked_newsgroup", "comp.lang.posthorn")
    submit(page, form_of(page, "linked_newsgroup"))
    assert rest(stack.rest, f"lists/{LIST_ID}/config")["linked_newsgroup"] == "comp.lang.posthorn"


def test_a_ban_is_added_and_removed(page: Page, stack: Stack) -> None:
    needs_resource(stack.rest, f"lists/{LIST_ID}/bans")
    open_page(page, lists_url(stack, "bans/"))
    set_field(page, "email", "spammer@example.com")
    submit(page, page.locator("form.bans-add-form"))
    assert [b["email"] for b in rest(stack.rest, f"lists/{LIST_ID}/bans")["entries"]] == [
        "spammer@example.com"
    ]
    row = page.locator("form", has=page.locator("input[name=email][value='spammer@example.com']"))
    with page.expect_navigation():
        row.locator("button[name=del]").click()
    assert rest(stack.rest, f"lists/{LIST_ID}/bans").get("entries", []) == []


def test_a_header_filter_is_added_and_removed(page: Page, stack: Stack) -> None:
    needs_resource(stack.rest, f"lists/{LIST_ID}/header-matches")
    open_page(page, lists_url(stack, "header-matches/"))
    set_field(page, "form-0-header", "X-Spam-Flag")
    set_field(page, "form-0-pattern", "^yes")
    set_field(page, "form-0-action", "discard")
    submit(page, page.locator("form.header-matches"))
    [match] = rest(stack.rest, f"lists/{LIST_ID}/header-matches")["entries"]
    assert (match["header"], match["pattern"], match["action"]) == (
        "x-spam-flag", "^yes", "discard",
    )  # fmt: skip
    set_field(page, "form-0-DELETE", True)
    submit(page, page.locator("form.header-matches"))
    assert rest(stack.rest, f"lists/{LIST_ID}/header-matches").get("entries", []) == []


def test_an_address_is_subscribed(page: Page, stack: Stack) -> None:
    open_page(page, lists_url(stack, "mass_subscribe/"))
    set_field(page, "emails", MEMBER)
    for option in ("pre_verified", "pre_confirmed", "pre_approved"):
        set_field(page, option, True)
    submit(page, form_of(page, "emails"))
    members = rest(stack.rest, f"lists/{LIST_ID}/roster/member")["entries"]
    assert [m["email"] for m in members] == [MEMBER]
    open_page(page, lists_url(stack, "members/member/"))
    assert page.locator(f"text={MEMBER}").count()


def test_a_moderator_is_added_and_removed(page: Page, stack: Stack) -> None:
    open_page(page, lists_url(stack, "members/moderator/"))
    set_field(page, "email", "helper@example.org")
    submit(page, form_of(page, "email"))
    roster = rest(stack.rest, f"lists/{LIST_ID}/roster/moderator")["entries"]
    assert [m["email"] for m in roster] == ["helper@example.org"]
    open_page(page, lists_url(stack, "remove/moderator/helper@example.org"))
    submit(page, page.locator("form[method=post]", has_text="Cancel"))
    assert rest(stack.rest, f"lists/{LIST_ID}/roster/moderator").get("entries", []) == []


def test_a_held_post_is_accepted_delivered_and_opens_in_hyperkitty(
    page: Page, stack: Stack
) -> None:
    msg = EmailMessage()
    msg["From"] = "stranger@example.net"
    msg["To"] = LIST
    msg["Subject"] = "Held until a moderator says so"
    msg["Message-ID"] = "<held-1@example.net>"
    msg.set_content("A post from someone who is not a member.\n")
    with smtplib.LMTP("127.0.0.1", stack.lmtp_port, timeout=10) as lmtp:
        lmtp.send_message(msg, to_addrs=[LIST])
    wait_for(lambda: rest(stack.rest, f"lists/{LIST_ID}/held").get("entries"), "the held post")
    open_page(page, lists_url(stack, "held_messages"))
    row = page.locator("tr", has=page.locator("text=Held until a moderator says so"))
    row.locator("input[name=choices]").check()
    alerts = submit(page, page.locator("form", has=page.locator("input[name=accept]")).first)
    assert any("accepted" in alert.lower() for alert in alerts), alerts
    copy = stack.sink.wait(MEMBER, "Held until a moderator says so")
    link = str(copy["Archived-At"]).strip().strip("<>")
    assert link.startswith(f"{stack.url}/hyperkitty/list/{LIST}/message/")
    # The archive runner posts the message to HyperKitty; the link then opens it.
    wait_for(lambda: _opens(page, link), f"{link} in HyperKitty")
    assert "A post from someone who is not a member." in page.inner_text("body")
    list_page = urllib.parse.urljoin(link, "../..")
    open_page(page, list_page)
    # The list's threads arrive by a script's request after the page loads.
    page.get_by_text("Held until a moderator says so").first.wait_for()


def test_a_footer_edited_in_postorius_reaches_the_members(page: Page, stack: Stack) -> None:
    """Postorius keeps the text and gives Posthorn its URL; Posthorn fetches it."""
    open_page(page, lists_url(stack, "templates/new"))
    set_field(page, "name", FOOTER)
    set_field(page, "data", "Footer from the web for $display_name")
    submit(page, form_of(page, "data"))
    uris = list_uris(stack)
    assert uris[FOOTER].startswith(f"{stack.url}/postorius/api/templates/list/{LIST_ID}/")
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = MEMBER, LIST, "A member writes"
    msg.set_content("Members may post.\n")
    with smtplib.LMTP("127.0.0.1", stack.lmtp_port, timeout=10) as lmtp:
        lmtp.send_message(msg, to_addrs=[LIST])
    copy = stack.sink.wait(MEMBER, "A member writes")
    assert "Footer from the web for Dev" in str(copy.get_payload(decode=True), "utf-8")
    open_page(page, lists_url(stack, "templates"))
    # The template's own Delete button, not the list's Delete tab.
    with page.expect_navigation():
        page.locator("a[href*='/templates/'][href$='/delete']").click()
    submit(page, page.locator("form[method=post]", has_text="Cancel"))
    assert FOOTER not in list_uris(stack)


def list_uris(stack: Stack) -> dict[str, str]:
    entries = rest(stack.rest, f"lists/{LIST_ID}/uris").get("entries", [])
    return {entry["name"]: entry["uri"] for entry in entries}


def _opens(page: Page, url: str) -> bool:
    response = page.goto(url)
    return bool(response and response.status == 200)

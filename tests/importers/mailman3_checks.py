"""What an import of the filled Mailman site must have brought, field by field.

Each check compares the Posthorn site with what Mailman's own REST API said before it
stopped (``MailmanSnapshot``); the SQLite and the PostgreSQL tests share them.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from click.testing import Result
from sqlalchemy import select

from posthorn.model.bans import DatabaseBanManager
from posthorn.model.domains import DomainOwnerRow
from posthorn.model.header_matches import DatabaseHeaderMatches
from posthorn.model.settings import ListSettings
from posthorn.model.template_uris import DatabaseTemplateUris
from posthorn.site import Site
from posthorn.templates import load_template
from tests.importers.mailman3_peer import LIST, MailmanSnapshot

Invoke = Callable[..., Result]
# Settings Mailman's REST API shows that are not stored the same way in Posthorn.
NOT_COMPARED = frozenset({"footer_text", "header_text", "moderator_password"})


def check_everything(site: Site, snapshot: MailmanSnapshot) -> None:
    check_settings(site, snapshot)
    check_people(site, snapshot)
    check_members(site, snapshot)
    check_requests(site, snapshot)


def imported(invoke: Invoke, snapshot: MailmanSnapshot, *options: str) -> Result:
    result = invoke(
        "import", "mailman3", "--database", snapshot.database_url,
        "--var", str(snapshot.var_dir), *options,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result


def summary(result: Result) -> dict[str, list[int]]:
    rows = [line.split() for line in result.output.splitlines()]
    found: dict[str, list[int]] = {}
    for row in rows:
        if len(row) >= 4 and all(cell.isdigit() for cell in row[-3:]):
            found[" ".join(row[:-3])] = [int(cell) for cell in row[-3:]]
    return found


def check_settings(site: Site, snapshot: MailmanSnapshot) -> None:
    mlist = site.lists.require(LIST)
    names = {field for field in ListSettings.__dataclass_fields__} - NOT_COMPARED
    compared = 0
    for name, value in snapshot.config.items():
        if name in names:
            expected = tuple(value) if isinstance(value, list) else value
            assert getattr(mlist, name) == expected, name
            compared += 1
    assert compared > 60
    for name in ("volume", "next_digest_number", "post_id"):
        assert getattr(mlist, name) == snapshot.config[name], name
    assert mlist.created_at.isoformat()[:19] == snapshot.config["created_at"][:19]
    # Mailman keeps a per-list switch for every archiver; prototype was switched off.
    assert "prototype" in mlist.disabled_archivers
    assert mlist.footer_text == (
        "-- \n$display_name at $fqdn_listname\nLeave: ${list_name}-leave@${mail_host}\n"
    )


def check_people(site: Site, snapshot: MailmanSnapshot) -> None:
    for user in snapshot.users:
        found = site.users.get_user(user["user_id"] if isinstance(user["user_id"], str)
                                    else f"{int(user['user_id']):032x}")  # fmt: skip
        assert found is not None, user
        # Mailman's REST API leaves an empty display name out.
        assert (found.display_name or None) == user.get("display_name"), user
        assert found.password == user.get("password")
    for address in snapshot.addresses:
        found_address = site.users.get_address(address["email"])
        assert found_address is not None
        verified = address.get("verified_on")
        assert (found_address.verified_on.isoformat()[:19] if found_address.verified_on
                else None) == (verified[:19] if verified else None)  # fmt: skip
    with site.databases.session_factory("list")() as session:
        owners = list(session.scalars(select(DomainOwnerRow.email)))
    assert owners == ["owner@example.org"]
    anne = site.users.get_user_by_address("anne@example.org")
    assert anne is not None and anne.password is not None and anne.password.startswith("$6$")
    assert site.users.check_password(anne.user_id, "anne-secret") is True
    after = site.users.get_user(anne.user_id)
    assert after is not None and after.password is not None
    assert after.password.startswith("$argon2")


def check_members(site: Site, snapshot: MailmanSnapshot) -> None:
    assert len(snapshot.members) == 6  # 3 members, an owner, a moderator, a non-member
    for member in snapshot.members:
        found = site.lists.get_member(member["member_id"])
        assert found is not None, member
        assert (found.email, found.role) == (member["email"], member["role"])
        assert found.moderation_action == member.get("moderation_action")
        assert found.delivery_mode == member["delivery_mode"]
        preferences = snapshot.preferences[f"{member['email']}/{member['role']}"]
        stored = site.lists.member_preferences(found.member_id)
        for name in ("delivery_status", "acknowledge_posts", "receive_own_postings"):
            if name in preferences:
                assert stored[name] == preferences[name], (member["email"], name)
    carl = site.lists.roster(LIST).get_member("carl@example.org")
    assert carl is not None and carl.delivery_status == "by_user"


def check_requests(site: Site, snapshot: MailmanSnapshot) -> None:
    held = site.messages.held_for_list("dev.example.org")
    assert [(h.message_id, h.sender, h.subject, h.reason) for h in held] == [
        (m["message_id"], m["sender"], m["subject"], m["reason"]) for m in snapshot.held
    ]
    assert b"Hello?" in held[0].raw
    (request,) = snapshot.requests
    pending = site.lists.get_pending(request["token"])
    assert pending is not None and pending.type == "subscription"
    assert (pending.data["email"], pending.data["token_owner"]) == (
        "dora@example.org",
        "moderator",
    )
    bans = DatabaseBanManager.from_site(site)
    assert [ban.email for ban in bans.bans("dev.example.org")] == snapshot.list_bans
    assert [ban.email for ban in bans.bans(None)] == snapshot.site_bans
    matches = DatabaseHeaderMatches.from_site(site).of("dev.example.org")
    assert [(m.header, m.pattern, m.chain) for m in matches] == [
        (m["header"], m["pattern"], m.get("action")) for m in snapshot.header_matches
    ]
    uris = {uri.name: uri.uri for uri in DatabaseTemplateUris.from_site(site).of("dev.example.org")}
    goodbye = uris.pop("list:user:notice:goodbye")
    assert uris == snapshot.uris
    # The goodbye file was copied into Posthorn's template_dir, and is Posthorn's notice.
    assert goodbye.startswith("file://")
    assert unquote(goodbye).endswith("/lists/dev.example.org/en/list:user:notice:goodbye.txt")
    notice = load_template(site.config, "goodbye", site.lists.require(LIST))
    assert notice.startswith("Subject: ") and notice.endswith("\n\nSo long from $display_name.\n")

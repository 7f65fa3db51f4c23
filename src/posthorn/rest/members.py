"""``members/`` and list rosters: subscribing, finding, changing and removing members.

A member's subscription runs the list's subscription workflow
(``posthorn.workflows``): it is immediate (201 with a Location) only when nothing is
left to check: the address is verified (or ``pre_verified``), the list's policy asks no
confirmation (or ``pre_confirmed``) and no approval (or ``pre_approved``).  Otherwise it
waits as a pending request and the answer is 202 with its token, owned by the
subscriber (who gets the confirmation request by mail) or the moderator (who gets a
notice); ``requests/`` settles it.  Owners, moderators and nonmembers are added at once.
"""

from __future__ import annotations

from typing import Any

import falcon

from posthorn.interfaces.lists import IMailingList, IMember
from posthorn.model.registration import address_with_user
from posthorn.rest.app import Api, RestApp, collection, fields_from_query, page_of, respond, tagged
from posthorn.rest.fields import (
    Body,
    Many,
    as_bool,
    as_email,
    as_optional_str,
    as_str,
    bad_request,
    one_of,
    read_fields,
)
from posthorn.rest.lists import require_list
from posthorn.rest.shapes import member_json
from posthorn.workflows import Outcome
from posthorn.workflows.subscription import SubscriptionWorkflow
from posthorn.workflows.unsubscription import UnsubscriptionWorkflow

__all__ = ["add_routes", "answer_subscription", "subscriber_emails"]
ROLES = ("owner", "moderator", "member", "nonmember")
MODES = ("regular", "plaintext_digests", "mime_digests", "summary_digests")
STATUSES = ("enabled", "by_user", "by_bounces", "by_moderator", "unknown")
ACTIONS = ("hold", "reject", "discard", "accept", "defer")

SUBSCRIBE = {
    "list_id": as_str,
    "subscriber": as_str,
    "display_name": as_optional_str,
    "role": one_of(*ROLES),
    "pre_verified": as_bool,
    "pre_confirmed": as_bool,
    "pre_approved": as_bool,
    "invitation": as_bool,
    "send_welcome_message": as_bool,
    "delivery_mode": one_of(*MODES),
    "delivery_status": one_of(*STATUSES),
}


def subscriber_emails(api: Api, subscriber: str) -> list[str]:
    """An email (validated) or a user id (its addresses, preferred first)."""
    if "@" in subscriber:
        try:
            return [as_email(subscriber)]
        except ValueError:
            raise bad_request('Invalid Parameter "subscriber"') from None
    user = api.site.users.get_user(subscriber)
    if user is None:
        return []
    emails = [a.email for a in user.addresses]
    if user.preferred_address is not None:
        emails.remove(user.preferred_address.email)
        emails.insert(0, user.preferred_address.email)
    return emails


def require_member(api: Api, member_id: str) -> IMember:
    member = api.site.lists.get_member(member_id)
    if member is None:
        raise falcon.HTTPNotFound(title="404 Not Found")
    return member


class Members:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        found = self.api.site.lists.find_members()
        page, offset = page_of(req, found)
        collection(resp, [member_json(self.api, req, m) for m in page], len(found), offset)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        args = read_fields(self.api.body(req), SUBSCRIBE, required=["list_id", "subscriber"])
        mlist = self.api.site.lists.get(args["list_id"])
        if mlist is None:
            raise bad_request("No such list")
        emails = subscriber_emails(self.api, args["subscriber"])
        if not emails:
            raise bad_request(f"No such user: {args['subscriber']}")
        role = args.get("role", "member")
        if role == "member":
            answer_subscription(self.api, req, resp, self._start(mlist, emails[0], args))
            return
        if self.api.site.lists.roster(mlist).get_member(emails[0], role) is not None:
            raise falcon.HTTPConflict(title="409 Conflict", description="Member already subscribed")
        member = self._subscribe(mlist, emails[0], role, args)
        resp.status = falcon.HTTP_201
        resp.location = self.api.link(req, "members", member.member_id)

    def _start(self, mlist: IMailingList, email: str, args: dict[str, Any]) -> Outcome:
        """A member's subscription goes through the list's subscription workflow."""
        outcome = SubscriptionWorkflow(self.api.site, mlist).start(
            email,
            display_name=args.get("display_name"),
            delivery_mode=args.get("delivery_mode", "regular"),
            pre_verified=args.get("pre_verified", False),
            pre_confirmed=args.get("pre_confirmed", False),
            pre_approved=args.get("pre_approved", False),
            send_welcome=args.get("send_welcome_message"),
        )
        status = args.get("delivery_status", "enabled")
        if outcome.member_id is not None and status != "enabled":
            self.api.site.lists.update_member(outcome.member_id, delivery_status=status)
        return outcome

    def _subscribe(
        self, mlist: IMailingList, email: str, role: str, args: dict[str, Any]
    ) -> IMember:
        site = self.api.site
        if args.get("pre_verified"):
            address_with_user(site.users, email, args.get("display_name"))
            site.users.verify_address(email)
        return site.lists.subscribe(
            mlist,
            email,
            role=role,  # type: ignore[arg-type]
            display_name=args.get("display_name"),
            delivery_mode=args.get("delivery_mode", "regular"),
            delivery_status=args.get("delivery_status", "enabled"),
        )


class FindMembers:
    def __init__(self, api: Api) -> None:
        self.api = api

    def _find(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        args: dict[str, Any],
        paged: dict[str, Any] | None = None,
    ) -> None:
        lists = self.api.site.lists
        emails: list[str | None] = [None]
        if "subscriber" in args:
            emails = list(subscriber_emails(self.api, args["subscriber"]))
        found = [
            member
            for email in emails
            for member in lists.find_members(
                list_id=args.get("list_id"), email=email, role=args.get("role")
            )
        ]
        page, offset = page_of(req, found, paged)
        collection(resp, [member_json(self.api, req, m) for m in page], len(found), offset)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        spec = {"list_id": as_str, "subscriber": as_str, "role": one_of(*ROLES)}
        self._find(req, resp, fields_from_query(req, spec))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.api.body(req)
        values = dict(body.values)
        paged: dict[str, Any] = {
            key: values.pop(key)[0] for key in ("count", "page") if key in values
        }
        spec = {"list_id": as_str, "subscriber": as_str, "role": one_of(*ROLES)}
        self._find(req, resp, read_fields(Body(values, body.is_json), spec), paged or None)


def answer_subscription(
    api: Api, req: falcon.Request, resp: falcon.Response, outcome: Outcome
) -> None:
    """201 for a member, 202 with the token for a pending request, else the refusal."""
    if outcome.status == "subscribed" and outcome.member_id is not None:
        resp.status = falcon.HTTP_201
        resp.location = api.link(req, "members", outcome.member_id)
    elif outcome.pending:
        resp.status = falcon.HTTP_202
        respond(resp, {"token": outcome.token, "token_owner": outcome.token_owner})
    elif outcome.status == "already-member":
        raise falcon.HTTPConflict(title="409 Conflict", description="Member already subscribed")
    elif outcome.status == "already-pending":
        description = "Subscription request already pending"
        raise falcon.HTTPConflict(title="409 Conflict", description=description)
    elif outcome.status == "banned":
        raise bad_request("Membership is banned")
    else:
        raise bad_request(outcome.message)


def unsubscribe(api: Api, req: falcon.Request, resp: falcon.Response, member: IMember) -> None:
    """Immediate, unless the policy asks and ``pre_confirmed``/``pre_approved`` is false."""
    spec = {"pre_confirmed": as_bool, "pre_approved": as_bool}
    args = read_fields(api.body(req), spec)
    mlist = require_list(api, member.list_id)
    if member.role != "member":
        api.site.lists.unsubscribe(mlist, member.email, member.role)
        resp.status = falcon.HTTP_204
        return
    outcome = UnsubscriptionWorkflow(api.site, mlist).start(
        member.email,
        pre_confirmed=args.get("pre_confirmed", True),
        pre_approved=args.get("pre_approved", True),
    )
    if outcome.pending:
        resp.status = falcon.HTTP_202
        respond(resp, {"token": outcome.token, "token_owner": outcome.token_owner})
    elif outcome.status == "already-pending":
        description = "Unsubscription request already pending"
        raise falcon.HTTPConflict(title="409 Conflict", description=description)
    elif outcome.status == "not-member":
        # Gone between the lookup and the workflow: another request removed it.
        raise falcon.HTTPNotFound(title="404 Not Found", description=outcome.message)
    else:
        resp.status = falcon.HTTP_204


class Member:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, member_id: str) -> None:
        respond(resp, member_json(self.api, req, require_member(self.api, member_id)))

    def on_patch(self, req: falcon.Request, resp: falcon.Response, member_id: str) -> None:
        spec = {
            "address": as_email,
            "delivery_mode": one_of(*MODES),
            "delivery_status": one_of(*STATUSES),
            "moderation_action": one_of(*ACTIONS, "default"),
            "display_name": as_optional_str,
        }
        args = read_fields(self.api.body(req), spec)
        member = require_member(self.api, member_id)
        lists = self.api.site.lists
        address = args.pop("address", None)
        if address is not None:
            lists.change_address(member.member_id, address)
        if args:
            lists.update_member(member.member_id, **args)
        resp.status = falcon.HTTP_204

    def on_delete(self, req: falcon.Request, resp: falcon.Response, member_id: str) -> None:
        unsubscribe(self.api, req, resp, require_member(self.api, member_id))


class Roster:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str, role: str) -> None:
        keep = fields_from_query(req, {"fields": Many(as_str)}).get("fields")
        if role not in ROLES:
            raise falcon.HTTPNotFound(title="404 Not Found")
        mlist = require_list(self.api, name)
        found = self.api.site.lists.find_members(list_id=mlist.list_id, role=role)  # type: ignore[arg-type]
        page, offset = page_of(req, found)
        entries = [member_json(self.api, req, m) for m in page]
        if keep:
            entries = [{k: v for k, v in e.items() if k in keep} for e in entries]
        collection(resp, entries, len(found), offset)

    def on_delete(self, req: falcon.Request, resp: falcon.Response, name: str, role: str) -> None:
        if role != "member":
            raise falcon.HTTPMethodNotAllowed(["GET"])
        mlist = require_list(self.api, name)
        args = read_fields(self.api.body(req), {"emails": Many(as_str)})
        result: dict[str, Any] = {}
        roster = self.api.site.lists.roster(mlist)
        for email in args.get("emails", []):
            gone = "@" in email and roster.get_member(email.lower()) is not None
            if gone:
                self.api.site.lists.unsubscribe(mlist, email)
            result[email] = gone
        resp.media = tagged(result)


class ListMember:
    """``lists/{name}/{role}/{email}``: one address in one role on one list."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def _member(self, name: str, role: str, email: str) -> IMember:
        mlist = require_list(self.api, name)
        member = None
        if role in ROLES:
            member = self.api.site.lists.roster(mlist).get_member(email.lower(), role)  # type: ignore[arg-type]
        if member is None:
            raise falcon.HTTPNotFound(title="404 Not Found")
        return member

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, name: str, role: str, email: str
    ) -> None:
        respond(resp, member_json(self.api, req, self._member(name, role, email)))

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, name: str, role: str, email: str
    ) -> None:
        unsubscribe(self.api, req, resp, self._member(name, role, email))


def add_routes(app: RestApp, api: Api, prefix: str) -> None:
    app.add_route(f"{prefix}/members", Members(api))
    app.add_route(f"{prefix}/members/find", FindMembers(api))
    app.add_route(f"{prefix}/members/{{member_id}}", Member(api))
    app.add_route(f"{prefix}/lists/{{name}}/roster/{{role}}", Roster(api))
    app.add_route(f"{prefix}/lists/{{name}}/{{role}}/{{email}}", ListMember(api))

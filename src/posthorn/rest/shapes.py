"""How each object looks on the wire: the JSON of a domain, list, member, user, address.

Kept in one place because resources of one family embed another's objects (a domain's
owners are users, an address's memberships are members).  Keys whose value is None are
left out where Mailman leaves them out; clients read them with ``.get``.
"""

from __future__ import annotations

from typing import Any

import falcon

from posthorn.interfaces.domains import IDomain
from posthorn.interfaces.lists import IMailingList, IMember
from posthorn.interfaces.users import IAddress, IUser
from posthorn.rest.app import Api, iso

__all__ = ["address_json", "domain_json", "list_json", "member_json", "user_json"]

# Bounce bookkeeping Posthorn does not keep yet; Mailman's "never" date.
_NEVER = "0001-01-01T00:00:00"


def domain_json(api: Api, req: falcon.Request, domain: IDomain) -> dict[str, Any]:
    return {
        "mail_host": domain.mail_host,
        "description": domain.description,
        "alias_domain": domain.alias_domain,
        "base_url": None,
        "self_link": api.link(req, "domains", domain.mail_host),
    }


def list_json(
    api: Api, req: falcon.Request, mlist: IMailingList, member_count: int
) -> dict[str, Any]:
    return {
        "advertised": mlist.advertised,
        "description": mlist.description,
        "display_name": mlist.display_name,
        "fqdn_listname": mlist.fqdn_listname,
        "list_id": mlist.list_id,
        "list_name": mlist.list_name,
        "mail_host": mlist.mail_host,
        "member_count": member_count,
        "volume": mlist.volume,
        "self_link": api.link(req, "lists", mlist.list_id),
    }


def member_json(api: Api, req: falcon.Request, member: IMember) -> dict[str, Any]:
    data: dict[str, Any] = {
        "address": api.link(req, "addresses", member.email),
        "bounce_score": 0,
        "delivery_mode": member.delivery_mode,
        "email": member.email,
        "last_warning_sent": _NEVER,
        "list_id": member.list_id,
        "member_id": member.member_id,
        "role": member.role,
        "subscription_mode": "as_address",
        "total_warnings_sent": 0,
        "self_link": api.link(req, "members", member.member_id),
    }
    if member.display_name is not None:
        data["display_name"] = member.display_name
    if member.moderation_action is not None:
        data["moderation_action"] = member.moderation_action
    if member.user_id is not None:
        data["user"] = api.link(req, "users", member.user_id)
    return data


def user_json(api: Api, req: falcon.Request, user: IUser) -> dict[str, Any]:
    data: dict[str, Any] = {
        "user_id": user.user_id,
        "created_on": iso(user.created_on),
        "is_server_owner": user.is_server_owner,
        "self_link": api.link(req, "users", user.user_id),
    }
    if user.display_name is not None:
        data["display_name"] = user.display_name
    if user.password is not None:
        data["password"] = user.password
    return data


def address_json(api: Api, req: falcon.Request, address: IAddress) -> dict[str, Any]:
    data: dict[str, Any] = {
        "email": address.email,
        "original_email": address.original_email,
        "registered_on": iso(address.registered_on),
        "verified_on": iso(address.verified_on),
        "self_link": api.link(req, "addresses", address.email),
    }
    if address.display_name is not None:
        data["display_name"] = address.display_name
    if address.user_id is not None:
        data["user"] = api.link(req, "users", address.user_id)
    return data

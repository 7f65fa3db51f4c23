"""``users/``: people, their addresses, preferred address and password.

A user is named in the path by its 32-hex ``user_id`` or by any of its addresses, as
django-mailman3 and mailmanclient use both.  Deleting a user also ends the memberships
of its addresses (as Mailman does), done here as unsubscriptions through the list
manager so each fires its event.
"""

from __future__ import annotations

import falcon

from posthorn.errors import AddressInUseError
from posthorn.interfaces.users import IUser
from posthorn.rest.app import Api, RestApp, collection, fields_from_query, page_of, paging, respond
from posthorn.rest.fields import (
    as_bool,
    as_email,
    as_optional_str,
    as_str,
    bad_request,
    read_fields,
)
from posthorn.rest.shapes import address_json, user_json

__all__ = ["add_routes", "require_user"]


def require_user(api: Api, key: str) -> IUser:
    users = api.site.users
    user = users.get_user_by_address(key) if "@" in key else users.get_user(key)
    if user is None:
        raise falcon.HTTPNotFound(title="404 Not Found", description=f"No such user: {key}")
    return user


class Users:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        offset, limit = paging(req)
        users = self.api.site.users
        entries = [user_json(self.api, req, u) for u in users.users(offset=offset, limit=limit)]
        collection(resp, entries, users.user_count(), offset)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        spec = {
            "email": as_email,
            "password": as_optional_str,
            "display_name": as_optional_str,
            "is_server_owner": as_bool,
        }
        args = read_fields(self.api.body(req), spec)
        users = self.api.site.users
        email = args.get("email")
        if email is not None and users.get_user_by_address(email) is not None:
            raise bad_request(f"User already exists: {email}")
        user = users.create_user(email, args.get("display_name"), args.get("password"))
        if args.get("is_server_owner"):
            users.update_user(user.user_id, is_server_owner=True)
        resp.status = falcon.HTTP_201
        resp.location = self.api.link(req, "users", user.user_id)


class FindUsers:
    """Case-insensitive substring search over display names and addresses."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = fields_from_query(req, {"q": as_str}).get("q", "").lower()
        found = [
            user
            for user in self.api.site.users.users()
            if query in (user.display_name or "").lower()
            or any(query in a.email for a in user.addresses)
        ]
        page, offset = page_of(req, found)
        collection(resp, [user_json(self.api, req, u) for u in page], len(found), offset)


class User:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, user: str) -> None:
        respond(resp, user_json(self.api, req, require_user(self.api, user)))

    def on_patch(self, req: falcon.Request, resp: falcon.Response, user: str) -> None:
        spec = {
            "display_name": as_optional_str,
            "cleartext_password": as_str,
            "is_server_owner": as_bool,
        }
        args = read_fields(self.api.body(req), spec)
        user_id = require_user(self.api, user).user_id
        users = self.api.site.users
        users.update_user(
            user_id,
            display_name=args.get("display_name"),
            is_server_owner=args.get("is_server_owner"),
        )
        if "cleartext_password" in args:
            users.set_password(user_id, args["cleartext_password"])
        resp.status = falcon.HTTP_204

    on_put = on_patch

    def on_delete(self, req: falcon.Request, resp: falcon.Response, user: str) -> None:
        found = require_user(self.api, user)
        lists = self.api.site.lists
        for address in found.addresses:
            for member in lists.find_members(email=address.email):
                lists.unsubscribe(member.list_id, member.email, member.role)
        self.api.site.users.delete_user(found.user_id)
        resp.status = falcon.HTTP_204


class UserAddresses:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, user: str) -> None:
        found = self.api.site.users.addresses_of(require_user(self.api, user).user_id)
        page, offset = page_of(req, found)
        collection(resp, [address_json(self.api, req, a) for a in page], len(found), offset)

    def on_post(self, req: falcon.Request, resp: falcon.Response, user: str) -> None:
        spec = {"email": as_email, "display_name": as_optional_str, "absorb_existing": as_bool}
        args = read_fields(self.api.body(req), spec, required=["email"])
        user_id = require_user(self.api, user).user_id
        users = self.api.site.users
        email = args["email"]
        existing = users.get_address(email)
        if existing is None:
            users.create_address(email, args.get("display_name"))
        elif existing.user_id not in (None, user_id):
            if not args.get("absorb_existing"):
                raise AddressInUseError("Address belongs to other user")
            # Only the address moves; merging the two users is not supported.
            users.unlink_address(email)
        users.link_address(user_id, email)
        resp.status = falcon.HTTP_201
        resp.location = self.api.link(req, "addresses", email.lower())


class PreferredAddress:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, user: str) -> None:
        preferred = require_user(self.api, user).preferred_address
        if preferred is None:
            raise falcon.HTTPNotFound(title="404 Not Found", description="No preferred address")
        respond(resp, address_json(self.api, req, preferred))

    def on_post(self, req: falcon.Request, resp: falcon.Response, user: str) -> None:
        args = read_fields(self.api.body(req), {"email": as_email}, required=["email"])
        user_id = require_user(self.api, user).user_id
        self.api.site.users.set_preferred_address(user_id, args["email"])
        resp.status = falcon.HTTP_201
        resp.location = self.api.link(req, "addresses", args["email"].lower())

    def on_delete(self, req: falcon.Request, resp: falcon.Response, user: str) -> None:
        found = require_user(self.api, user)
        if found.preferred_address is None:
            raise falcon.HTTPNotFound(title="404 Not Found", description="No preferred address")
        self.api.site.users.clear_preferred_address(found.user_id)
        resp.status = falcon.HTTP_204


class Login:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_post(self, req: falcon.Request, resp: falcon.Response, user: str) -> None:
        spec = {"cleartext_password": as_str}
        args = read_fields(self.api.body(req), spec, required=["cleartext_password"])
        user_id = require_user(self.api, user).user_id
        if not self.api.site.users.check_password(user_id, args["cleartext_password"]):
            raise falcon.HTTPForbidden(title="403 Forbidden", description="Wrong password")
        resp.status = falcon.HTTP_204


def add_routes(app: RestApp, api: Api, prefix: str) -> None:
    app.add_route(f"{prefix}/users", Users(api))
    app.add_route(f"{prefix}/users/find", FindUsers(api))
    app.add_route(f"{prefix}/users/{{user}}", User(api))
    app.add_route(f"{prefix}/users/{{user}}/addresses", UserAddresses(api))
    app.add_route(f"{prefix}/users/{{user}}/preferred_address", PreferredAddress(api))
    app.add_route(f"{prefix}/users/{{user}}/login", Login(api))

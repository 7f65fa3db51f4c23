"""``addresses/``: registered email addresses, verification, and the owning user.

An address is named by its email in the path, raw or percent-encoded (mailmanclient
uses both).  Every change goes through the user manager.
"""

from __future__ import annotations

import falcon

from posthorn.interfaces.users import IAddress
from posthorn.rest.app import Api, RestApp, collection, paging, respond
from posthorn.rest.fields import as_bool, as_optional_str, as_str, read_fields
from posthorn.rest.shapes import address_json, member_json, user_json

__all__ = ["add_routes", "require_address"]


def require_address(api: Api, email: str) -> IAddress:
    address = api.site.users.get_address(email)
    if address is None:
        raise falcon.HTTPNotFound(title="404 Not Found", description=f"No such address: {email}")
    return address


class Addresses:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        offset, limit = paging(req)
        users = self.api.site.users
        entries = [
            address_json(self.api, req, a) for a in users.addresses(offset=offset, limit=limit)
        ]
        collection(resp, entries, users.address_count(), offset)


class Address:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, email: str) -> None:
        respond(resp, address_json(self.api, req, require_address(self.api, email)))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, email: str) -> None:
        require_address(self.api, email)
        self.api.site.users.delete_address(email)
        resp.status = falcon.HTTP_204


class Verify:
    def __init__(self, api: Api, verified: bool) -> None:
        self.api = api
        self.verified = verified

    def on_post(self, req: falcon.Request, resp: falcon.Response, email: str) -> None:
        require_address(self.api, email)
        read_fields(self.api.body(req), {})
        users = self.api.site.users
        if self.verified:
            users.verify_address(email)
        else:
            users.unverify_address(email)
        resp.status = falcon.HTTP_204


class AddressUser:
    """The user owning an address: read it, link one (creating it if asked), unlink."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, email: str) -> None:
        address = require_address(self.api, email)
        user = None if address.user_id is None else self.api.site.users.get_user(address.user_id)
        if user is None:
            raise falcon.HTTPNotFound(title="404 Not Found", description="No user")
        respond(resp, user_json(self.api, req, user))

    def on_post(self, req: falcon.Request, resp: falcon.Response, email: str) -> None:
        spec = {"user_id": as_str, "auto_create": as_bool, "display_name": as_optional_str}
        args = read_fields(self.api.body(req), spec)
        address = require_address(self.api, email)
        users = self.api.site.users
        if "user_id" in args:
            user_id = args["user_id"]
        elif args.get("auto_create", True):
            user_id = users.create_user(display_name=args.get("display_name")).user_id
            resp.status = falcon.HTTP_201
            resp.location = self.api.link(req, "users", user_id)
        else:
            raise falcon.HTTPBadRequest(title="400 Bad Request", description="No user_id given")
        if address.user_id is not None:
            users.unlink_address(email)
        users.link_address(user_id, email)
        if resp.status != falcon.HTTP_201:
            resp.status = falcon.HTTP_204

    on_put = on_post

    def on_delete(self, req: falcon.Request, resp: falcon.Response, email: str) -> None:
        address = require_address(self.api, email)
        if address.user_id is None:
            raise falcon.HTTPNotFound(title="404 Not Found", description="No user")
        self.api.site.users.unlink_address(email)
        resp.status = falcon.HTTP_204


class Memberships:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, email: str) -> None:
        require_address(self.api, email)
        found = self.api.site.lists.find_members(email=email)
        offset, limit = paging(req)
        page = found[offset : None if limit is None else offset + limit]
        collection(resp, [member_json(self.api, req, m) for m in page], len(found), offset)


def add_routes(app: RestApp, api: Api, prefix: str) -> None:
    app.add_route(f"{prefix}/addresses", Addresses(api))
    app.add_route(f"{prefix}/addresses/{{email}}", Address(api))
    app.add_route(f"{prefix}/addresses/{{email}}/verify", Verify(api, True))
    app.add_route(f"{prefix}/addresses/{{email}}/unverify", Verify(api, False))
    app.add_route(f"{prefix}/addresses/{{email}}/user", AddressUser(api))
    app.add_route(f"{prefix}/addresses/{{email}}/memberships", Memberships(api))

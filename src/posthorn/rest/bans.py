"""``bans`` and ``lists/{list}/bans``: the site's and a list's banned addresses.

A ban is an address or a ``^pattern`` (see ``posthorn.interfaces.bans``).  The
collection is paged and sorted by ``email``; ``POST {email}`` adds a ban (201 with its
location, 400 when it exists or is neither an address nor a pattern that compiles);
``GET .../bans/{email}`` answers 200 when that address is banned there, by any ban
(Postorius and mailmanclient check an address this way), else 404; ``DELETE`` removes
that exact ban.  A pattern in a path is percent-encoded, as mailmanclient sends it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

import falcon

from posthorn.errors import PosthornError
from posthorn.model.bans import Ban, DatabaseBanManager
from posthorn.rest.app import Api, RestApp, collection, paging, respond
from posthorn.rest.fields import as_str, bad_request, read_fields
from posthorn.rest.lists import require_list

__all__ = ["add_routes"]


class _Bans:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.bans = DatabaseBanManager.from_site(api.site)

    def _list_id(self, name: str | None) -> str | None:
        return None if name is None else require_list(self.api, name).list_id

    def _json(self, req: falcon.Request, email: str, list_id: str | None) -> dict[str, Any]:
        where = ("lists", list_id, "bans") if list_id else ("bans",)
        shown = quote_plus(email) if email.startswith("^") else email
        data: dict[str, Any] = {"email": email, "self_link": self.api.link(req, *where, shown)}
        if list_id is not None:
            data["list_id"] = list_id
        return data


class Bans(_Bans):
    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str | None = None) -> None:
        list_id = self._list_id(name)
        offset, limit = paging(req)
        found = self.bans.bans(list_id, offset=offset, limit=limit)
        entries = [self._json(req, ban.email, ban.list_id) for ban in found]
        collection(resp, entries, self.bans.count(list_id), offset)

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str | None = None) -> None:
        list_id = self._list_id(name)
        args = read_fields(self.api.body(req), {"email": as_str}, required=["email"])
        try:
            ban: Ban = self.bans.ban(args["email"], list_id)
        except PosthornError as error:
            raise bad_request(str(error)) from None
        resp.status = falcon.HTTP_201
        resp.location = self._json(req, ban.email, list_id)["self_link"]


class BannedEmail(_Bans):
    def on_get(
        self, req: falcon.Request, resp: falcon.Response, email: str, name: str | None = None
    ) -> None:
        list_id = self._list_id(name)
        if not self.bans.is_banned(email, list_id):
            raise falcon.HTTPNotFound(
                title="404 Not Found", description=f"Email is not banned: {email}"
            )
        respond(resp, self._json(req, email, list_id))

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, email: str, name: str | None = None
    ) -> None:
        self.bans.unban(email, self._list_id(name))
        resp.status = falcon.HTTP_204


def add_routes(app: RestApp, api: Api, prefix: str) -> None:
    bans, banned = Bans(api), BannedEmail(api)
    app.add_route(f"{prefix}/bans", bans)
    app.add_route(f"{prefix}/bans/{{email}}", banned)
    app.add_route(f"{prefix}/lists/{{name}}/bans", bans)
    app.add_route(f"{prefix}/lists/{{name}}/bans/{{email}}", banned)

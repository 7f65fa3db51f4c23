"""``lists/{name}/requests``: pending (un)subscriptions and a moderator settling them.

The requests are the list manager's pendings of type ``subscription`` and
``unsubscription``; a decision continues the request's workflow
(``posthorn.workflows.requests.moderate_request``): accepting takes the pending out
(so it cannot be settled twice), subscribes or unsubscribes and sends the welcome or
goodbye notice; rejecting takes it out and tells the requester; discarding takes it
out silently; deferring leaves it.
"""

from __future__ import annotations

from typing import Any

import falcon

from posthorn.interfaces.lists import IMailingList, IPending
from posthorn.rest.app import Api, RestApp, collection, fields_from_query, iso, page_of, respond
from posthorn.rest.fields import as_optional_str, one_of, read_fields
from posthorn.rest.lists import require_list
from posthorn.workflows.requests import moderate_request

__all__ = ["add_routes"]

TYPES = ("subscription", "unsubscription")
OWNERS = ("subscriber", "moderator", "no_one")


def request_json(pending: IPending) -> dict[str, Any]:
    data = pending.data
    return {
        "email": data.get("email"),
        "display_name": data.get("display_name") or "",
        "token": pending.token,
        "token_owner": data.get("token_owner", "no_one"),
        "list_id": pending.list_id,
        "type": pending.type,
        "when": iso(pending.created_on),
    }


def list_requests(api: Api, req: falcon.Request, mlist: IMailingList) -> list[IPending]:
    spec = {"request_type": one_of(*TYPES), "token_owner": one_of(*OWNERS)}
    query = fields_from_query(req, spec)
    types = [query["request_type"]] if "request_type" in query else list(TYPES)
    found = [p for kind in types for p in api.site.lists.pendings(type=kind, list_id=mlist.list_id)]
    owner = query.get("token_owner")
    return [p for p in found if owner is None or p.data.get("token_owner") == owner]


def require_request(api: Api, mlist: IMailingList, token: str) -> IPending:
    pending = api.site.lists.get_pending(token)
    if pending is None or pending.list_id != mlist.list_id or pending.type not in TYPES:
        raise falcon.HTTPNotFound(title="404 Not Found", description="No such request")
    return pending


class Requests:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        found = list_requests(self.api, req, require_list(self.api, name))
        page, offset = page_of(req, found)
        collection(resp, [request_json(p) for p in page], len(found), offset)


class RequestCount:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        found = list_requests(self.api, req, require_list(self.api, name))
        respond(resp, {"count": len(found)})


class Request:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str, token: str) -> None:
        pending = require_request(self.api, require_list(self.api, name), token)
        respond(resp, request_json(pending))

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str, token: str) -> None:
        spec = {
            "action": one_of("accept", "reject", "discard", "defer"),
            "reason": as_optional_str,
        }
        args = read_fields(self.api.body(req), spec, required=["action"])
        mlist = require_list(self.api, name)
        require_request(self.api, mlist, token)
        outcome = moderate_request(self.api.site, mlist, token, args["action"], args.get("reason"))
        if outcome.status == "unknown-token":
            raise falcon.HTTPNotFound(title="404 Not Found", description="No such request")
        resp.status = falcon.HTTP_204


def add_routes(app: RestApp, api: Api, prefix: str) -> None:
    app.add_route(f"{prefix}/lists/{{name}}/requests", Requests(api))
    app.add_route(f"{prefix}/lists/{{name}}/requests/count", RequestCount(api))
    app.add_route(f"{prefix}/lists/{{name}}/requests/{{token}}", Request(api))

"""``lists/{name}/held``: messages held for moderation, and the moderator's decision.

The decision is carried out by ``posthorn.moderation.moderate``, the same function
``posthorn moderate`` uses: accepting puts the held message on queue ``pipeline`` with
``approved`` recorded, rejecting also tells the poster, discarding forgets it,
deferring (or "hold") leaves it held.
"""

from __future__ import annotations

from typing import Any

import falcon

from posthorn.interfaces.lists import IMailingList
from posthorn.interfaces.messages import IHeldMessage
from posthorn.moderation import moderate
from posthorn.rest.app import Api, RestApp, collection, iso, paging, respond
from posthorn.rest.fields import as_int, as_optional_str, one_of, read_fields
from posthorn.rest.lists import require_list

__all__ = ["add_routes"]


def held_json(api: Api, req: falcon.Request, held: IHeldMessage) -> dict[str, Any]:
    return {
        "request_id": held.request_id,
        "hold_date": iso(held.held_on),
        "message_id": held.message_id,
        "msg": held.raw.decode("utf-8", errors="replace"),
        "reason": held.reason,
        "moderation_reasons": [held.reason],
        "sender": held.sender,
        "subject": held.subject,
        "original_subject": held.subject,
        "list_id": held.list_id,
        "self_link": api.link(req, "lists", held.list_id, "held", str(held.request_id)),
    }


def require_held(api: Api, mlist: IMailingList, request_id: str) -> IHeldMessage:
    try:
        number = as_int(request_id)
    except ValueError:
        number = -1
    held = api.site.messages.get_held(number) if number >= 0 else None
    if held is None or held.list_id != mlist.list_id:
        raise falcon.HTTPNotFound(title="404 Not Found", description="No such held message")
    return held


class HeldMessages:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        list_id = require_list(self.api, name).list_id
        offset, limit = paging(req)
        store = self.api.site.messages
        held = store.held_for_list(list_id, offset=offset, limit=limit)
        entries = [held_json(self.api, req, h) for h in held]
        collection(resp, entries, store.held_count(list_id), offset)


class HeldCount:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        list_id = require_list(self.api, name).list_id
        respond(resp, {"count": self.api.site.messages.held_count(list_id)})


class HeldMessage:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str, rid: str) -> None:
        held = require_held(self.api, require_list(self.api, name), rid)
        respond(resp, held_json(self.api, req, held))

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str, rid: str) -> None:
        spec = {
            "action": one_of("hold", "reject", "discard", "accept", "defer"),
            "comment": as_optional_str,
            "reason": as_optional_str,
        }
        args = read_fields(self.api.body(req), spec, required=["action"])
        mlist = require_list(self.api, name)
        held = require_held(self.api, mlist, rid)
        reason = args.get("reason") or args.get("comment")
        moderate(self.api.site, mlist, held.request_id, args["action"], reason=reason)
        resp.status = falcon.HTTP_204


def add_routes(app: RestApp, api: Api, prefix: str) -> None:
    app.add_route(f"{prefix}/lists/{{name}}/held", HeldMessages(api))
    app.add_route(f"{prefix}/lists/{{name}}/held/count", HeldCount(api))
    app.add_route(f"{prefix}/lists/{{name}}/held/{{rid}}", HeldMessage(api))

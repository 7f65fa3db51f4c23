"""``queues``: what waits in each queue, and injecting a message into one.

Every queue a runner reads, plus ``shunt`` and ``bad`` (which no runner reads), plus
any other queue the backend knows, is listed with its ``count``, its entries'
``files`` (entry ids, oldest first) and its ``directory`` (where the backend keeps it),
as Mailman shows them on the Postorius system page.  Three queues are named as Mailman names them
(``in``, ``out``, ``bounces`` for our ``incoming``, ``outgoing``, ``bounce``), so that
clients written for Mailman find them; our names work in paths too.  A queue not made
yet reads as empty and is not made by looking.
``POST queues/{name} {list_id, text}`` injects a message for a list (201 with the
entry's location); ``DELETE queues/{name}/{file}`` removes one waiting entry.
"""

from __future__ import annotations

from typing import Any

import falcon

from posthorn.injection import NotAMessage, inject
from posthorn.queuing import queue_store
from posthorn.rest.app import Api, RestApp, collection, page_of, respond
from posthorn.rest.fields import as_str, bad_request, read_fields

__all__ = ["MAILMAN_NAMES", "add_routes", "queue_names"]

# Mailman's queue names for ours; clients written for Mailman use them.
MAILMAN_NAMES = {"in": "incoming", "out": "outgoing", "bounces": "bounce"}
_SHOWN = {ours: theirs for theirs, ours in MAILMAN_NAMES.items()}
# Runners that serve a socket and read no queue.
_SERVICES = frozenset({"lmtp", "rest"})


def queue_names(api: Api) -> list[str]:
    config = api.site.config
    names = {name for name in config.named("runner") if name not in _SERVICES} - {"*"}
    names |= {"shunt", "bad"}
    names |= set(queue_store(config).names())
    return sorted(names)


class _Queues:
    def __init__(self, api: Api) -> None:
        self.api = api

    def _name(self, name: str) -> str:
        name = MAILMAN_NAMES.get(name, name)
        if name not in queue_names(self.api):
            raise falcon.HTTPNotFound(title="404 Not Found", description=f"No such queue: {name}")
        return name

    def _json(self, req: falcon.Request, name: str) -> dict[str, Any]:
        store = queue_store(self.api.site.config)
        files = store.waiting(name)
        shown = _SHOWN.get(name, name)
        return {
            "name": shown,
            "directory": store.location(name),
            # What waits, listed or not (a broker counts what it cannot list).
            "count": max(len(files), store.depth(name)),
            "files": files,
            "self_link": self.api.link(req, "queues", shown),
        }


class Queues(_Queues):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        names = sorted(queue_names(self.api), key=lambda name: _SHOWN.get(name, name))
        page, offset = page_of(req, names)
        collection(resp, [self._json(req, name) for name in page], len(names), offset)


class Queue(_Queues):
    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        respond(resp, self._json(req, self._name(name)))

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        name = self._name(name)
        spec = {"list_id": as_str, "text": as_str}
        args = read_fields(self.api.body(req), spec, required=["list_id", "text"])
        mlist = self.api.site.lists.get(args["list_id"])
        if mlist is None:
            raise bad_request(f"No such list: {args['list_id']}")
        raw = args["text"].encode("utf-8", "surrogateescape")
        try:
            filebase = inject(self.api.site, mlist, raw, name)
        except NotAMessage as error:
            raise bad_request(str(error)) from None
        resp.status = falcon.HTTP_201
        resp.location = self.api.link(req, "queues", _SHOWN.get(name, name), filebase)


class QueueFile(_Queues):
    def on_delete(self, req: falcon.Request, resp: falcon.Response, name: str, file: str) -> None:
        name = self._name(name)
        if not queue_store(self.api.site.config).remove(name, file):
            raise falcon.HTTPNotFound(title="404 Not Found", description=f"No such file: {file}")
        resp.status = falcon.HTTP_204


def add_routes(app: RestApp, api: Api, prefix: str) -> None:
    app.add_route(f"{prefix}/queues", Queues(api))
    app.add_route(f"{prefix}/queues/{{name}}", Queue(api))
    app.add_route(f"{prefix}/queues/{{name}}/{{file}}", QueueFile(api))

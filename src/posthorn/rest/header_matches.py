"""``lists/{list}/header-matches``: a list's ordered header checks.

An entry is ``{position, header, pattern, action?, tag?, self_link}`` (``action`` and
``tag`` left out when unset, as Mailman does); the path of one match is its position.
``POST`` appends (201 with its location; 400 when the header and pattern exist), ``PATCH``
changes some fields of one match, ``PUT`` all of ``header`` and ``pattern`` (and any
of ``action``, ``position``, ``tag``); changing ``position`` moves the match and shifts
those in between.  An empty ``action`` clears it.  ``DELETE`` removes one match or,
on the collection, every match (Postorius rewrites the whole list that way).
``find`` (GET or POST with ``header``, ``action``, ``tag``) answers 404 when nothing
matches, as mailmanclient expects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import falcon

from posthorn.interfaces.header_matches import HEADER_MATCH_ACTIONS, IHeaderMatch
from posthorn.model.header_matches import DatabaseHeaderMatches
from posthorn.rest.app import Api, RestApp, collection, fields_from_query, page_of, respond
from posthorn.rest.fields import Body, Converter, as_int, as_str, bad_request, read_fields
from posthorn.rest.lists import require_list

__all__ = ["add_routes"]


def _action(value: Any) -> str | None:
    """An action, or None for the empty string (Postorius's "default action")."""
    text = as_str(value).strip().lower()
    if text in ("", "none"):
        return None
    if text not in HEADER_MATCH_ACTIONS:
        raise ValueError(f"Accepted Values are: {', '.join(HEADER_MATCH_ACTIONS)}.")
    return text


def _optional(value: Any) -> str | None:
    return None if value is None or value == "None" else as_str(value)


FIELDS: dict[str, Converter] = {
    "header": as_str,
    "pattern": as_str,
    "action": _action,
    "tag": _optional,
    "position": as_int,
}


class _Base:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.matches = DatabaseHeaderMatches.from_site(api.site)

    def _json(self, req: falcon.Request, match: IHeaderMatch) -> dict[str, Any]:
        link = self.api.link(req, "lists", match.list_id, "header-matches", str(match.position))
        data: dict[str, Any] = {
            "position": match.position,
            "header": match.header,
            "pattern": match.pattern,
            "self_link": link,
        }
        if match.chain is not None:
            data["action"] = match.chain
        if match.tag is not None:
            data["tag"] = match.tag
        return data

    def _entries(
        self, req: falcon.Request, resp: falcon.Response, found: Sequence[IHeaderMatch]
    ) -> None:
        page, offset = page_of(req, found)
        collection(resp, [self._json(req, m) for m in page], len(found), offset)


def _stored(args: dict[str, Any]) -> dict[str, Any]:
    """REST field names to the model's: ``action`` is the match's ``chain``."""
    if "action" in args:
        args["chain"] = args.pop("action")
    return args


class HeaderMatches(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        mlist = require_list(self.api, name)
        self._entries(req, resp, list(self.matches.of(mlist.list_id)))

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        mlist = require_list(self.api, name)
        spec = {k: v for k, v in FIELDS.items() if k != "position"}
        args = _stored(read_fields(self.api.body(req), spec, required=["header", "pattern"]))
        match = self.matches.append(mlist.list_id, **args)
        resp.status = falcon.HTTP_201
        resp.location = self._json(req, match)["self_link"]

    def on_delete(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        self.matches.clear(require_list(self.api, name).list_id)
        resp.status = falcon.HTTP_204


class HeaderMatchAt(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str, position: int) -> None:
        mlist = require_list(self.api, name)
        respond(resp, self._json(req, self.matches.get(mlist.list_id, position)))

    def on_patch(
        self, req: falcon.Request, resp: falcon.Response, name: str, position: int
    ) -> None:
        self._change(req, resp, name, position, required=())

    def on_put(self, req: falcon.Request, resp: falcon.Response, name: str, position: int) -> None:
        self._change(req, resp, name, position, required=("header", "pattern"))

    def _change(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        name: str,
        position: int,
        required: tuple[str, ...],
    ) -> None:
        mlist = require_list(self.api, name)
        args = _stored(read_fields(self.api.body(req), FIELDS, required=required))
        if args.get("position", 0) < 0:
            raise bad_request("Negative positions are not supported")
        self.matches.change(mlist.list_id, position, **args)
        resp.status = falcon.HTTP_204

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, name: str, position: int
    ) -> None:
        self.matches.remove(require_list(self.api, name).list_id, position)
        resp.status = falcon.HTTP_204


class FindHeaderMatches(_Base):
    SPEC: dict[str, Converter] = {"header": as_str, "action": _action, "tag": as_str}

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        self._find(req, resp, name, fields_from_query(req, self.SPEC))

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        body = self.api.body(req)
        values = {k: v for k, v in body.values.items() if k not in ("count", "page")}
        self._find(req, resp, name, read_fields(Body(values, body.is_json), self.SPEC))

    def _find(
        self, req: falcon.Request, resp: falcon.Response, name: str, args: dict[str, Any]
    ) -> None:
        mlist = require_list(self.api, name)
        found = list(
            self.matches.find(
                mlist.list_id, header=args.get("header"), chain=args.get("action"),
                tag=args.get("tag"),
            )
        )  # fmt: skip
        if not found:
            raise falcon.HTTPNotFound(
                title="404 Not Found",
                description="Could not find any header match for these search options.",
            )
        self._entries(req, resp, found)


def add_routes(app: RestApp, api: Api, prefix: str) -> None:
    base = f"{prefix}/lists/{{name}}/header-matches"
    app.add_route(base, HeaderMatches(api))
    app.add_route(f"{base}/find", FindHeaderMatches(api))
    app.add_route(f"{base}/{{position:int(min=0)}}", HeaderMatchAt(api))

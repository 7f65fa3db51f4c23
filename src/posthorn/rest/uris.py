"""``uris``, ``domains/{host}/uris``, ``lists/{list}/uris``: where notice templates live.

A front end keeps its edited templates and hands the core their URIs by Mailman's
template names (``posthorn.model.template_uris.TEMPLATE_NAMES``): a list may set the
``list:`` names, a domain the ``list:`` and ``domain:`` names, the site all.  ``GET``
lists what is stored there (``{name, uri, self_link}``, with ``username`` and
``password`` when both are set); ``PATCH`` sets the names given (an empty URI removes
one), ``PUT`` needs every name, ``DELETE`` removes them all.  ``username`` and
``password`` go together or not at all.  ``.../uris/{name}`` reads (``{uri, self_link}``,
404 when unset) or removes one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import falcon

from posthorn.model.template_uris import TEMPLATE_NAMES, DatabaseTemplateUris, TemplateUri
from posthorn.rest.app import Api, RestApp, collection, page_of, respond
from posthorn.rest.domains import require_domain
from posthorn.rest.fields import Converter, as_str, bad_request, read_fields
from posthorn.rest.lists import require_list

__all__ = ["add_routes"]

_KINDS: dict[str, tuple[str, ...]] = {
    "site": TEMPLATE_NAMES,
    "domain": tuple(n for n in TEMPLATE_NAMES if n.startswith(("list:", "domain:"))),
    "list": tuple(n for n in TEMPLATE_NAMES if n.startswith("list:")),
}


class _Uris:
    def __init__(self, api: Api, kind: str) -> None:
        self.api = api
        self.kind = kind
        self.names = _KINDS[kind]
        self.uris = DatabaseTemplateUris.from_site(api.site)

    def _context(self, params: dict[str, Any]) -> tuple[str | None, tuple[str, ...]]:
        """The stored context (list-id, mail host, None) and its path prefix."""
        if self.kind == "list":
            list_id = require_list(self.api, params["name"]).list_id
            return list_id, ("lists", list_id)
        if self.kind == "domain":
            host = require_domain(self.api, params["host"]).mail_host
            return host, ("domains", host)
        return None, ()

    def _link(self, req: falcon.Request, prefix: tuple[str, ...], *rest: str) -> str:
        return self.api.link(req, *prefix, "uris", *rest)

    def _entry(
        self, req: falcon.Request, prefix: tuple[str, ...], uri: TemplateUri
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": uri.name,
            "uri": uri.uri,
            "self_link": self._link(req, prefix, uri.name),
        }
        if uri.username is not None and uri.password is not None:
            data["username"], data["password"] = uri.username, uri.password
        return data

    def _set(
        self, req: falcon.Request, context: str | None, names: Sequence[str], complete: bool
    ) -> None:
        spec: dict[str, Converter] = dict.fromkeys(names, as_str)
        spec.update(username=as_str, password=as_str)
        args = read_fields(self.api.body(req), spec, required=names if complete else ())
        username, password = args.pop("username", None), args.pop("password", None)
        if bool(username) != bool(password):
            raise bad_request("Specify both username and password, or neither")
        for name, uri in args.items():
            if uri:
                self.uris.set(name, context, uri, username or None, password or None)
            else:
                self.uris.delete(name, context)


class Uris(_Uris):
    def on_get(self, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        context, prefix = self._context(params)
        found = [u for u in self.uris.of(context) if u.name in self.names]
        page, offset = page_of(req, found)
        collection(resp, [self._entry(req, prefix, u) for u in page], len(found), offset)

    def on_patch(self, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        context, _ = self._context(params)
        self._set(req, context, self.names, complete=False)
        resp.status = falcon.HTTP_204

    def on_put(self, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        context, _ = self._context(params)
        self._set(req, context, self.names, complete=True)
        resp.status = falcon.HTTP_204

    def on_delete(self, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        context, _ = self._context(params)
        for name in self.names:
            self.uris.delete(name, context)
        resp.status = falcon.HTTP_204


class Uri(_Uris):
    def _name(self, template: str) -> str:
        if template not in self.names:
            raise falcon.HTTPNotFound(
                title="404 Not Found", description=f"No such template here: {template}"
            )
        return template

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, template: str, **params: str
    ) -> None:
        context, prefix = self._context(params)
        found = self.uris.get(self._name(template), context)
        if found is None:
            raise falcon.HTTPNotFound(title="404 Not Found", description=f"{template} is not set")
        respond(resp, {"uri": found.uri, "self_link": self._link(req, prefix, template)})

    def on_patch(
        self, req: falcon.Request, resp: falcon.Response, template: str, **params: str
    ) -> None:
        context, _ = self._context(params)
        self._set(req, context, [self._name(template)], complete=False)
        resp.status = falcon.HTTP_204

    def on_put(
        self, req: falcon.Request, resp: falcon.Response, template: str, **params: str
    ) -> None:
        context, _ = self._context(params)
        self._set(req, context, [self._name(template)], complete=True)
        resp.status = falcon.HTTP_204

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, template: str, **params: str
    ) -> None:
        context, _ = self._context(params)
        self.uris.delete(self._name(template), context)
        resp.status = falcon.HTTP_204


def add_routes(app: RestApp, api: Api, prefix: str) -> None:
    for kind, base in (
        ("site", f"{prefix}/uris"),
        ("domain", f"{prefix}/domains/{{host}}/uris"),
        ("list", f"{prefix}/lists/{{name}}/uris"),
    ):
        app.add_route(base, Uris(api, kind))
        app.add_route(f"{base}/{{template}}", Uri(api, kind))

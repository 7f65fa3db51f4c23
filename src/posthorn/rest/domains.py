"""``domains/``: mail hosts, their lists and their owners.

Unlike Mailman, the mail host is validated (a bad one is a 400), and deleting a domain
deletes its lists through the domain manager.  Domain owners are not kept by the
domain manager yet, so ``owners`` is always an empty collection and cannot be written.
"""

from __future__ import annotations

import falcon

from posthorn.interfaces.domains import IDomain
from posthorn.rest.app import Api, RestApp, collection, fields_from_query, page_of, paging, respond
from posthorn.rest.fields import as_bool, as_optional_str, as_str, bad_request, read_fields
from posthorn.rest.shapes import domain_json, list_json

__all__ = ["add_routes"]


def require_domain(api: Api, mail_host: str) -> IDomain:
    domain = api.site.domains.get(mail_host)
    if domain is None:
        raise falcon.HTTPNotFound(title="404 Not Found", description=f"No domain {mail_host}")
    return domain


class Domains:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        found = self.api.site.domains.domains()
        page, offset = page_of(req, found)
        collection(resp, [domain_json(self.api, req, d) for d in page], len(found), offset)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        spec = {
            "mail_host": as_str,
            "description": as_optional_str,
            "alias_domain": as_optional_str,
            "owner": as_str,
        }
        args = read_fields(self.api.body(req), spec, required=["mail_host"])
        if "owner" in args:
            raise bad_request("Domain owners are not supported yet.")
        domains = self.api.site.domains
        if domains.get(args["mail_host"]) is not None:
            raise bad_request(f"Duplicate email host: {args['mail_host']}")
        domain = domains.add(
            args["mail_host"], args.get("description") or "", args.get("alias_domain")
        )
        resp.status = falcon.HTTP_201
        resp.location = self.api.link(req, "domains", domain.mail_host)


class Domain:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, host: str) -> None:
        respond(resp, domain_json(self.api, req, require_domain(self.api, host)))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, host: str) -> None:
        require_domain(self.api, host)
        self.api.site.domains.remove(host)
        resp.status = falcon.HTTP_204


class DomainLists:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, host: str) -> None:
        domain = require_domain(self.api, host)
        advertised = fields_from_query(req, {"advertised": as_bool}).get("advertised") or None
        offset, limit = paging(req)
        lists = self.api.site.lists
        found = lists.lists(
            mail_host=domain.mail_host, advertised=advertised, offset=offset, limit=limit
        )
        entries = [list_json(self.api, req, m, len(lists.roster(m).members)) for m in found]
        total = lists.count(mail_host=domain.mail_host, advertised=advertised)
        collection(resp, entries, total, offset)


class DomainOwners:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, host: str) -> None:
        require_domain(self.api, host)
        collection(resp, [], 0)

    def on_delete(self, req: falcon.Request, resp: falcon.Response, host: str) -> None:
        require_domain(self.api, host)
        resp.status = falcon.HTTP_204


def add_routes(app: RestApp, api: Api, prefix: str) -> None:
    app.add_route(f"{prefix}/domains", Domains(api))
    app.add_route(f"{prefix}/domains/{{host}}", Domain(api))
    app.add_route(f"{prefix}/domains/{{host}}/lists", DomainLists(api))
    app.add_route(f"{prefix}/domains/{{host}}/owners", DomainOwners(api))

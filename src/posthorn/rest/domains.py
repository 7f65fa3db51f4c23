"""``domains/``: mail hosts, their lists and their owners.

Unlike Mailman, the mail host is validated (a bad one is a 400), and deleting a domain
deletes its lists through the domain manager.  The domain manager keeps owners by
email; here, as in Mailman, they are users: adding one registers a user for the
address when it has none, and the collection lists each owner's user.
"""

from __future__ import annotations

import falcon

from posthorn.errors import InvalidAddressError
from posthorn.interfaces.domains import IDomain
from posthorn.rest.app import Api, RestApp, collection, fields_from_query, page_of, paging, respond
from posthorn.rest.fields import (
    Converter,
    Many,
    as_bool,
    as_email,
    as_optional_str,
    as_str,
    bad_request,
    read_fields,
)
from posthorn.rest.shapes import domain_json, list_json, user_json

__all__ = ["add_routes"]


def require_domain(api: Api, mail_host: str) -> IDomain:
    domain = api.site.domains.get(mail_host)
    if domain is None:
        raise falcon.HTTPNotFound(title="404 Not Found", description=f"No domain {mail_host}")
    return domain


def add_owner(api: Api, mail_host: str, email: str) -> None:
    """The address becomes an owner, and gets a user if it has none (as in Mailman)."""
    users = api.site.users
    if users.get_user_by_address(email) is None:
        address = users.get_address(email)
        if address is None or address.user_id is None:
            users.create_user(email)
    api.site.domains.add_owner(mail_host, email)


class Domains:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        found = self.api.site.domains.domains()
        page, offset = page_of(req, found)
        collection(resp, [domain_json(self.api, req, d) for d in page], len(found), offset)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        spec: dict[str, Converter | Many] = {
            "mail_host": as_str,
            "description": as_optional_str,
            "alias_domain": as_optional_str,
            "owner": Many(as_email),
        }
        args = read_fields(self.api.body(req), spec, required=["mail_host"])
        domains = self.api.site.domains
        if domains.get(args["mail_host"]) is not None:
            raise bad_request(f"Duplicate email host: {args['mail_host']}")
        domain = domains.add(
            args["mail_host"], args.get("description") or "", args.get("alias_domain")
        )
        for owner in args.get("owner", []):
            add_owner(self.api, domain.mail_host, owner)
        resp.status = falcon.HTTP_201
        resp.location = self.api.link(req, "domains", domain.mail_host)


class Domain:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, host: str) -> None:
        respond(resp, domain_json(self.api, req, require_domain(self.api, host)))

    def on_patch(self, req: falcon.Request, resp: falcon.Response, host: str) -> None:
        """Postorius's domain page saves the description and alias domain this way."""
        mail_host = require_domain(self.api, host).mail_host
        spec: dict[str, Converter | Many] = {"description": as_str, "alias_domain": as_str}
        args = read_fields(self.api.body(req), spec)
        try:
            self.api.site.domains.update(mail_host, **args)
        except InvalidAddressError as error:
            raise bad_request(f"Invalid alias_domain: {error}") from None
        resp.status = falcon.HTTP_204

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
        emails = self.api.site.domains.owners(require_domain(self.api, host).mail_host)
        users = self.api.site.users
        # An owner whose user was deleted since is left out, not shown half-made.
        found = [user for user in map(users.get_user_by_address, emails) if user is not None]
        page, offset = page_of(req, found)
        collection(resp, [user_json(self.api, req, u) for u in page], len(found), offset)

    def on_post(self, req: falcon.Request, resp: falcon.Response, host: str) -> None:
        args = read_fields(self.api.body(req), {"owner": as_email}, required=["owner"])
        add_owner(self.api, require_domain(self.api, host).mail_host, args["owner"])
        resp.status = falcon.HTTP_204

    def on_delete(self, req: falcon.Request, resp: falcon.Response, host: str) -> None:
        """Every owner goes, as mailmanclient's ``remove_all_owners`` expects."""
        domains = self.api.site.domains
        mail_host = require_domain(self.api, host).mail_host
        for email in domains.owners(mail_host):
            domains.remove_owner(mail_host, email)
        resp.status = falcon.HTTP_204


class DomainOwner:
    """``domains/{host}/owners/{email}``: one owner, read or removed."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def _owner(self, host: str, email: str) -> str:
        mail_host = require_domain(self.api, host).mail_host
        if email.lower() not in self.api.site.domains.owners(mail_host):
            raise falcon.HTTPNotFound(title="404 Not Found", description=f"No owner {email}")
        return mail_host

    def on_get(self, req: falcon.Request, resp: falcon.Response, host: str, email: str) -> None:
        self._owner(host, email)
        user = self.api.site.users.get_user_by_address(email)
        if user is None:
            raise falcon.HTTPNotFound(title="404 Not Found", description=f"No user for {email}")
        respond(resp, user_json(self.api, req, user))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, host: str, email: str) -> None:
        self.api.site.domains.remove_owner(self._owner(host, email), email)
        resp.status = falcon.HTTP_204


def add_routes(app: RestApp, api: Api, prefix: str) -> None:
    app.add_route(f"{prefix}/domains", Domains(api))
    app.add_route(f"{prefix}/domains/{{host}}", Domain(api))
    app.add_route(f"{prefix}/domains/{{host}}/lists", DomainLists(api))
    app.add_route(f"{prefix}/domains/{{host}}/owners", DomainOwners(api))
    app.add_route(f"{prefix}/domains/{{host}}/owners/{{email}}", DomainOwner(api))

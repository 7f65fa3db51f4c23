"""``lists/``: mailing lists, their styles, settings (``config``) and archivers.

A list is named in the path by its posting address or its list-id; both work, as
mailmanclient uses both.  Settings are checked by type here (form bodies carry only
strings) and by value by the list manager, which applies a change all or nothing.
"""

from __future__ import annotations

import typing
from typing import Any, Literal

import falcon

from posthorn.archivers.loading import configured_archivers
from posthorn.interfaces.lists import IMailingList
from posthorn.model.settings import READ_ONLY, setting_types
from posthorn.rest.app import Api, RestApp, collection, fields_from_query, page_of, paging, respond
from posthorn.rest.fields import (
    Body,
    Converter,
    Many,
    as_bool,
    as_email,
    as_float,
    as_int,
    as_optional_str,
    as_str,
    bad_request,
    check_languages,
    one_of,
    read_fields,
)
from posthorn.rest.shapes import list_json
from posthorn.rest.system import pipeline_descriptions

__all__ = ["add_routes", "require_list"]

STYLES: dict[str, tuple[str, dict[str, Any]]] = {
    "legacy-default": ("Ordinary discussion mailing list style.", {}),
    "legacy-announce": ("Announce only mailing list style.", {"allow_list_posts": False}),
    "private-default": (
        "Discussion mailing list style with private archives.",
        {
            "advertised": False,
            "archive_policy": "private",
            "subscription_policy": "confirm_then_moderate",
        },
    ),
}
DEFAULT_STYLE = "legacy-default"


def require_list(api: Api, name: str) -> IMailingList:
    mlist = api.site.lists.get(name)
    if mlist is None:
        raise falcon.HTTPNotFound(title="404 Not Found", description=f"No such list: {name}")
    return mlist


def entry(api: Api, req: falcon.Request, mlist: IMailingList) -> dict[str, Any]:
    count = len(api.site.lists.roster(mlist).members)
    return list_json(api, req, mlist, count)


def _converter(hint: Any) -> Converter | Many:
    if typing.get_origin(hint) is Literal:
        return one_of(*typing.get_args(hint))
    simple: dict[Any, Converter] = {bool: as_bool, int: as_int, float: as_float, str: as_str}
    if hint in simple:
        return simple[hint]
    if hint == tuple[str, ...]:
        return Many(as_str)
    return as_optional_str


def settings_spec() -> dict[str, Converter | Many]:
    return {name: _converter(hint) for name, hint in setting_types().items()}


class Lists:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = fields_from_query(req, {"advertised": as_bool, "mail_host": as_str})
        advertised = query.get("advertised") or None
        offset, limit = paging(req)
        lists = self.api.site.lists
        host = query.get("mail_host")
        found = lists.lists(mail_host=host, advertised=advertised, offset=offset, limit=limit)
        total = lists.count(mail_host=host, advertised=advertised)
        collection(resp, [entry(self.api, req, m) for m in found], total, offset)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        spec = {"fqdn_listname": as_str, "style_name": one_of(*STYLES)}
        args = read_fields(self.api.body(req), spec, required=["fqdn_listname"])
        lists = self.api.site.lists
        name = args["fqdn_listname"]
        if lists.get(name) is not None:
            raise bad_request("Mailing list exists")
        domain = name.rpartition("@")[2]
        if "@" in name and self.api.site.domains.get(domain) is None:
            raise bad_request(f"Domain does not exist: {domain}")
        mlist = lists.create(name, create_domain=False)
        changes = STYLES[args.get("style_name", DEFAULT_STYLE)][1]
        if changes:
            lists.update(mlist, **changes)
        resp.status = falcon.HTTP_201
        resp.location = self.api.link(req, "lists", mlist.list_id)


class Styles:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        styles = [{"name": name, "description": text} for name, (text, _) in STYLES.items()]
        respond(
            resp,
            {"style_names": sorted(STYLES), "styles": styles, "default": DEFAULT_STYLE},
        )


class FindLists:
    """The lists a subscriber (an email or a user id) has a role on; 404 when none."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.api.body(req)
        values = dict(body.values)
        paged: dict[str, Any] = {
            key: values.pop(key)[0] for key in ("count", "page") if key in values
        }
        spec = {"subscriber": as_str, "role": one_of("owner", "moderator", "member", "nonmember")}
        args = read_fields(Body(values, body.is_json), spec, required=["subscriber"])
        found = self._find(args["subscriber"], args.get("role"))
        if not found:
            raise falcon.HTTPNotFound(title="404 Not Found", description="No matching lists")
        page, offset = page_of(req, found, paged or None)
        collection(resp, [entry(self.api, req, m) for m in page], len(found), offset)

    on_get = on_post

    def _find(self, subscriber: str, role: str | None) -> list[IMailingList]:
        site = self.api.site
        if "@" in subscriber:
            emails = [as_email(subscriber)]
        else:
            user = site.users.get_user(subscriber)
            emails = [a.email for a in user.addresses] if user else []
        list_ids = sorted(
            {
                m.list_id
                for email in emails
                for m in site.lists.find_members(email=email)
                if (m.role == role if role else m.role != "nonmember")
            }
        )
        return [mlist for mlist in map(site.lists.get, list_ids) if mlist is not None]


class MailingList:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        respond(resp, entry(self.api, req, require_list(self.api, name)))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        self.api.site.lists.remove(require_list(self.api, name))
        resp.status = falcon.HTTP_204


def config_json(api: Api, req: falcon.Request, mlist: IMailingList) -> dict[str, Any]:
    data = {name: getattr(mlist, name) for name in (*READ_ONLY, *setting_types())}
    for name, value in data.items():
        if isinstance(value, tuple):
            data[name] = list(value)
        elif hasattr(value, "isoformat"):
            data[name] = value.replace(tzinfo=None).isoformat()
    data["self_link"] = api.link(req, "lists", mlist.list_id, "config")
    return data


class Config:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        respond(resp, config_json(self.api, req, require_list(self.api, name)))

    def on_patch(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        self._update(req, resp, name, complete=False)

    def on_put(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        self._update(req, resp, name, complete=True)

    def _update(
        self, req: falcon.Request, resp: falcon.Response, name: str, complete: bool
    ) -> None:
        mlist = require_list(self.api, name)
        body = self.api.body(req)
        read_only = sorted(set(body.values) & READ_ONLY)
        if read_only:
            raise bad_request(f"Read-only attribute: {', '.join(read_only)}")
        spec = settings_spec()
        args = read_fields(body, spec, required=spec if complete else ())
        check_pipelines(self.api, args)
        check_languages(self.api.site.config, args)
        self.api.site.lists.update(mlist, **args)
        resp.status = falcon.HTTP_204


class ConfigAttribute:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str, attr: str) -> None:
        data = config_json(self.api, req, require_list(self.api, name))
        if attr not in data or attr == "self_link":
            raise falcon.HTTPNotFound(
                title="404 Not Found", description=f"Unknown attribute: {attr}"
            )
        respond(resp, {attr: data[attr]})

    def on_patch(self, req: falcon.Request, resp: falcon.Response, name: str, attr: str) -> None:
        """``{attr: value}``: one setting, checked as in a PATCH of the whole config."""
        mlist = require_list(self.api, name)
        if attr in READ_ONLY:
            raise bad_request(f"Read-only attribute: {attr}")
        spec = settings_spec()
        if attr not in spec:
            raise falcon.HTTPNotFound(
                title="404 Not Found", description=f"Unknown attribute: {attr}"
            )
        args = read_fields(self.api.body(req), {attr: spec[attr]}, required=[attr])
        check_pipelines(self.api, args)
        check_languages(self.api.site.config, args)
        self.api.site.lists.update(mlist, **args)
        resp.status = falcon.HTTP_204

    on_put = on_patch


def check_pipelines(api: Api, args: dict[str, Any]) -> None:
    """A list may only name a pipeline that exists (Mailman checks it too)."""
    for key in ("posting_pipeline", "owner_pipeline"):
        if key in args and args[key] not in pipeline_descriptions(api.site):
            raise bad_request(f'Invalid Parameter "{key}": Unknown pipeline: {args[key]}')


class Archivers:
    """Per-list switches over the site-enabled archivers (stored in ``disabled_archivers``)."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def _enabled(self) -> list[str]:
        return [name for name, on in configured_archivers(self.api.site).items() if on]

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        mlist = require_list(self.api, name)
        off = set(mlist.disabled_archivers)
        respond(resp, {archiver: archiver not in off for archiver in self._enabled()})

    def on_patch(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        mlist = require_list(self.api, name)
        spec = dict.fromkeys(self._enabled(), as_bool)
        args = read_fields(self.api.body(req), spec)
        off = set(mlist.disabled_archivers)
        off |= {archiver for archiver, on in args.items() if not on}
        off -= {archiver for archiver, on in args.items() if on}
        self.api.site.lists.update(mlist.list_id, disabled_archivers=tuple(sorted(off)))
        resp.status = falcon.HTTP_204

    on_put = on_patch


def add_routes(app: RestApp, api: Api, prefix: str) -> None:
    app.add_route(f"{prefix}/lists", Lists(api))
    app.add_route(f"{prefix}/lists/styles", Styles(api))
    app.add_route(f"{prefix}/lists/find", FindLists(api))
    app.add_route(f"{prefix}/lists/{{name}}", MailingList(api))
    app.add_route(f"{prefix}/lists/{{name}}/config", Config(api))
    app.add_route(f"{prefix}/lists/{{name}}/config/{{attr}}", ConfigAttribute(api))
    app.add_route(f"{prefix}/lists/{{name}}/archivers", Archivers(api))

"""The REST application: a falcon App speaking GNU Mailman's REST API 3.1 over a Site.

Web front ends written for Mailman (mailmanclient, Postorius, HyperKitty) depend on the
wire details, so those follow Mailman: HTTP basic auth on every request, JSON objects
carrying ``self_link`` and ``http_etag``, collections that leave ``entries`` out when a
page is empty, ``count``/``page`` paging, errors as ``{title, description}``.  Where
Mailman answers 500 to bad input (``page`` without ``count``) we answer 400.

Resources live one family per module; each module's ``add_routes(app, api, prefix)``
mounts them under ``/3.0`` and ``/3.1``.  Every write goes through the site's managers,
so REST changes fire the same events as the command line.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeAlias

import falcon

from posthorn.errors import AlreadyMemberError, PosthornError
from posthorn.rest.fields import Body, as_int, bad_request, read_body, read_fields
from posthorn.site import Site

__all__ = ["Api", "RestApp", "collection", "create_app", "iso", "paging", "respond"]

log = logging.getLogger("posthorn.rest")

RestApp: TypeAlias = "falcon.App[falcon.Request, falcon.Response]"

VERSIONS = ("3.0", "3.1")
REALM = 'Basic realm="mailman3-rest",charset="utf-8"'
# Offsets past this are certainly past the end; it keeps SQL integers in range.
_MAX_OFFSET = 2**62


class Api:
    """What every resource needs: the site, the base of self links, the body limit."""

    def __init__(self, site: Site) -> None:
        section = site.config["webservice"]
        self.site = site
        self.root = f"http://{section.get_str('hostname')}:{section.get_int('port')}"
        self.max_body_size = section.get_int("max_body_size")
        self._user = section.get_str("admin_user").encode("utf-8")
        self._password = section.get_str("admin_pass").encode("utf-8")

    def link(self, req: falcon.Request, *parts: str) -> str:
        """An absolute URL under the request's API version, from the configured host."""
        version = req.path.split("/")[1]
        return "/".join((self.root, version, *parts))

    def body(self, req: falcon.Request) -> Body:
        return read_body(req, self.max_body_size)

    def authorized(self, header: str | None) -> bool:
        """Basic credentials match; both parts compared in constant time."""
        if not header or not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        user, sep, password = decoded.partition(b":")
        user_ok = hmac.compare_digest(user, self._user)
        password_ok = hmac.compare_digest(password, self._password)
        # An empty password is never a credential, whatever the settings say.
        return bool(sep) and bool(self._password) and user_ok and password_ok


def etag(data: Mapping[str, Any]) -> str:
    """A quoted sha1 of the content: stable for equal content, as clients expect.

    The content is hashed through ``repr`` of its sorted items, not through JSON: the
    values are plain JSON types, whose ``repr`` is as stable, and several times cheaper
    than encoding (a 1,000-member roster page hashes 1,001 objects).
    """
    text = repr(sorted(data.items()))
    return '"' + hashlib.sha1(text.encode("utf-8")).hexdigest() + '"'


def tagged(data: dict[str, Any]) -> dict[str, Any]:
    """The resource with its ``http_etag`` added."""
    data["http_etag"] = etag(data)
    return data


def respond(resp: falcon.Response, data: dict[str, Any]) -> None:
    resp.media = tagged(data)


def iso(moment: datetime | None) -> str | None:
    """Naive UTC ISO 8601, the way Mailman writes dates."""
    if moment is None:
        return None
    return moment.replace(tzinfo=None).isoformat()


def paging(req: falcon.Request, given: Mapping[str, Any] | None = None) -> tuple[int, int | None]:
    """``(offset, limit)`` from ``count`` and ``page`` (1-based); everything without them.

    They come from the query string, or from ``given`` (a POST body that carries them).
    """
    params = given if given is not None else req.params
    count = _positive(params, "count", minimum=0)
    page = _positive(params, "page", minimum=1)
    if count is None:
        if page is not None:
            raise bad_request('The "page" parameter needs a "count".', "Invalid parameter")
        return 0, None
    return min((page or 1) - 1, _MAX_OFFSET // max(count, 1)) * count, count


def _positive(params: Mapping[str, Any], name: str, *, minimum: int) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        value = as_int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise bad_request(
            f'The "{name}" parameter is invalid. The value must be an integer'
            + (" greater than 0." if minimum else "."),
            "Invalid parameter",
        )
    return value


def collection(
    resp: falcon.Response, entries: Sequence[dict[str, Any]], total: int, offset: int = 0
) -> None:
    """A page of a collection; ``entries`` is left out when empty, as clients check."""
    data: dict[str, Any] = {"start": offset, "total_size": total}
    if entries:
        data["entries"] = [tagged(entry) for entry in entries]
    # The page's tag covers its entries through their tags, so no entry is hashed twice.
    summary = {"start": offset, "total_size": total, "tags": [e["http_etag"] for e in entries]}
    data["http_etag"] = etag(summary)
    resp.media = data


def page_of(
    req: falcon.Request, items: Sequence[Any], given: Mapping[str, Any] | None = None
) -> tuple[Sequence[Any], int]:
    """Slice an in-memory sequence by the request's paging; the page and its offset."""
    offset, limit = paging(req, given)
    end = None if limit is None else offset + limit
    return items[offset:end], offset


def fields_from_query(req: falcon.Request, spec: Mapping[str, Any]) -> dict[str, Any]:
    """Check the query string like a body (paging keys allowed and left to ``paging``)."""
    values = {k: v if isinstance(v, list) else [v] for k, v in req.params.items()}
    values.pop("count", None)
    values.pop("page", None)
    return read_fields(values, spec)


class _Auth:
    """Every request needs the admin credentials; there is no anonymous access."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not self.api.authorized(req.get_header("Authorization")):
            raise falcon.HTTPUnauthorized(
                title="401 Unauthorized",
                description="REST API authorization failed",
                challenges=[REALM],
            )
        length = req.content_length
        if length is not None and length > self.api.max_body_size:
            raise falcon.HTTPContentTooLarge(
                title="413 Payload Too Large",
                description=f"The body exceeds {self.api.max_body_size} bytes.",
            )


def _status_of(error: PosthornError) -> int:
    if isinstance(error, AlreadyMemberError):
        return 409
    if isinstance(error, LookupError):
        return 404
    return 400


def _on_posthorn_error(
    req: falcon.Request, resp: falcon.Response, error: Exception, params: dict[str, Any]
) -> None:
    assert isinstance(error, PosthornError)
    status = _status_of(error)
    raise falcon.HTTPError(
        falcon.code_to_http_status(status),
        title=falcon.code_to_http_status(status),
        description=str(error),
    )


def _on_unexpected(
    req: falcon.Request, resp: falcon.Response, error: Exception, params: dict[str, Any]
) -> None:
    if isinstance(error, falcon.HTTPError):
        raise error
    log.exception("%s %s failed", req.method, req.path)
    raise falcon.HTTPInternalServerError(
        title="500 Internal Server Error", description="The server failed; see its log."
    )


def _serialize(req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError) -> None:
    """Errors are always JSON, whatever the client said it accepts."""
    resp.content_type = falcon.MEDIA_JSON
    data = error.to_dict()
    if not data.get("title"):
        data["title"] = error.status
    resp.text = json.dumps(data)


def create_app(site: Site) -> RestApp:
    """The WSGI application for one site."""
    from posthorn.rest import (
        addresses,
        bans,
        domains,
        header_matches,
        held,
        lists,
        members,
        preferences,
        queues,
        requests,
        system,
        uris,
        users,
    )

    api = Api(site)
    app = falcon.App(middleware=[_Auth(api)])
    app.set_error_serializer(_serialize)
    app.add_error_handler(Exception, _on_unexpected)
    app.add_error_handler(PosthornError, _on_posthorn_error)
    for version in VERSIONS:
        prefix = f"/{version}"
        modules = (system, domains, lists, members, users, addresses, held, requests, preferences)
        for module in modules:
            module.add_routes(app, api, prefix)
        for module in (bans, header_matches, uris, queues):
            module.add_routes(app, api, prefix)
    return app

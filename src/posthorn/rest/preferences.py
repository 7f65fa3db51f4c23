"""``…/preferences``: delivery preferences of users, addresses, members and the site.

One resource class serves the three levels that store preferences; each level only
says how to find its key and which manager methods read and write it.  GET returns
only what is set at that level (clients treat a missing key as "not set"), PATCH
changes what is given, PUT replaces the whole set (whatever it leaves out is unset),
DELETE unsets them all.
``members/{id}/all/preferences`` and ``system/preferences`` are read-only and return
every preference: what applies to the member after falling through, and the site's
defaults.  Names, values and precedence live in ``posthorn.preferences``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, get_args

import falcon

from posthorn.interfaces.lists import DeliveryMode, DeliveryStatus
from posthorn.preferences import effective_preferences, system_preferences
from posthorn.rest.addresses import require_address
from posthorn.rest.app import Api, RestApp, respond
from posthorn.rest.fields import Converter, as_bool, as_str, check_languages, one_of, read_fields
from posthorn.rest.members import require_member
from posthorn.rest.users import require_user

__all__ = ["add_routes"]

SPEC: Mapping[str, Converter] = {
    "acknowledge_posts": as_bool,
    "delivery_mode": one_of(*get_args(DeliveryMode)),
    "delivery_status": one_of(*get_args(DeliveryStatus)),
    "hide_address": as_bool,
    "preferred_language": as_str,
    "receive_list_copy": as_bool,
    "receive_own_postings": as_bool,
}


@dataclass(frozen=True)
class Level:
    """Where one level keeps its preferences: key from the path, read, write."""

    collection: str
    param: str
    key: Callable[[Api, str], str]
    read: Callable[[Api, str], Mapping[str, Any]]
    write: Callable[[Api, str, Mapping[str, Any], bool], Mapping[str, Any]]


USER = Level(
    "users",
    "user",
    lambda api, given: require_user(api, given).user_id,
    lambda api, key: api.site.users.user_preferences(key),
    lambda api, key, changes, replace: api.site.users.set_user_preferences(
        key, changes, replace=replace
    ),
)
ADDRESS = Level(
    "addresses",
    "email",
    lambda api, given: require_address(api, given).email,
    lambda api, key: api.site.users.address_preferences(key),
    lambda api, key, changes, replace: api.site.users.set_address_preferences(
        key, changes, replace=replace
    ),
)
MEMBER = Level(
    "members",
    "member_id",
    lambda api, given: require_member(api, given).member_id,
    lambda api, key: api.site.lists.member_preferences(key),
    lambda api, key, changes, replace: api.site.lists.set_member_preferences(
        key, changes, replace=replace
    ),
)


class Preferences:
    def __init__(self, api: Api, level: Level) -> None:
        self.api = api
        self.level = level

    def on_get(self, req: falcon.Request, resp: falcon.Response, **path: str) -> None:
        found = self.level.key(self.api, path[self.level.param])
        data = dict(self.level.read(self.api, found))
        data["self_link"] = self.api.link(req, self.level.collection, found, "preferences")
        respond(resp, data)

    def _write(self, req: falcon.Request, resp: falcon.Response, given: str, replace: bool) -> None:
        changes = read_fields(self.api.body(req), SPEC)
        check_languages(self.api.site.config, changes)
        self.level.write(self.api, self.level.key(self.api, given), changes, replace)
        resp.status = falcon.HTTP_204

    # Path fields are named as in the level's other routes (falcon insists).
    def on_patch(self, req: falcon.Request, resp: falcon.Response, **path: str) -> None:
        self._write(req, resp, path[self.level.param], False)

    def on_put(self, req: falcon.Request, resp: falcon.Response, **path: str) -> None:
        self._write(req, resp, path[self.level.param], True)

    def on_delete(self, req: falcon.Request, resp: falcon.Response, **path: str) -> None:
        """Unset every preference at this level: each reads as inherited again."""
        self.level.write(self.api, self.level.key(self.api, path[self.level.param]), {}, True)
        resp.status = falcon.HTTP_204


class AllMemberPreferences:
    """What applies to the member: its own, else its address's, user's, the site's."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, member_id: str) -> None:
        member = require_member(self.api, member_id)
        data = effective_preferences(self.api.site, member)
        data["self_link"] = self.api.link(req, "members", member_id, "all", "preferences")
        respond(resp, data)


class SystemPreferences:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = system_preferences(self.api.site.config)
        data["self_link"] = self.api.link(req, "system", "preferences")
        respond(resp, data)


def add_routes(app: RestApp, api: Api, prefix: str) -> None:
    for level in (USER, ADDRESS, MEMBER):
        route = f"{prefix}/{level.collection}/{{{level.param}}}/preferences"
        app.add_route(route, Preferences(api, level))
    app.add_route(f"{prefix}/members/{{member_id}}/all/preferences", AllMemberPreferences(api))
    app.add_route(f"{prefix}/system/preferences", SystemPreferences(api))

"""``system/``: versions, the effective configuration, and default preferences.

The configuration dump is read-only and leaves secrets out: a front end showing the
system page has no business seeing the REST or SMTP password.
"""

from __future__ import annotations

import platform

import falcon

import posthorn
from posthorn.rest.app import Api, RestApp, respond

__all__ = ["DEFAULT_PREFERENCES", "add_routes"]

# Mailman's system-wide defaults; a user, address or member overrides them.
DEFAULT_PREFERENCES = {
    "acknowledge_posts": False,
    "delivery_mode": "regular",
    "delivery_status": "enabled",
    "hide_address": True,
    "preferred_language": "en",
    "receive_list_copy": True,
    "receive_own_postings": True,
}
_SECRET_KEYS = frozenset({"admin_pass", "smtp_pass", "password"})


class Versions:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        respond(
            resp,
            {
                "mailman_version": f"Posthorn {posthorn.__version__}",
                "python_version": platform.python_version(),
                "api_version": req.path.split("/")[1],
                "self_link": self.api.link(req, "system", "versions"),
            },
        )


class Configuration:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        names = sorted(self.api.site.config.section_names)
        respond(
            resp, {"sections": names, "self_link": self.api.link(req, "system", "configuration")}
        )


class ConfigurationSection:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, section: str) -> None:
        config = self.api.site.config
        if section not in config.section_names:
            raise falcon.HTTPNotFound(title="404 Not Found", description=f"No section {section}")
        body = config[section]
        data = {key: "" if key in _SECRET_KEYS else body.raw(key) for key in body}
        data["self_link"] = self.api.link(req, "system", "configuration", section)
        respond(resp, data)


class Preferences:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = dict(DEFAULT_PREFERENCES, self_link=self.api.link(req, "system", "preferences"))
        data["preferred_language"] = self.api.site.config["posthorn"].get_str("default_language")
        respond(resp, data)


def add_routes(app: RestApp, api: Api, prefix: str) -> None:
    app.add_route(f"{prefix}/system/versions", Versions(api))
    app.add_route(f"{prefix}/system/configuration", Configuration(api))
    app.add_route(f"{prefix}/system/configuration/{{section}}", ConfigurationSection(api))
    app.add_route(f"{prefix}/system/preferences", Preferences(api))

"""``system/``: versions and the effective configuration (preferences: ``preferences.py``).

The configuration dump is read-only and leaves secrets out: a front end showing the
system page has no business seeing the REST or SMTP password.
"""

from __future__ import annotations

import platform

import falcon

import posthorn
from posthorn.rest.app import Api, RestApp, respond

__all__ = ["add_routes"]

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


def add_routes(app: RestApp, api: Api, prefix: str) -> None:
    app.add_route(f"{prefix}/system/versions", Versions(api))
    app.add_route(f"{prefix}/system/configuration", Configuration(api))
    app.add_route(f"{prefix}/system/configuration/{{section}}", ConfigurationSection(api))

"""``system/``: versions, the effective configuration, pipelines and chains.

(Preferences: ``preferences.py``.)  The configuration dump is read-only and leaves
secrets out: a front end showing the system page has no business seeing the REST or
SMTP password.  ``pipelines`` and ``chains`` carry Mailman's sorted ``pipelines`` /
``chains`` name lists (Postorius offers them as a list's choices), plus a
``descriptions`` mapping of each name to one line.
"""

from __future__ import annotations

import platform

import falcon

import posthorn
from posthorn.pipelines import ALIASES
from posthorn.rest.app import Api, RestApp, respond
from posthorn.site import Site

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


def pipeline_descriptions(site: Site) -> dict[str, str]:
    """Every pipeline a list may name (Mailman's names too) and its handlers."""
    config = site.config
    names = {
        name: "Handlers: " + ", ".join(config[f"pipeline.{name}"].get_list("handlers"))
        for name in config.named("pipeline")
    }
    for alias, target in ALIASES.items():
        if target in names:
            names[alias] = f"Mailman's name for the {target} pipeline. {names[target]}"
    return names


def chain_descriptions(site: Site) -> dict[str, str]:
    """Every chain a list or a header match may name, and what it does."""
    described: dict[str, str] = {}
    for name in site.registry.names("chain"):
        try:
            described[name] = str(getattr(site.registry.load("chain", name), "description", ""))
        except Exception:  # an entry point that fails to import still has a name
            described[name] = ""
    described.setdefault("defer", "Go on to the next rule, as if nothing had matched.")
    return described


class Pipelines:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        described = pipeline_descriptions(self.api.site)
        link = self.api.link(req, "system", "pipelines")
        respond(
            resp, {"pipelines": sorted(described), "descriptions": described, "self_link": link}
        )


class Chains:
    def __init__(self, api: Api) -> None:
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        described = chain_descriptions(self.api.site)
        link = self.api.link(req, "system", "chains")
        data = {"chains": sorted(described), "descriptions": described, "self_link": link}
        respond(resp, data)


def add_routes(app: RestApp, api: Api, prefix: str) -> None:
    app.add_route(f"{prefix}/system/pipelines", Pipelines(api))
    app.add_route(f"{prefix}/system/chains", Chains(api))
    app.add_route(f"{prefix}/system/versions", Versions(api))
    app.add_route(f"{prefix}/system/configuration", Configuration(api))
    app.add_route(f"{prefix}/system/configuration/{{section}}", ConfigurationSection(api))

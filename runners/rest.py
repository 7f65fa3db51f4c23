"""The REST runner: serves the REST API (``posthorn.rest``) for web front ends.

It listens on ``[webservice] hostname``:``port`` with waitress, a production WSGI server,
in a thread of its own (``[webservice] threads`` workers), while the runner's asyncio
loop waits for the stop signal; then it closes the listener and the workers.  Logs as
``posthorn.rest``.

Safe by default: an empty admin password is refused on every address (on loopback
too, every local user could call the API), and the shipped one, public knowledge, is
refused beyond loopback.  ``posthorn start`` checks this before it forks anything, and
the runner checks again, as a configuration error the master does not retry.
"""

from __future__ import annotations

import asyncio
import base64
import io
import ipaddress
import threading
from typing import Any

from waitress.server import create_server

from posthorn.config import Config, ConfigError
from posthorn.rest import create_app
from posthorn.rest.app import RestApp
from posthorn.runners.base import ServiceRunner
from posthorn.site import Site

__all__ = ["SHIPPED_PASSWORD", "RestRunner"]

SHIPPED_PASSWORD = "restpass"
# How long a stopping runner waits for requests in progress.
STOP_GRACE = 5.0
BODY_MARGIN = 64 * 1024


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RestRunner(ServiceRunner):
    """The HTTP server in front of ``posthorn.rest.create_app``."""

    # The application the master built (``preload``), with the site it was built on.
    _preloaded: tuple[Site, RestApp] | None = None

    def __init__(self, site: Site, name: str, *, slice: int = 0, count: int = 1) -> None:
        super().__init__(site, name, slice=slice, count=count)
        section = site.config["webservice"]
        self.host = section.get_str("hostname")
        self.port = section.get_int("port")
        self.threads = section.get_int("threads")
        self.max_body_size = section.get_int("max_body_size")
        self.check_config(site.config)

    @classmethod
    def check_config(cls, config: Config) -> None:
        section = config["webservice"]
        host = section.get_str("hostname")
        password = section.get_str("admin_pass")
        if password == "":
            weakness = "an empty password"
        elif password == SHIPPED_PASSWORD and not is_loopback(host):
            weakness = "the shipped password"
        else:
            return
        raise ConfigError(
            f"refusing to serve REST on {host} with {weakness}; set admin_pass",
            file=section.source("admin_pass"),
            section="webservice",
            key="admin_pass",
        )

    @classmethod
    def preload(cls, site: Site) -> None:
        """Build the application in the master, and answer one request with it.

        Building it (falcon's routes, responders and media handlers) and answering its
        first request (the router compiled into code, the MIME types read) wrote some
        9 MiB in the runner, copied from the master's shared pages or new; done before
        the fork, the runner shares them (``bench/memory_bench.py site``).
        """
        app = create_app(site)
        _warm(app, site.config)
        cls._preloaded = (site, app)

    def app(self) -> RestApp:
        """The master's application when it was built on this runner's site, else a new one."""
        if self._preloaded is not None and self._preloaded[0] is self.site:
            return self._preloaded[1]
        return create_app(self.site)

    async def serve(self, stopping: asyncio.Event) -> None:
        server = create_server(
            self.app(),
            host=self.host,
            port=self.port,
            threads=self.threads,
            # Above our own limit, so that the application answers 413 in JSON; this
            # one only bounds what a chunked body can make waitress buffer.
            max_request_body_size=self.max_body_size + BODY_MARGIN,
            ident="Posthorn",
            clear_untrusted_proxy_headers=True,
        )
        thread = threading.Thread(target=server.run, name="rest-http", daemon=True)
        thread.start()
        self.log.info("serving REST on http://%s:%d", self.host, self.port)
        try:
            await stopping.wait()
        finally:
            server.close()
            server.task_dispatcher.shutdown(timeout=STOP_GRACE)
            await asyncio.to_thread(thread.join, STOP_GRACE)
            self.log.info("stopped serving REST")


def _warm(app: RestApp, config: Config) -> None:
    """One authorized request that needs no database: ``GET /3.1/system/versions``."""
    section = config["webservice"]
    credentials = f"{section.get_str('admin_user')}:{section.get_str('admin_pass')}"
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/3.1/system/versions",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode(),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
    }
    for _ in app(environ, _start_response):
        pass


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    return None

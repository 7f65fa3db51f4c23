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
from posthorn.runners.base import ExitCode, ServiceRunner
from posthorn.runners.listening import Idleness, Listeners, listen_for
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

    # What the master made before forking (``preload``): the site, the application built
    # on it, and the sockets it listens on for every REST runner it starts (None when it
    # could not bind them: the runner then tries itself, and reports why it cannot).
    _preloaded: tuple[Site, RestApp, Listeners | None] | None = None

    def __init__(self, site: Site, name: str, *, slice: int = 0, count: int = 1) -> None:
        super().__init__(site, name, slice=slice, count=count)
        section = site.config["webservice"]
        self.host = section.get_str("hostname")
        self.port = section.get_int("port")
        self.threads = section.get_int("threads")
        self.max_body_size = section.get_int("max_body_size")
        self.idleness = Idleness(self.section.get_float("max_idle"), self.sleep_time)
        self.check_config(site.config)
        self._idle_out = False

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
        """Build the application in the master, answer one request with it, and listen.

        Building it (falcon's routes, responders and media handlers) and answering its
        first request (the router compiled into code, the MIME types read) wrote some
        9 MiB in the runner, copied from the master's shared pages or new; done before
        the fork, the runner shares them (``bench/memory_bench.py site``).  With the
        master listening, the runner can be recycled when idle (``max_idle``).
        """
        app = create_app(site)
        _warm(app, site.config)
        section = site.config["webservice"]
        host, port = section.get_str("hostname"), section.get_int("port")
        cls._preloaded = (site, app, listen_for("REST", host, port))

    def _from_master(self) -> tuple[RestApp, Listeners | None] | None:
        if self._preloaded is not None and self._preloaded[0] is self.site:
            return self._preloaded[1], self._preloaded[2]
        return None

    def app(self) -> RestApp:
        """The master's application when it was built on this runner's site, else a new one."""
        prepared = self._from_master()
        return prepared[0] if prepared is not None else create_app(self.site)

    def run(self) -> ExitCode:
        code = super().run()
        if code == ExitCode.OK and self._idle_out:
            return ExitCode.RECYCLE
        return code

    async def serve(self, stopping: asyncio.Event) -> None:
        prepared = self._from_master()
        listeners = prepared[1] if prepared is not None else None
        where: dict[str, Any] = (
            {"sockets": listeners.sockets}
            if listeners is not None
            else {"host": self.host, "port": self.port}
        )
        server = create_server(
            self._counted(self.app()),
            **where,
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
            # Only while the master listens: on our own socket, exiting would refuse
            # connections until the next runner listens.
            if listeners is not None and self.idleness.max_idle:
                dispatcher = server.task_dispatcher
                busy = lambda: bool(dispatcher.active_count or dispatcher.queue)  # noqa: E731
                if await self.idleness.wait(stopping, busy, []):
                    self.log.info("idle for %gs after %d requests; exiting to be recycled",
                                  self.idleness.max_idle, self.idleness.served)  # fmt: skip
                    self._idle_out = True
            else:
                await stopping.wait()
        finally:
            server.close()
            server.task_dispatcher.shutdown(timeout=STOP_GRACE)
            await asyncio.to_thread(thread.join, STOP_GRACE)
            self.log.info("stopped serving REST")

    def _counted(self, app: RestApp) -> Any:
        """``app``, noting when each request came (for ``max_idle``)."""

        def counted(environ: dict[str, Any], start_response: Any) -> Any:
            self.idleness.touch(served=True)
            return app(environ, start_response)

        return counted


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

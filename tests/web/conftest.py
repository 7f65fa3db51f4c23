"""One Posthorn site, one Django site (Postorius + HyperKitty) and one browser per module.

``stack`` starts a master with the runners a post needs, its MTA an SMTP sink, and the
``hyperkitty`` archiver pointing at the Django site; then the Django site, whose REST
settings point at the master.  ``browser`` is Debian's chromium driven by Playwright;
every request it makes off loopback is refused, so pages never reach the network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from tests.peers import peer_venv
from tests.processes import free_port
from tests.sites import master_with_sink
from tests.smtpsink import SMTPSink
from tests.waiting import wait_for
from tests.web.server import ADMIN, ARCHIVER_KEY, REQUIREMENTS, DjangoSite, Rest, migrated_state

CHROMIUM = Path("/usr/bin/chromium")
RUNNERS = ("lmtp", "incoming", "pipeline", "outgoing", "retry", "virgin", "archive", "rest")
REST_USER, REST_PASS = "restadmin", "a-rest-password"


def chromium() -> Path:
    """Debian's chromium, installed if it is missing; a skip where it cannot be."""
    # A stale package list makes the first install fail; then update and try again.
    for step in (["install", "chromium"], ["update"], ["install", "chromium"]):
        if CHROMIUM.exists() or not shutil.which("apt-get"):
            break
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "-y", "-q", *step], capture_output=True, timeout=900,
                       env=env, check=False)  # fmt: skip
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed and apt-get could not install it")
    return CHROMIUM


@pytest.fixture(scope="session")
def web_bin() -> Path:
    return peer_venv("web", REQUIREMENTS)


@pytest.fixture(scope="session")
def web_template(web_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_state(web_bin, tmp_path_factory.mktemp("web") / "template")


@dataclass
class Stack:
    site_file: Path
    lmtp_port: int
    sink: SMTPSink
    rest: Rest
    web: DjangoSite

    @property
    def url(self) -> str:
        return self.web.url


@pytest.fixture(scope="module")
def stack(
    web_bin: Path, web_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("stack")
    rest_port, web_port = free_port(), free_port()
    rest = Rest(f"http://127.0.0.1:{rest_port}", REST_USER, REST_PASS)
    sections = {
        "webservice": {"port": rest_port, "admin_user": REST_USER, "admin_pass": REST_PASS},
        "archiver.hyperkitty": {
            "enable": "yes",
            "base_url": f"http://127.0.0.1:{web_port}/hyperkitty",
            "api_key": ARCHIVER_KEY,
        },
        "runner.archive": {"retry_base": "1s", "retry_max": "2s"},
        # DMARC look-ups (a tab turns mitigation on) go to a closed loopback port.
        "dmarc": {"nameservers": "127.0.0.1", "port": free_port(), "timeout": "200ms"},
    }
    web = DjangoSite(web_bin, web_template, tmp / "web", web_port, rest)
    web.prepare()
    with master_with_sink(tmp, running=RUNNERS, arrange=lambda site: None,
                          extra_sections=sections) as (site_file, lmtp_port, sink):  # fmt: skip
        wait_for(lambda: _answers(rest.url), "the REST API")
        web.start()
        try:
            yield Stack(site_file, lmtp_port, sink, rest, web)
        finally:
            web.stop()


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(f"{url}/3.1/system/versions", timeout=2).close()
    except urllib.error.HTTPError as error:
        error.close()
        return True  # it answers, if only to say who may ask
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    path = chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(path), args=["--no-sandbox"])
        yield launched
        launched.close()


def logged_in(browser: Browser, stack: Stack, user: str, password: str) -> Page:
    """A page of a new browser context logged in as ``user``, kept on loopback."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    context.route("**/*", _loopback_only)
    page = context.new_page()
    page.goto(f"{stack.url}/accounts/login/")
    page.fill("input[name=login]", user)
    page.fill("input[name=password]", password)
    page.locator("form.login button[type=submit], form button[type=submit]").first.click()
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    return page


@pytest.fixture(scope="module")
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    """A page logged in as the site administrator (a Django superuser)."""
    page = logged_in(browser, stack, ADMIN[0], ADMIN[2])
    yield page
    page.context.close()


def _loopback_only(route: Route) -> None:
    host = urlsplit(route.request.url).hostname
    if host in ("127.0.0.1", "localhost"):
        route.continue_()
    else:
        route.abort()

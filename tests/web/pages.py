"""What the browser tests do on a page, and how they ask Posthorn what a page changed.

``open_page`` loads a URL and fails on anything but HTTP 200 or on Postorius's error
page; ``set_field`` fills a form field whatever its widget; ``submit`` clicks the
form's button and returns the alerts the next page shows; ``rest`` asks Posthorn's REST
API directly, as Postorius would, to see what a page stored.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import Locator, Page

from tests.web.server import Rest

ERROR_TEXT = "Something went wrong"


def page_problem(page: Page, status: int | None) -> str | None:
    """Why the loaded page is not a good one (its status, Postorius's error), or None."""
    if status != 200:
        return f"HTTP {status}"
    if page.locator(f"text={ERROR_TEXT}").count():
        alerts = page.locator(".alert, .card-body, main").all_inner_texts()
        return f"{ERROR_TEXT}: {' / '.join(a.strip() for a in alerts)[:300]}"
    return None


def open_page(page: Page, url: str) -> None:
    response = page.goto(url)
    problem = page_problem(page, response.status if response else None)
    assert problem is None, f"{url}: {problem}"


def set_field(page: Page, name: str, value: str | bool) -> None:
    """Give form field ``name`` the ``value``: text, select, radio or checkbox alike."""
    first = page.locator(f"[name='{name}']").first
    kind = first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
    if kind.startswith("select"):
        first.select_option(str(value))
    elif kind == "input:radio":
        page.check(f"input[name='{name}'][value='{value}']")
    elif kind == "input:checkbox":
        first.set_checked(bool(value))
    else:
        first.fill(str(value))


def submit(page: Page, form: Locator) -> list[str]:
    """Click the form's submit button; the alerts the page that follows shows."""
    with page.expect_navigation():
        form.locator("button[type=submit], input[type=submit]").first.click()
    problem = page_problem(page, 200)
    assert problem is None, f"{page.url}: {problem}"
    return [text.strip() for text in page.locator(".alert").all_inner_texts()]


def form_of(page: Page, field: str) -> Locator:
    return page.locator("form", has=page.locator(f"[name='{field}']")).first


def rest(server: Rest, path: str) -> Any:
    """GET ``path`` (after the version) from Posthorn's REST API, parsed."""
    request = urllib.request.Request(f"{server.url}/3.1/{path}")
    token = base64.b64encode(f"{server.user}:{server.password}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def needs_resource(server: Rest, path: str) -> None:
    """Skip, naming it, while Posthorn lacks a REST resource a page is built on."""
    try:
        rest(server, path)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 404:
            pytest.skip(f"Posthorn's REST API has no {path} yet")
        raise

"""Events reach every subscriber; a failing subscriber does not stop the others."""

from __future__ import annotations

import logging

import pytest

from posthorn.events import Event, EventBus, ListCreatedEvent

received: list[Event] = []


def recording_subscriber(event: Event) -> None:
    """Named in configuration by its dotted path in the test below."""
    received.append(event)


def test_subscribers_by_dotted_path() -> None:
    received.clear()
    bus = EventBus.from_names(["tests.test_events:recording_subscriber"])
    event = ListCreatedEvent(list_id="dev.example.org", fqdn_listname="dev@example.org")
    bus.notify(event)
    assert received == [event]


def test_a_failing_subscriber_is_logged_and_the_rest_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[Event] = []

    def broken(event: Event) -> None:
        raise RuntimeError("outside system down")

    bus = EventBus([broken, seen.append])
    event = ListCreatedEvent(list_id="a.example.org", fqdn_listname="a@example.org")
    with caplog.at_level(logging.ERROR, logger="posthorn.events"):
        bus.notify(event)
    assert seen == [event]
    assert "outside system down" in caplog.text


def test_unsubscribe() -> None:
    seen: list[Event] = []
    bus = EventBus()
    bus.subscribe(seen.append)
    bus.unsubscribe(seen.append)
    bus.notify(ListCreatedEvent(list_id="a.example.org", fqdn_listname="a@example.org"))
    assert seen == []


class SiteBound:
    """A subscriber that needs the site: named by its class, bound by from_site."""

    def __init__(self, site: object) -> None:
        self.site = site

    @classmethod
    def from_site(cls, site: object) -> SiteBound:
        return cls(site)

    def __call__(self, event: Event) -> None:
        received.append(event)


def test_a_subscriber_with_from_site_is_bound_to_the_site() -> None:
    received.clear()
    site = object()
    bus = EventBus.from_names(["tests.test_events:SiteBound"], site=site)
    event = ListCreatedEvent(list_id="dev.example.org", fqdn_listname="dev@example.org")
    bus.notify(event)
    assert received == [event]
    with pytest.raises(ValueError, match="needs a site"):
        EventBus.from_names(["tests.test_events:SiteBound"])

"""Bans, header matches and template URIs: the models and the migration that made them."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from posthorn.config import Config
from posthorn.database.migrating import alembic_config
from posthorn.errors import (
    DuplicateBanError,
    DuplicateHeaderMatchError,
    InvalidBanError,
    InvalidHeaderMatchError,
    NoSuchBanError,
    NoSuchHeaderMatchError,
)
from posthorn.model.bans import DatabaseBanManager
from posthorn.model.header_matches import DatabaseHeaderMatches
from posthorn.model.template_uris import DatabaseTemplateUris
from posthorn.site import Site

LIST = "dev.example.org"


def test_bans_per_list_and_site(site: Site) -> None:
    bans = DatabaseBanManager.from_site(site)
    bans.ban("Anne@Example.org", LIST)
    bans.ban(r"^.*@spam\.example$")
    assert bans.is_banned("anne@example.ORG", LIST)
    assert not bans.is_banned("anne@example.org", "other.example.org")
    assert not bans.is_banned("anne@example.org")
    # A site ban holds on every list; a pattern matches the whole address.
    assert bans.is_banned("x@SPAM.example", LIST) and bans.is_banned("x@spam.example")
    assert not bans.is_banned("x@spam.example.net", LIST)
    assert [b.email for b in bans.bans(LIST)] == ["anne@example.org"]
    assert [(b.email, b.list_id) for b in bans.bans()] == [(r"^.*@spam\.example$", None)]
    assert bans.count(LIST) == 1 and bans.count() == 1
    with pytest.raises(DuplicateBanError):
        bans.ban("anne@example.org", LIST)
    with pytest.raises(InvalidBanError):
        bans.ban("^(unclosed")
    with pytest.raises(InvalidBanError):
        bans.ban("not an address")
    bans.unban("ANNE@example.org", LIST)
    assert not bans.is_banned("anne@example.org", LIST)
    with pytest.raises(NoSuchBanError):
        bans.unban("anne@example.org", LIST)


def test_bans_go_with_their_list(site: Site) -> None:
    mlist = site.lists.create("dev@example.org")
    bans, matches = DatabaseBanManager.from_site(site), DatabaseHeaderMatches.from_site(site)
    uris = DatabaseTemplateUris.from_site(site)
    bans.ban("anne@example.org", mlist.list_id)
    matches.append(mlist.list_id, "X-Spam", "yes")
    uris.set("list:user:notice:welcome", mlist.list_id, "http://127.0.0.1/welcome")
    site.lists.remove(mlist)
    assert bans.count(mlist.list_id) == 0 and matches.of(mlist.list_id) == []
    assert uris.of(mlist.list_id) == []


def test_header_matches_keep_their_order(site: Site) -> None:
    matches = DatabaseHeaderMatches.from_site(site)
    for n in range(4):
        matches.append(LIST, f"X-H{n}", f"p{n}", "hold" if n % 2 else None, tag=f"t{n % 2}")
    assert [(m.position, m.header) for m in matches.of(LIST)] == [
        (0, "x-h0"), (1, "x-h1"), (2, "x-h2"), (3, "x-h3"),
    ]  # fmt: skip
    matches.change(LIST, 3, position=0)
    assert [m.header for m in matches.of(LIST)] == ["x-h3", "x-h0", "x-h1", "x-h2"]
    matches.change(LIST, 0, position=2, pattern="new", chain="discard")
    assert [m.header for m in matches.of(LIST)] == ["x-h0", "x-h1", "x-h3", "x-h2"]
    assert matches.get(LIST, 2).chain == "discard" and matches.get(LIST, 2).pattern == "new"
    matches.remove(LIST, 0)
    assert [(m.position, m.header) for m in matches.of(LIST)] == [
        (0, "x-h1"), (1, "x-h3"), (2, "x-h2"),
    ]  # fmt: skip
    assert [m.header for m in matches.find(LIST, tag="t1")] == ["x-h1", "x-h3"]
    assert [m.header for m in matches.find(LIST, header="X-H2")] == ["x-h2"]
    with pytest.raises(DuplicateHeaderMatchError):
        matches.append(LIST, "x-h1", "p1")
    with pytest.raises(InvalidHeaderMatchError):
        matches.append(LIST, "X-Ok", "(unclosed")
    with pytest.raises(InvalidHeaderMatchError):
        matches.append(LIST, "X-Ok", "x", "bounce")
    with pytest.raises(InvalidHeaderMatchError):
        matches.change(LIST, 0, position=3)
    with pytest.raises(NoSuchHeaderMatchError):
        matches.get(LIST, 3)
    matches.clear(LIST)
    assert matches.of(LIST) == []


def test_template_uris_per_context(site: Site) -> None:
    uris = DatabaseTemplateUris.from_site(site)
    uris.set("list:user:notice:welcome", None, "http://127.0.0.1/site")
    uris.set("list:user:notice:welcome", LIST, "http://127.0.0.1/a", "u", "p")
    uris.set("list:user:notice:welcome", LIST, "http://127.0.0.1/b", "u", "p")
    assert [u.uri for u in uris.of(LIST)] == ["http://127.0.0.1/b"]
    found = uris.get("list:user:notice:welcome", None)
    assert found is not None and found.uri == "http://127.0.0.1/site" and found.context is None
    assert uris.delete("list:user:notice:welcome", LIST)
    assert not uris.delete("list:user:notice:welcome", LIST)


def test_the_migration_turns_old_settings_into_rows(config: Config) -> None:
    site = Site(config)
    try:
        engine = site.databases.engine("list")
        with engine.connect() as connection:
            alembic = alembic_config("list", connection)
            command.upgrade(alembic, "lists_0005")
            command.upgrade(alembic, "lists_0004")
            command.upgrade(alembic, "lists_0003")
            command.upgrade(alembic, "lists_0002")
            connection.commit()
        site.lists.create("dev@example.org")
        old = (
            '{"ban_list": ["Bad@Example.net", "discard:^.*@spam\\\\.example$", "bad@example.net"],'
            ' "header_matches": ["X-Spam-Flag:discard:^yes", "broken entry", "X-B:hold:b"],'
            ' "info_extra": 1}'
        )
        with engine.begin() as connection:
            connection.execute(text("UPDATE mailinglists SET extra_settings = :s"), {"s": old})
        site.databases.upgrade()
        bans = DatabaseBanManager.from_site(site)
        assert [b.email for b in bans.bans(LIST)] == [r"^.*@spam\.example$", "bad@example.net"]
        matches = DatabaseHeaderMatches.from_site(site).of(LIST)
        assert [(m.header, m.chain, m.pattern) for m in matches] == [
            ("x-spam-flag", "discard", "^yes"), ("x-b", "hold", "b"),
        ]  # fmt: skip
        # The list still loads: the old settings are gone from its stored settings.
        assert site.lists.require(LIST).list_id == LIST
    finally:
        site.close()

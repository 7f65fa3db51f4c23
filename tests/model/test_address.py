"""Address and list-name validation: what is accepted, and what each refusal says."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from posthorn.address import (
    normalize_email,
    parse_display_address,
    validate_domain,
    validate_email,
    validate_list_name,
)
from posthorn.errors import InvalidAddressError, InvalidListNameError, PosthornError


@pytest.mark.parametrize(
    "address",
    [
        "anne@example.org",
        "Anne.Person+lists@Example.ORG",
        "o'brien@example.co.uk",
        "x!#$%&'*+-/=?^_`{|}~@example.org",
        '"quoted.local..dots"@example.org',
        '"with\\"escape"@example.org',
        "user@[192.0.2.1]",
        "user@[IPv6:2001:db8::1]",
        "jörg@bücher.example",
        "a@b.cd",
    ],
)
def test_valid_addresses(address: str) -> None:
    assert validate_email(address) == address


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("", "empty"),
        ("anne", "no @domain"),
        ("anne@", "domain is empty"),
        ("@example.org", "local part is empty"),
        ("a b@c.d", "whitespace"),
        ("anne@exa mple.org", "whitespace"),
        ("anne\x00@example.org", "control"),
        ("anne\x7f@example.org", "control"),
        ("anne@example.org\n", "whitespace"),
        ("../x@example.org", "dot"),
        ("anne.@example.org", "dot"),
        ("an..ne@example.org", "dot"),
        ("anne@localhost", "at least one dot"),
        ("anne@example..org", "empty label"),
        ("anne@-example.org", "not a valid domain label"),
        ("anne@exa_mple.org", "not a valid domain label"),
        ("anne@1.2.3.4", "cannot be a number"),
        ("an(comment)ne@example.org", "contains"),
        ("a<b@example.org", "contains"),
        ('"unterminated\\"@example.org', "unfinished escape"),
        ("user@[999.1.1.1]", "IP address literal"),
        ("x" * 65 + "@example.org", "longer than 64"),
    ],
)
def test_invalid_addresses_say_why(address: str, reason: str) -> None:
    with pytest.raises(InvalidAddressError, match=reason) as caught:
        validate_email(address)
    assert isinstance(caught.value, PosthornError)


def test_normalize_lowercases_the_whole_address() -> None:
    assert normalize_email("Anne.Person@Example.ORG") == "anne.person@example.org"


def test_validate_domain_lowercases() -> None:
    assert validate_domain("Lists.Example.ORG") == "lists.example.org"


def test_list_names_split_into_list_id_and_posting_address() -> None:
    name = validate_list_name("Dev-Team@Lists.Example.org")
    assert (name.list_name, name.mail_host) == ("dev-team", "lists.example.org")
    assert name.fqdn_listname == "dev-team@lists.example.org"
    assert name.list_id == "dev-team.lists.example.org"


@pytest.mark.parametrize(
    ("fqdn", "reason"),
    [
        ("../x@example.org", "path separator"),
        ("..x@example.org", "invalid list posting address"),
        ("a/b@example.org", "path separator"),
        ("a\\b@example.org", "path separator"),
        ("dev", "no @domain"),
        ("dev@localhost", "at least one dot"),
        ("de v@example.org", "whitespace"),
        ("dev\x01@example.org", "control"),
        ("dev@[192.0.2.1]", "literal"),
        ('"dev"@example.org', "may only use"),
        ("dev#1@example.org", "may only use"),
        (" dev@example.org", "not a list posting address"),
    ],
)
def test_invalid_list_names_say_why(fqdn: str, reason: str) -> None:
    with pytest.raises(InvalidListNameError, match=reason):
        validate_list_name(fqdn)


def test_display_addresses() -> None:
    assert parse_display_address("anne@example.org") == (None, "anne@example.org")
    assert parse_display_address("Anne Person <anne@example.org>") == (
        "Anne Person",
        "anne@example.org",
    )
    assert parse_display_address('"Person, Anne" <anne@example.org>') == (
        "Person, Anne",
        "anne@example.org",
    )
    with pytest.raises(InvalidAddressError):
        parse_display_address("Anne <not an address>")


@given(st.text(max_size=40))
def test_validation_never_fails_with_anything_but_its_own_error(text: str) -> None:
    try:
        validate_email(text)
    except InvalidAddressError:
        return
    # Whatever passes must at least be one token around a single separating @.
    assert "@" in text and not any(char.isspace() for char in text)

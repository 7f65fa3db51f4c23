"""Adding a list setting is one line in IListSettings: everything else follows from it.

For every declared setting, with no list of names kept here: the interface has it, the
checks accept a value of its type and refuse header-breaking text, REST serves and
changes it, and the list model stores it (in a column or the JSON column).
"""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any, Literal

import pytest

from posthorn.errors import InvalidSettingError
from posthorn.interfaces.lists import IMailingList
from posthorn.interfaces.settings import IListSettings
from posthorn.model.settings import READ_ONLY, ListSettings, check_settings, text_kinds
from posthorn.rest.lists import settings_spec
from posthorn.site import Site
from tests.rest.conftest import Server

# Values REST checks against the site (a pipeline or language must exist): another one.
_CROSS_CHECKED = {
    "posting_pipeline": "default-owner-pipeline",
    "owner_pipeline": "default-posting-pipeline",
    "preferred_language": "de",
}


def _other_value(name: str, hint: Any, default: Any) -> Any:
    """A valid value of the declared type that is not the default."""
    if name in _CROSS_CHECKED:
        return _CROSS_CHECKED[name]
    kind = text_kinds().get(name)
    if typing.get_origin(hint) is Literal:
        return next(choice for choice in typing.get_args(hint) if choice != default)
    if hint is bool:
        return not default
    if hint in (int, float):
        return hint(default + 7)
    if hint == tuple[str, ...]:
        return ["one@example.org", "two@example.org"]
    if kind == "duration":
        return "3d"
    if kind == "body":
        return f"{name}\nsecond line"
    return f"x-{name}"


def _samples() -> dict[str, Any]:
    hints = typing.get_type_hints(ListSettings)
    defaults = ListSettings().as_dict()
    return {name: _other_value(name, hints[name], defaults[name]) for name in hints}


def test_every_declared_setting_is_on_the_interface_and_served() -> None:
    declared = {field.name for field in dataclasses.fields(ListSettings)}
    assert declared == set(typing.get_type_hints(IListSettings))
    assert declared <= set(typing.get_type_hints(IMailingList))
    assert set(settings_spec()) == declared
    assert READ_ONLY.isdisjoint(declared) and "list_id" in READ_ONLY
    # Every setting has a default, so lists made before it existed read one.
    assert all(f.default is not dataclasses.MISSING for f in dataclasses.fields(ListSettings))


def test_every_one_line_text_refuses_control_characters() -> None:
    hints = typing.get_type_hints(ListSettings)
    one_line = [name for name, hint in hints.items() if hint in (str, str | None)]
    one_line = [name for name in one_line if name not in text_kinds()]
    assert {"subject_prefix", "display_name", "reply_to_address"} <= set(one_line)
    for name in one_line:
        with pytest.raises(InvalidSettingError, match="one line"):
            check_settings({name: "a\r\nX-Injected: yes"})
    for name in (name for name, hint in hints.items() if hint == tuple[str, ...]):
        with pytest.raises(InvalidSettingError, match="one line"):
            check_settings({name: ["a@example.org\nX-Injected: yes"]})
    for name, kind in text_kinds().items():
        if kind == "body":
            assert check_settings({name: "a\r\nb"}) == {name: "a\nb"}
        else:
            with pytest.raises(InvalidSettingError):
                check_settings({name: "soon"})


def test_every_setting_changes_through_rest_and_is_stored(
    rest_server: Server, rest_site: Site
) -> None:
    rest_site.lists.create("every@settings.example.org")
    samples = _samples()
    path = "/lists/every.settings.example.org/config"
    body = json.dumps(samples).encode()
    status, _, answer = rest_server.request("PATCH", path, body, content_type="application/json")
    assert status == 204, answer
    served = rest_server.request("GET", path)[2]
    assert {name: served[name] for name in samples} == samples
    stored = rest_site.lists.require("every.settings.example.org").as_dict()
    assert {name: stored[name] for name in samples} == samples

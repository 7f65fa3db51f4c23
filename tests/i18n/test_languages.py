"""The language registry: what the configuration offers, and codes refused where set.

The CLI is run in process on a site file, as a person runs it; REST against a real
server in ``tests/rest/test_languages.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from click.testing import Result

from posthorn.config import Config
from posthorn.errors import InvalidSettingError
from posthorn.i18n import check_language, known_languages, translator
from posthorn.site import Site
from tests.conftest import ConfigFactory

Invoke = Callable[..., Result]


def test_the_shipped_languages_and_their_charsets(config: Config) -> None:
    known = known_languages(config)
    assert {code: lang.charset for code, lang in known.items()} == {
        "de": "iso-8859-1", "en": "us-ascii", "fr": "iso-8859-1",
    }  # fmt: skip
    assert known["de"].description == "Deutsch"


def test_a_site_adds_a_language_and_changes_a_charset(make_config: ConfigFactory) -> None:
    config = make_config(
        {"language.it": {"description": "Italiano"}, "language.de": {"charset": "utf-8"}}
    )
    known = known_languages(config)
    assert known["it"].charset == "utf-8" and known["it"].description == "Italiano"
    assert translator(config, "de").charset == "utf-8"
    # Italian has no catalogue: its strings stay English, never an error.
    assert translator(config, "it")("No such command: $name", name="x") == "No such command: x"


def test_a_disabled_language_is_refused_and_falls_back(make_config: ConfigFactory) -> None:
    config = make_config({"language.fr": {"enable": "no"}})
    assert "fr" not in known_languages(config)
    with pytest.raises(InvalidSettingError, match="'fr' is not a language of this site"):
        check_language(config, "preferred_language", "fr")
    assert translator(config, "fr").language == "en"


def test_the_cli_refuses_an_unknown_language(invoke: Invoke, cli_site: Site) -> None:
    cli_site.lists.create("dev@example.org")
    result = invoke("settings", "dev@example.org", "--set", "preferred_language=xx")
    assert result.exit_code == 1
    assert "preferred_language: 'xx' is not a language of this site" in result.output
    assert "Traceback" not in result.output
    assert cli_site.lists.require("dev@example.org").preferred_language == "en"
    result = invoke("settings", "dev@example.org", "--set", "preferred_language=de")
    assert result.exit_code == 0, result.output
    assert cli_site.lists.require("dev@example.org").preferred_language == "de"


def test_a_sites_own_catalogue_translates(make_config: ConfigFactory, tmp_path: Path) -> None:
    catalogue = Catalog(locale="it")
    catalogue.add("No such command: $name", "Comando sconosciuto: $name")
    path = tmp_path / "posthorn-it.mo"
    with path.open("wb") as file:
        write_mo(file, catalogue)
    config = make_config({"language.it": {"description": "Italiano", "catalogue": str(path)}})
    translate = translator(config, "it")
    assert translate("No such command: $name", name="x") == "Comando sconosciuto: x"
    assert translate("Get this help.") == "Get this help."  # not in it: English

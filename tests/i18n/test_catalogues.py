"""Every shipped language is complete: each template and each marked string, same placeholders.

The catalogue template (``posthorn.pot``) must list exactly the strings the code marks
with ``_``; ``make catalogues`` rebuilds it, brings each ``.po`` up to date and
compiles the ``.mo`` files, which must say what their ``.po`` says.
"""

from __future__ import annotations

import configparser
import gettext
from importlib import resources
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from posthorn.i18n import Translator, placeholders

ROOT = Path(__file__).resolve().parent.parent.parent
LOCALE = ROOT / "src" / "posthorn" / "locale"
TEMPLATES = ROOT / "src" / "posthorn" / "templates"
CODE_DIRS = ["src/posthorn", "runners", "handlers", "queues"]


def shipped_languages() -> list[str]:
    """The languages the built-in configuration offers, English aside."""
    schema = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    schema.read_string(resources.files("posthorn.config").joinpath("schema.cfg").read_text())
    sections = [name.partition(".")[2] for name in schema.sections()]
    return [code for code in sections if code not in ("*", "en") and f"language.{code}" in schema]


def template_catalogue() -> Catalog:
    with (LOCALE / "posthorn.pot").open("rb") as pot:
        return read_po(pot)


def marked_strings() -> set[str]:
    found: set[str] = set()
    for folder in CODE_DIRS:
        for extracted in extract_from_dir(ROOT / folder, keywords={"_": None}):
            message = extracted[2]
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_catalogue_template_lists_every_marked_string() -> None:
    listed = {message.id for message in template_catalogue() if message.id}
    marked = marked_strings()
    assert marked - listed == set(), "run `make catalogues`: new strings are not in posthorn.pot"
    assert listed - marked == set(), "run `make catalogues`: posthorn.pot lists gone strings"


@pytest.mark.parametrize("language", shipped_languages())
def test_every_template_is_translated_with_the_same_placeholders(language: str) -> None:
    english = sorted(path.name for path in (TEMPLATES / "en").glob("*.txt"))
    assert english, "no English templates found"
    translated = sorted(path.name for path in (TEMPLATES / language).glob("*.txt"))
    assert translated == english
    for name in english:
        source = (TEMPLATES / "en" / name).read_text(encoding="utf-8")
        text = (TEMPLATES / language / name).read_text(encoding="utf-8")
        assert placeholders(text) == placeholders(source), f"{language}/{name}"
        assert text.lower().startswith("subject:") == source.lower().startswith("subject:")


@pytest.mark.parametrize("language", shipped_languages())
def test_every_marked_string_is_translated_with_the_same_placeholders(language: str) -> None:
    po = LOCALE / language / "LC_MESSAGES" / "posthorn.po"
    if not po.is_file():
        pytest.skip(f"no catalogue for {language} yet: its strings in code stay English")
    with po.open("rb") as file:
        catalogue = read_po(file)
    for message in template_catalogue():
        if not message.id:
            continue
        found = catalogue.get(message.id)
        assert found is not None and found.string, f"{language}: untranslated {message.id!r}"
        assert not found.fuzzy, f"{language}: fuzzy {message.id!r}"
        assert placeholders(str(found.string)) == placeholders(str(message.id)), message.id


@pytest.mark.parametrize("po", sorted(LOCALE.glob("*/LC_MESSAGES/posthorn.po")), ids=str)
def test_the_compiled_catalogue_matches_its_source(po: Path) -> None:
    with po.open("rb") as file:
        source = {m.id: m.string for m in read_po(file) if m.id and m.string and not m.fuzzy}
    mo = po.with_suffix(".mo")
    assert mo.is_file(), f"run `make catalogues`: {mo.name} missing beside {po}"
    with mo.open("rb") as file:
        compiled = gettext.GNUTranslations(file)
    assert source, f"{po} translates nothing"
    for msgid, msgstr in source.items():
        assert compiled.gettext(str(msgid)) == msgstr, msgid
    language = po.parent.parent.name
    shipped = resources.files("posthorn").joinpath("locale", language, "LC_MESSAGES")
    assert shipped.joinpath("posthorn.mo").is_file(), "the .mo is not package data"


def test_a_string_missing_from_a_catalogue_stays_english() -> None:
    assert Translator("de")("Not in any catalogue, $name", name="x") == "Not in any catalogue, x"
    assert Translator("xx")("Members of $list: $count", list="a@b", count=2) == "Members of a@b: 2"

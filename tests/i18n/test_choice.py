"""Whose language a message is in, end to end: the command runner, workflows, digests.

The command runner runs in process on real queues and a real database (``send``
from the command runner's tests): a list whose language is German answers in
German; a member who prefers another shipped language gets their own on an English
list; the charset follows the language.  Expected texts come from the shipped
catalogues and templates, and each is checked to differ from the English, so a
missing translation fails rather than passing on English.
"""

from __future__ import annotations

import email
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

import pytest

from posthorn.digests import mailbox
from posthorn.digests.send import DigestSender
from posthorn.i18n import Translator, recipient_language, text_part, translator
from posthorn.runners.command import CommandRunner
from posthorn.site import Site
from tests.commands.test_command_runner import ANNE, LIST, OWNER, by_kind, mail, send
from tests.i18n.test_catalogues import LOCALE, TEMPLATES, shipped_languages

NO_SUCH = "No such command: $name"


@pytest.fixture
def command_runner(site: Site) -> CommandRunner:
    site.lists.create(LIST, owners=[OWNER])
    return CommandRunner(site, "command")


def text_of(msg: Message) -> str:
    payload = msg.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(msg.get_content_charset() or "us-ascii")


def translated(language: str, message: str, **values: object) -> str:
    """``message`` in ``language``, insisting the catalogue translates it."""
    text = Translator(language)(message, **values)
    assert text != Translator("en")(message, **values), f"{language} lacks {message!r}"
    return text


def subject_of(msg: Message) -> str:
    return str(make_header(decode_header(str(msg["Subject"]))))


def template_subject(language: str, name: str) -> str:
    first = (TEMPLATES / language / f"{name}.txt").read_text(encoding="utf-8").splitlines()[0]
    return first.partition(":")[2].strip()


def test_a_german_list_answers_commands_in_german(command_runner: CommandRunner) -> None:
    command_runner.site.lists.update(LIST, preferred_language="de")
    found = send(command_runner, mail("help\nbogus\n"))
    reply = by_kind(found, "command-results")
    assert subject_of(reply) == template_subject("de", "command-results")
    assert reply.get_content_charset() == "iso-8859-1"
    body = text_of(reply)
    assert translated("de", NO_SUCH, name="bogus") in body
    assert translated("de", "Join this mailing list.") in body  # the help's command list
    assert "Hilfe" in body  # the German help template


def test_a_german_list_welcomes_in_german(command_runner: CommandRunner) -> None:
    command_runner.site.lists.update(LIST, preferred_language="de", subscription_policy="open")
    command_runner.site.users.create_address(ANNE)
    command_runner.site.users.verify_address(ANNE)
    found = send(command_runner, mail(), subaddress="join")
    welcome = by_kind(found, "welcome")
    assert subject_of(welcome).startswith("Willkommen")
    assert welcome.get_content_charset() == "iso-8859-1"
    values = {"email": ANNE, "list": LIST}
    assert translated("de", "$email is now a member of $list.", **values) in text_of(
        by_kind(found, "command-results")
    )


@pytest.mark.parametrize("language", shipped_languages())
def test_a_member_gets_their_own_language_on_an_english_list(
    command_runner: CommandRunner, language: str
) -> None:
    command_runner.site.users.create_address(ANNE)
    command_runner.site.users.set_address_preferences(ANNE, {"preferred_language": language})
    reply = by_kind(send(command_runner, mail("bogus\n")), "command-results")
    assert subject_of(reply) == template_subject(language, "command-results")
    if (LOCALE / language / "LC_MESSAGES" / "posthorn.mo").is_file():
        assert translated(language, NO_SUCH, name="bogus") in text_of(reply)
    # Everyone else on the list still reads English.
    other = by_kind(send(command_runner, mail("bogus\n", sender=OWNER)), "command-results")
    assert "No such command: bogus" in text_of(other)
    # The welcome and the goodbye are theirs too.
    command_runner.site.lists.update(LIST, subscription_policy="open",
                                     unsubscription_policy="open")  # fmt: skip
    command_runner.site.users.verify_address(ANNE)
    welcome = by_kind(send(command_runner, mail(), subaddress="join"), "welcome")
    assert subject_of(welcome) == template_subject(language, "welcome").replace(
        "$display_name", "Dev"
    )
    goodbye = by_kind(send(command_runner, mail(), subaddress="leave"), "goodbye")
    assert subject_of(goodbye) == template_subject(language, "goodbye").replace(
        "$display_name", "Dev"
    )


def test_the_most_specific_preference_wins(command_runner: CommandRunner) -> None:
    site = command_runner.site
    site.lists.update(LIST, preferred_language="fr")
    assert recipient_language(site, site.lists.require(LIST), ANNE) == "fr"
    user = site.users.create_user(ANNE)
    site.users.set_user_preferences(user.user_id, {"preferred_language": "de"})
    mlist = site.lists.require(LIST)
    assert recipient_language(site, mlist, ANNE) == "de"
    site.users.set_address_preferences(ANNE, {"preferred_language": "en"})
    assert recipient_language(site, mlist, ANNE) == "en"
    member = site.lists.subscribe(LIST, ANNE)
    site.lists.set_member_preferences(member.member_id, {"preferred_language": "de"})
    assert recipient_language(site, mlist, ANNE) == "de"


def test_a_language_no_longer_offered_falls_back(command_runner: CommandRunner) -> None:
    # A list imported with a language this site does not offer still gets answers.
    command_runner.site.lists.update(LIST, preferred_language="ja")
    assert translator(command_runner.site.config, "ja").language == "en"
    reply = by_kind(send(command_runner, mail("bogus\n")), "command-results")
    assert "No such command: bogus" in text_of(reply)


def test_a_text_that_does_not_fit_the_charset_goes_in_utf8() -> None:
    assert text_part("Grüße", "iso-8859-1").get_content_charset() == "iso-8859-1"
    part = text_part("Привет €", "iso-8859-1")
    assert part.get_content_charset() == "utf-8"
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes) and payload.decode("utf-8") == "Привет €"
    assert text_part("plain", "no-such-charset").get_content_charset() == "utf-8"


def test_digest_mastheads_are_in_the_lists_language(site: Site) -> None:
    mlist = site.lists.create(LIST)
    site.lists.update(LIST, preferred_language="de")
    site.lists.subscribe(LIST, "p@example.com", delivery_mode="plaintext_digests")
    mlist = site.lists.require(LIST)
    path = mailbox.digest_mailbox(site.config.path("data_dir"), mlist.list_id)
    post = email.message_from_string("From: p@example.com\nSubject: Hallo\n\nText.\n")
    mailbox.append(path, mailbox.MboxEntry(post))
    sent: list[Message] = []
    assert DigestSender(site, lambda msg, data: sent.append(msg)).run(mlist, force=True) == 1
    (digest,) = sent
    assert digest.get_content_charset() == "iso-8859-1"
    text = text_of(digest)
    assert translated("de", "Today's Topics:") in text
    subject = subject_of(digest)
    assert subject == translated("de", "$display_name Digest, Vol $volume, Issue $number",
                                 display_name=mlist.display_name, volume=1, number=1)  # fmt: skip
    assert translated("de", "End of $subject", subject=subject) in text


def test_shipped_paths_exist() -> None:
    assert Path(TEMPLATES / "en").is_dir() and Path(LOCALE / "posthorn.pot").is_file()

"""``posthorn import mailman21``: one 2.1 list from a generated ``config.pck``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from posthorn.model.bans import DatabaseBanManager
from posthorn.model.bounces import BounceRecords
from posthorn.model.header_matches import DatabaseHeaderMatches
from posthorn.site import Site
from tests.importers.mailman21_pickle import python2_pickle, sample_list, write_config_pck

Invoke = Callable[..., Result]
LIST = "dev@example.org"


@pytest.fixture
def config_pck(tmp_path: Path) -> Path:
    return write_config_pck(tmp_path / "config.pck", sample_list())


def _imported(invoke: Invoke, path: Path, *options: str) -> Result:
    result = invoke("import", "mailman21", LIST, str(path), *options)
    assert result.exit_code == 0, result.output
    return result


def test_settings_come_over_with_their_meaning(
    invoke: Invoke, cli_site: Site, config_pck: Path
) -> None:
    _imported(invoke, config_pck)
    mlist = cli_site.lists.require(LIST)
    # Latin-1 byte strings, decoded by the German list's character set.
    assert mlist.description == "Entwicklerliste für Änderungen"
    assert mlist.info == "Über diese Liste"
    assert (mlist.display_name, mlist.subject_prefix) == ("Dev", "[Dev] ")
    assert mlist.footer_text == "-- \n$display_name mailing list\n"
    assert (mlist.reply_goes_to_list, mlist.reply_to_address) == (
        "explicit_header",
        "replies@example.org",
    )
    assert mlist.subscription_policy == "confirm_then_moderate"
    assert mlist.unsubscription_policy == "confirm_then_moderate"
    assert mlist.member_roster_visibility == "members"
    assert mlist.default_nonmember_action == "reject"
    assert mlist.archive_policy == "private"
    assert mlist.advertised is False and mlist.first_strip_reply_to is True
    assert mlist.require_explicit_destination is False
    assert mlist.acceptable_aliases == ("dev-alias@example.org", "old-dev@example.org")
    assert (mlist.max_num_recipients, mlist.max_message_size) == (25, 100)
    assert mlist.accept_these_nonmembers == ("friend@example.com", r"^.*@partner\.example$")
    assert mlist.discard_these_nonmembers == ("spam@example.net",)
    assert (mlist.digest_volume_frequency, mlist.digest_size_threshold) == ("weekly", 60.0)
    assert mlist.digest_send_periodic is False
    assert (mlist.volume, mlist.next_digest_number, mlist.post_id) == (7, 3, 412)
    assert mlist.created_at.year == 2010
    assert mlist.personalize == "individual"
    assert (mlist.bounce_score_threshold, mlist.bounce_info_stale_after) == (3, "14d")
    assert mlist.bounce_you_are_disabled_warnings_interval == "3d"
    assert mlist.autorespond_requests == "respond_and_discard"
    assert mlist.autorespond_postings == "respond_and_continue"
    assert mlist.autoresponse_grace_period == "30d"
    assert mlist.filter_types == ("image/bmp", "application/x-msdownload")
    assert mlist.filter_extensions == ("exe", "bat")
    assert mlist.filter_action == "reject"
    assert mlist.dmarc_mitigate_action == "munge_from"


def test_members_keep_their_roles_and_options(
    invoke: Invoke, cli_site: Site, config_pck: Path
) -> None:
    _imported(invoke, config_pck)
    roster = cli_site.lists.roster(LIST)
    assert [m.email for m in roster.owners] == ["owner@example.org"]
    assert [m.email for m in roster.moderators] == ["mod@example.org"]
    members = {m.email: m for m in roster.members}
    assert sorted(members) == [
        f"{n}@example.org" for n in ("anne", "bart", "carl", "dora", "erin", "fred")
    ]
    assert members["anne@example.org"].display_name == "Anne Müller"
    assert members["carl@example.org"].moderation_action == "reject"
    assert members["anne@example.org"].moderation_action is None
    assert members["dora@example.org"].delivery_status == "by_user"
    assert members["erin@example.org"].delivery_mode == "plaintext_digests"
    assert members["fred@example.org"].delivery_mode == "mime_digests"
    anne = cli_site.lists.member_preferences(members["anne@example.org"].member_id)
    assert anne["acknowledge_posts"] is True and anne["hide_address"] is True
    bart = cli_site.lists.member_preferences(members["bart@example.org"].member_id)
    assert bart["receive_own_postings"] is False and bart["receive_list_copy"] is False
    assert bart["preferred_language"] == "en"
    # The address as the member typed it is kept for display.
    address = cli_site.users.get_address("bart@example.org")
    assert address is not None and address.original_email == "Bart@Example.org"


def test_passwords_are_hashed_never_stored(
    invoke: Invoke, cli_site: Site, config_pck: Path
) -> None:
    _imported(invoke, config_pck)
    user = cli_site.users.get_user_by_address("anne@example.org")
    assert user is not None and user.password is not None
    assert user.password.startswith("$argon2") and "anne-secret" not in user.password
    assert cli_site.users.check_password(user.user_id, "wrong") is False
    assert cli_site.users.check_password(user.user_id, "anne-secret") is True
    # The light import hash gave way to a full one at that first login.
    upgraded = cli_site.users.get_user(user.user_id)
    assert upgraded is not None and upgraded.password != user.password
    assert cli_site.users.get_user_by_address("carl@example.org") is None


def test_bounce_scores_and_the_report(invoke: Invoke, cli_site: Site, config_pck: Path) -> None:
    result = _imported(invoke, config_pck)
    records = BounceRecords(cli_site.databases.session_factory("list"))
    carl = records.get("dev.example.org", "carl@example.org")
    assert carl.score == 2 and carl.last_bounce is not None
    assert "no place here: dev@example.org: topics = [('release'" in result.output
    assert "mod_password = (set)" in result.output
    assert "5baa61e4" not in result.output
    lines = result.output.splitlines()
    assert any(line.split()[:2] == ["members", "8"] for line in lines), result.output


def test_a_second_run_changes_nothing(invoke: Invoke, cli_site: Site, config_pck: Path) -> None:
    _imported(invoke, config_pck)
    again = _imported(invoke, config_pck)
    rows = [line.split() for line in again.output.splitlines()]
    table = {row[0]: row[1:] for row in rows if len(row) == 4 and row[1].isdigit()}
    assert table["members"] == ["0", "0", "8"]
    assert table["lists"] == ["0", "0", "1"]
    assert all(created == changed == "0" for created, changed, _ in table.values()), table


def test_a_dry_run_shows_changes_and_writes_nothing(
    invoke: Invoke, cli_site: Site, config_pck: Path, tmp_path: Path
) -> None:
    _imported(invoke, config_pck)
    changed = sample_list()
    changed[b"members"][b"gina@example.org"] = 0
    changed[b"max_num_recipients"] = 30
    path = write_config_pck(tmp_path / "changed.pck", changed)
    dry = _imported(invoke, path, "--dry-run")
    assert "would create member: gina@example.org (member) of dev@example.org" in dry.output
    assert "would change list: dev@example.org (max_num_recipients)" in dry.output
    assert "Dry run: nothing was written." in dry.output
    assert cli_site.lists.require(LIST).max_num_recipients == 25
    assert cli_site.lists.roster(LIST).get_member("gina@example.org") is None
    # The real run brings exactly those changes.
    _imported(invoke, path)
    assert cli_site.lists.require(LIST).max_num_recipients == 30
    assert cli_site.lists.roster(LIST).get_member("gina@example.org") is not None


def test_a_pickle_that_runs_code_is_refused(invoke: Invoke, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    command = f"touch {marker}".encode()
    # GLOBAL os.system, then REDUCE with one argument: what a crafted file would do.
    evil = b"\x80\x02cos\nsystem\nU" + bytes([len(command)]) + command + b"\x85R."
    path = tmp_path / "config.pck"
    path.write_bytes(evil)
    result = invoke("import", "mailman21", LIST, str(path))
    assert result.exit_code == 1
    assert "refusing to load os.system" in result.output
    assert "Traceback" not in result.output
    assert not marker.exists()


def test_not_a_list_configuration(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "config.pck"
    path.write_bytes(python2_pickle([b"just", b"a", b"list"]))
    result = invoke("import", "mailman21", LIST, str(path))
    assert result.exit_code == 1
    assert "not a Mailman 2.1 list configuration" in result.output
    garbage = tmp_path / "garbage.pck"
    garbage.write_bytes(b"hello")
    result = invoke("import", "mailman21", LIST, str(garbage))
    assert result.exit_code == 1 and "not a readable pickle" in result.output


def test_a_setting_with_control_characters_is_reported_not_imported(
    invoke: Invoke, cli_site: Site, tmp_path: Path
) -> None:
    attributes = sample_list()
    # Bound for the Subject header: a line break there would let a list forge headers.
    attributes[b"subject_prefix"] = b"[Dev]\r\nBcc: victim@example.com "
    attributes[b"info"] = b"Line one\r\nLine two"
    result = _imported(invoke, write_config_pck(tmp_path / "config.pck", attributes))
    assert "not imported: dev@example.org: subject_prefix not imported" in result.output
    assert "cannot contain control characters (CR)" in result.output
    mlist = cli_site.lists.require(LIST)
    assert mlist.subject_prefix == "[Dev] "  # the new list's default
    assert mlist.info == "Line one\nLine two"  # a body text keeps its lines, as LF


def test_bans_and_header_filters_become_bans_and_header_matches(
    invoke: Invoke, cli_site: Site, config_pck: Path
) -> None:
    _imported(invoke, config_pck)
    bans = DatabaseBanManager.from_site(cli_site).bans("dev.example.org")
    assert sorted(ban.email for ban in bans) == [r"^.*@banned\.example$", "troll@example.com"]
    assert DatabaseBanManager.from_site(cli_site).is_banned("x@banned.example", "dev.example.org")
    matches = DatabaseHeaderMatches.from_site(cli_site).of("dev.example.org")
    assert [(m.header, m.pattern, m.chain) for m in matches] == [
        ("x-spam-flag", "YES", "discard"),
        ("subject", r".*\[ad\]", "hold"),
    ]

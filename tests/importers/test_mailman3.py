"""``posthorn import mailman3`` from a real, filled GNU Mailman 3.3.10 site on SQLite.

The site is made once for the module (``mailman3_peer``); each test imports it into a
fresh Posthorn site and compares with what Mailman's own REST API said about it.
"""

from __future__ import annotations

import hashlib
import shutil
import smtplib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from posthorn.cli.import_ import run
from posthorn.importers.mailman3 import read_mailman3
from posthorn.site import Site
from tests.importers.mailman3_checks import Invoke, check_everything, imported, summary
from tests.importers.mailman3_peer import LIST, MailmanSnapshot, filled_mailman
from tests.sites import master_with_sink

pytestmark = pytest.mark.slow
RUNNING = ("lmtp", "incoming", "pipeline", "outgoing", "retry", "virgin")


@pytest.fixture(scope="module")
def mailman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailmanSnapshot]:
    with filled_mailman(tmp_path_factory.mktemp("mailman")) as snapshot:
        yield snapshot


def test_everything_comes_over_and_a_rerun_changes_nothing(
    invoke: Invoke, cli_site: Site, mailman: MailmanSnapshot
) -> None:
    database = Path(mailman.database_url.removeprefix("sqlite:///"))
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    first = imported(invoke, mailman)
    assert summary(first)["members"] == [6, 0, 0], first.output
    check_everything(cli_site, mailman)
    again = imported(invoke, mailman)
    counts = summary(again)
    assert all(created == changed == 0 for created, changed, _ in counts.values()), again.output
    assert counts["members"] == [0, 0, 6]
    # Nothing on the old site was written.
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before


def test_a_dry_run_writes_nothing(invoke: Invoke, cli_site: Site, mailman: MailmanSnapshot) -> None:
    result = imported(invoke, mailman, "--dry-run")
    assert "would create list: dev@example.org" in result.output
    assert "would create held message: <held-1@example.net>" in result.output
    assert cli_site.lists.get(LIST) is None
    assert cli_site.users.user_count() == 0
    # --list names lists of the old site; one it does not have is an error.
    url = mailman.database_url
    result = invoke("import", "mailman3", "--database", url, "--list", "nosuch@example.org")
    assert result.exit_code == 1
    assert "no such list on the old site: nosuch@example.org" in result.output
    only = imported(invoke, mailman, "--list", "dev.example.org", "--dry-run")
    assert "would create list: dev@example.org" in only.output


def test_other_databases_are_refused(
    invoke: Invoke, tmp_path: Path, mailman: MailmanSnapshot
) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("create table things (id integer)")
    result = invoke("import", "mailman3", "--database", f"sqlite:///{other}")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "is not a GNU Mailman 3 database" in result.output
    newer = tmp_path / "newer.db"
    shutil.copy(mailman.database_url.removeprefix("sqlite:///"), newer)
    with sqlite3.connect(newer) as connection:
        connection.execute("update alembic_version set version_num = 'f00dfeed0001'")
    result = invoke("import", "mailman3", "--database", f"sqlite:///{newer}")
    assert result.exit_code == 1
    assert "unknown Mailman database version f00dfeed0001" in result.output
    result = invoke("import", "mailman3", "--database", f"sqlite:///{tmp_path / 'none.db'}")
    assert result.exit_code == 1 and "cannot read" in result.output
    assert not (tmp_path / "none.db").exists()


def test_a_post_after_import_reaches_the_same_people(
    tmp_path: Path, mailman: MailmanSnapshot
) -> None:
    def arrange(site: Site) -> None:
        run(site, read_mailman3(mailman.database_url, mailman.var_dir), dry_run=False)

    with master_with_sink(tmp_path, running=RUNNING, arrange=arrange) as (_, port, sink):
        with smtplib.LMTP("127.0.0.1", port) as connection:
            connection.sendmail(
                "carl@example.org",
                [LIST],
                b"From: carl@example.org\r\nTo: dev@example.org\r\nSubject: After the move\r\n"
                b"Message-ID: <moved-1@example.org>\r\n\r\nStill here.\r\n",
            )
        post = sink.wait("anne@example.org", "After the move")
        # The list-id itself (RFC 2919) is the same; its phrase is Posthorn's.
        assert post["List-Id"].endswith("<dev.example.org>")
        assert post["Subject"].startswith("[dev] ")
        # Bart takes digests and Carl has delivery switched off, as on the old site.
        assert sink.find("bart@example.org", "After the move") is None
        assert sink.find("carl@example.org", "After the move") is None


def test_a_rerun_brings_the_changes_made_on_the_old_site(
    invoke: Invoke, cli_site: Site, mailman: MailmanSnapshot, tmp_path: Path
) -> None:
    imported(invoke, mailman)
    changed = tmp_path / "changed.db"
    shutil.copy(mailman.database_url.removeprefix("sqlite:///"), changed)
    with sqlite3.connect(changed) as connection:
        connection.execute("update mailinglist set max_num_recipients = 40")
        # Anne's posts are now discarded (Action.discard is 2); Bart has a new name.
        connection.execute(
            "update member set moderation_action = 2 where role = 1 and address_id = "
            "(select id from address where email = 'anne@example.org')"
        )
        connection.execute("update address set display_name = 'Bart B' where email like 'bart@%'")
        connection.execute(
            "insert into ban (email, list_id) values ('late@example.com', 'dev.example.org')"
        )
        connection.execute(
            "delete from member where role = 1 and address_id = "
            "(select id from address where email = 'carl@example.org')"
        )
    moved = MailmanSnapshot(f"sqlite:///{changed}", mailman.var_dir)
    result = imported(invoke, moved)
    counts = summary(result)
    assert counts["lists"] == [0, 1, 0]
    assert counts["members"] == [0, 2, 3]
    assert counts["addresses"][:2] == [0, 1]
    assert counts["bans"] == [1, 0, 2]
    assert cli_site.lists.require(LIST).max_num_recipients == 40
    # Carl left on the old site; an import never unsubscribes, and says so.
    assert "1 member entries here are not on the old site" in result.output
    assert cli_site.lists.roster(LIST).get_member("carl@example.org") is not None
    roster = cli_site.lists.roster(LIST)
    anne, bart = roster.get_member("anne@example.org"), roster.get_member("bart@example.org")
    assert anne is not None and anne.moderation_action == "discard"
    assert bart is not None and bart.display_name == "Bart B"

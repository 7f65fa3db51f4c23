"""A real GNU Mailman 3.3.10 site to import from: started, filled, snapshotted, stopped.

Mailman runs from its own virtual environment (``tests.peers``), with its own var/ and
configuration under a temporary folder, LMTP and REST on free loopback ports and its
outgoing mail going to an SMTP sink; no MTA is involved.  ``filled_mailman`` fills it
through its REST API (mailmanclient) and LMTP the way a site accumulates data, keeps
what Mailman's REST API says about it (the expected values for the field-by-field
comparison), and stops it, leaving its database and var/ to import.
"""

from __future__ import annotations

import smtplib
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.peers import peer_venv
from tests.processes import free_port, stop
from tests.smtpsink import running_sink
from tests.waiting import wait_for

# Mailman 3.3.10 predates SQLAlchemy 2.1 and Falcon 4; psycopg for its PostgreSQL test.
REQUIREMENTS = ["mailman==3.3.10", "SQLAlchemy<2.1", "falcon<4", "psycopg[binary]>=3.1"]
START_DEADLINE = 180.0
HELD_DEADLINE = 60.0
REST = ("restadmin", "restpass")
LIST = "dev@example.org"


@dataclass
class MailmanSnapshot:
    """Where the stopped site is, and what Mailman's REST API said before it stopped."""

    database_url: str
    var_dir: Path
    config: dict[str, Any] = field(default_factory=dict)
    members: list[dict[str, Any]] = field(default_factory=list)
    preferences: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: list[dict[str, Any]] = field(default_factory=list)
    addresses: list[dict[str, Any]] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    header_matches: list[dict[str, Any]] = field(default_factory=list)
    list_bans: list[str] = field(default_factory=list)
    site_bans: list[str] = field(default_factory=list)
    uris: dict[str, str] = field(default_factory=dict)
    footer: str = ""


def _write_config(home: Path, database_url: str, smtp_port: int) -> tuple[Path, int, int]:
    lmtp, rest = free_port(), free_port()
    database_class = (
        "mailman.database.postgresql.PostgreSQLDatabase"
        if database_url.startswith("postgresql")
        else "mailman.database.sqlite.SQLiteDatabase"
    )
    path = home / "mailman.cfg"
    path.write_text(
        f"""[mailman]
layout: testing
site_owner: site-owner@example.org

[paths.testing]
var_dir: {home / "var"}

[database]
class: {database_class}
url: {database_url}

[mta]
incoming: mailman.mta.null.NullMTA
lmtp_host: 127.0.0.1
lmtp_port: {lmtp}
smtp_host: 127.0.0.1
smtp_port: {smtp_port}

[webservice]
hostname: 127.0.0.1
port: {rest}
admin_user: {REST[0]}
admin_pass: {REST[1]}

[archiver.prototype]
enable: yes
"""
    )
    return path, lmtp, rest


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _wait_for_site(process: subprocess.Popen[bytes], rest: int, lmtp: int, home: Path) -> Any:
    """Mailman's REST client once both its REST API and its LMTP runner answer."""
    from mailmanclient import Client

    client = Client(f"http://127.0.0.1:{rest}/3.1", *REST)

    def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"Mailman's master exited with {process.returncode}")
        try:
            client.system  # noqa: B018 (a request: is the API up?)
            return True
        except Exception:
            return False

    try:
        wait_for(answers, "Mailman's REST API", START_DEADLINE)
        # The LMTP runner is a process of its own and may come up after the REST API.
        wait_for(lambda: _listening(lmtp), "Mailman's LMTP runner", START_DEADLINE)
    except AssertionError as error:
        logs = "\n".join(p.read_text()[-3000:] for p in (home / "var" / "logs").glob("*.log"))
        raise AssertionError(f"{error}\n{logs}") from None
    return client


@contextmanager
def filled_mailman(home: Path, database_url: str | None = None) -> Iterator[MailmanSnapshot]:
    """A Mailman site under ``home``, filled and stopped; its snapshot."""
    bin_dir = peer_venv("mailman3", REQUIREMENTS)
    url = database_url or f"sqlite:///{home / 'var' / 'data' / 'mailman.db'}"
    (home / "var" / "data").mkdir(parents=True, exist_ok=True)
    with running_sink() as sink:
        config, lmtp, rest = _write_config(home, url, sink.port)
        log = (home / "master.out").open("wb")
        process = subprocess.Popen(
            [str(bin_dir / "master"), "-C", str(config), "--force"],
            cwd=home, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            client = _wait_for_site(process, rest, lmtp, home)
            snapshot = MailmanSnapshot(url, home / "var")
            _fill(client, lmtp, home)
            _snapshot(client, snapshot)
        finally:
            stop(process)
            log.close()
    yield snapshot


def _fill(client: Any, lmtp: int, home: Path) -> None:
    domain = client.create_domain("example.org", description="Example domain")
    domain.add_owner("owner@example.org")
    mlist = domain.create_list("dev")
    settings = mlist.settings
    settings.update(
        {
            "display_name": "Developers", "description": "Dev talk", "info": "About the list",
            "subject_prefix": "[dev] ", "max_message_size": 100, "advertised": False,
            "default_nonmember_action": "hold", "reply_goes_to_list": "point_to_list",
            "archive_policy": "private", "subscription_policy": "moderate",
            "digest_volume_frequency": "weekly", "accept_these_nonmembers": ["friend@example.com"],
            "dmarc_mitigate_action": "munge_from", "member_roster_visibility": "members",
            "max_num_recipients": 25, "digest_size_threshold": 55.0,
            "send_welcome_message": False, "respond_to_post_requests": False,
            "acceptable_aliases": ["alias@example.org"], "filter_content": True,
            "filter_types": ["image/bmp"], "first_strip_reply_to": True,
            "administrivia": False, "admin_notify_mchanges": True,
            "autorespond_postings": "respond_and_continue", "autoresponse_postings_text": "Thanks",
        }
    )  # fmt: skip
    settings.save()
    subscribe = {"pre_verified": True, "pre_confirmed": True, "pre_approved": True}
    anne = mlist.subscribe("anne@example.org", "Anne Person", **subscribe)
    bart = mlist.subscribe("bart@example.org", "Bart Digest", **subscribe)
    carl = mlist.subscribe("carl@example.org", "Carl Nomail", **subscribe)
    mlist.add_owner("owner@example.org")
    mlist.add_moderator("mod@example.org")
    user = client.get_user("anne@example.org")
    user.password = "anne-secret"
    user.save()
    preferences = bart.preferences
    preferences["delivery_mode"] = "mime_digests"
    preferences["receive_own_postings"] = False
    preferences.save()
    preferences = carl.preferences
    preferences["delivery_status"] = "by_user"
    preferences["acknowledge_posts"] = True
    preferences.save()
    anne.moderation_action = "hold"
    anne.save()
    mlist.bans.add("troll@example.com")
    client.bans.add("^.*@spam\\.example$")
    mlist.header_matches.add("X-Spam", "yes", "discard")
    mlist.header_matches.add("Subject", "(?i)buy now", "hold")
    mlist.set_template("list:user:notice:welcome", "http://templates.example.org/welcome.txt")
    mlist.archivers["prototype"] = False
    # A pending request: the moderator's approval is what it waits for.
    mlist.subscribe("dora@example.org", "Dora Pending", pre_verified=True, pre_confirmed=True)
    # A footer of this list, as a file in Mailman's var/ (how a site overrides one).
    footer = home / "var" / "templates" / "lists" / "dev.example.org" / "en"
    footer.mkdir(parents=True, exist_ok=True)
    (footer / "list:member:regular:footer.txt").write_text(
        "-- \n$display_name at $listname\nLeave: ${short_listname}-leave@${domain}\n"
    )
    (footer / "list:user:notice:goodbye.txt").write_text("So long from $display_name.\n")
    # A post from a stranger, held as the list holds non-members' posts.
    with smtplib.LMTP("127.0.0.1", lmtp) as connection:
        connection.sendmail(
            "stranger@example.net",
            [LIST],
            b"From: Stranger <stranger@example.net>\r\nTo: dev@example.org\r\n"
            b"Subject: A question\r\nMessage-ID: <held-1@example.net>\r\n\r\nHello?\r\n",
        )
    wait_for(lambda: mlist.held, "Mailman holding the stranger's post", HELD_DEADLINE)


def _snapshot(client: Any, snapshot: MailmanSnapshot) -> None:
    mlist = client.get_list(LIST)
    snapshot.config = dict(mlist.settings)
    for member in [*client.members, *mlist.nonmembers]:
        info = {key: member.rest_data.get(key) for key in member.rest_data}
        snapshot.members.append(info)
        snapshot.preferences[f"{member.email}/{member.role}"] = dict(member.preferences)
    snapshot.users = [dict(user.rest_data) for user in client.users]
    emails = sorted({str(member.email) for member in client.members})
    snapshot.addresses = [dict(client.get_address(email).rest_data) for email in emails]
    snapshot.held = [dict(held.rest_data) for held in mlist.held]
    snapshot.requests = [dict(request) for request in mlist.requests]
    snapshot.header_matches = [dict(match.rest_data) for match in mlist.header_matches]
    snapshot.list_bans = [str(ban) for ban in mlist.bans]
    snapshot.site_bans = [str(ban) for ban in client.bans]
    snapshot.uris = {t.rest_data["name"]: t.rest_data["uri"] for t in mlist.templates}

"""Postorius and HyperKitty in a Django site of their own, beside a running Posthorn.

The site (``tests/web/django_site``) runs in the ``web`` peer venv, whose pins are
``REQUIREMENTS``.  ``migrated_state`` migrates an empty database once per test session;
each ``DjangoSite`` copies it, adds a superuser and runs Django's server on a loopback
port until it is stopped.  Its settings come from the environment (see settings.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.processes import stop
from tests.waiting import wait_for

SITE_DIR = Path(__file__).resolve().parent / "django_site"
# Postorius, HyperKitty and django-mailman3 as named in the issue; Django and allauth
# pinned to releases those accept, libsass for HyperKitty's stylesheet.
REQUIREMENTS = [
    "postorius==1.3.13",
    "hyperkitty==1.3.12",
    "django-mailman3==1.3.15",
    "mailmanclient==3.3.5",
    "Django==4.2.30",
    "django-allauth==65.22.1",
    "django-q2==1.10.0",
    "libsass==0.23.0",
]
ADMIN = ("admin", "admin@example.org", "a-web-password")
# A person with no rights on the web site: what they may do comes from Posthorn's lists.
PERSON = ("owner", "owner@example.org", "an-owner-password")
ARCHIVER_KEY = "an-archiver-key"
START_DEADLINE = 60.0


@dataclass
class Rest:
    """Where Posthorn's REST API answers, as the Django site is told."""

    url: str
    user: str
    password: str


def environment(bin_dir: Path, state: Path, rest: Rest, url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO")}
    env.update(
        DJANGO_SETTINGS_MODULE="settings",
        PYTHONPATH=str(SITE_DIR),
        POSTHORN_WEB_STATE=str(state),
        POSTHORN_WEB_SASS=str(bin_dir / "pysassc"),
        POSTHORN_WEB_URL=url,
        POSTHORN_REST_URL=rest.url,
        POSTHORN_REST_USER=rest.user,
        POSTHORN_REST_PASS=rest.password,
        POSTHORN_ARCHIVER_KEY=ARCHIVER_KEY,
    )
    return env


def django(bin_dir: Path, env: dict[str, str], *args: str) -> None:
    """One management command; its output becomes the error when it fails."""
    done = subprocess.run(
        [str(bin_dir / "python"), "-m", "django", *args],
        cwd=SITE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"django {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def migrated_state(bin_dir: Path, state: Path) -> Path:
    """``state`` holding a migrated database (no Posthorn needed for that)."""
    state.mkdir(parents=True, exist_ok=True)
    rest = Rest("http://127.0.0.1:9/3.1", "unused", "unused")
    django(bin_dir, environment(bin_dir, state, rest, ""), "migrate", "--no-input", "-v0")
    return state


class DjangoSite:
    """One Django server for Postorius and HyperKitty on ``port``, with its own state."""

    def __init__(self, bin_dir: Path, template: Path, state: Path, port: int, rest: Rest):
        self.bin_dir, self.state, self.port = bin_dir, state, port
        self.url = f"http://127.0.0.1:{port}"
        shutil.copytree(template, state)
        self.env = environment(bin_dir, state, rest, self.url)
        self.process: subprocess.Popen[bytes] | None = None
        self.log = state / "server.log"

    def prepare(self) -> None:
        """The two accounts, and the web host named as the browser reaches it (one start)."""
        code = (
            "from django.contrib.auth.models import User; "
            "from django.contrib.sites.models import Site; "
            "from allauth.account.models import EmailAddress; "
            f"User.objects.create_superuser(*{ADMIN!r}); "
            f"person = User.objects.create_user(*{PERSON!r}); "
            f"EmailAddress.objects.create(user=person, email={PERSON[1]!r}, verified=True, "
            "primary=True); "
            f"Site.objects.filter(id=1).update(domain='127.0.0.1:{self.port}', name='Posthorn')"
        )
        django(self.bin_dir, self.env, "shell", "-c", code)

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(self.bin_dir / "python"), "-m", "django", "runserver", "--noreload",
                 f"127.0.0.1:{self.port}"],
                cwd=SITE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        process = self.process

        def answers() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"the Django server exited:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/accounts/login/", timeout=5):
                    return True
            except (OSError, urllib.error.URLError):
                return False

        try:
            wait_for(answers, "the Django server's login page", START_DEADLINE)
        except AssertionError as error:
            raise RuntimeError(f"{error}:\n{self.log.read_text()}") from None

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)

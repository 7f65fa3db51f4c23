"""A real news server for tests: INN (Debian's ``inn2``), private, on 127.0.0.1.

``NewsServer`` builds an INN tree of its own in a temporary folder (configuration,
active file, history, spool; nothing of the system's INN is used but its programs),
starts ``innd`` on a free loopback port as the ``news`` user, and stops it by its PID.
Readers from 127.0.0.1 may read and post in every group.  When INN is not installed
the set-up installs it with apt-get (as root); where that cannot be done the test is
skipped with the reason.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

import pytest

from tests.processes import free_port
from tests.waiting import wait_for

__all__ = ["NewsServer"]

BIN = Path("/usr/lib/news/bin")
START_DEADLINE = 20.0

INN_CONF = """\
organization: "Posthorn tests"
pathhost: news.example.test
domain: example.test
server: 127.0.0.1
bindaddress: 127.0.0.1
port: {port}
ovmethod: tradindexed
hismethod: hisv6
enableoverview: true
storeonxref: true
wireformat: true
nnrpdloadlimit: 0
doinnwatch: false
pgpverify: false
noreader: false
readerswhenstopped: false
artcutoff: 0
pathnews: /usr/lib/news
mta: "/bin/true %s"
pathbin: /usr/lib/news/bin
pathcontrol: /usr/lib/news/bin/control
pathfilter: {root}/filter
pathetc: {root}/etc
pathdb: {root}/db
pathspool: {root}/spool
patharticles: {root}/spool/articles
pathoverview: {root}/spool/overview
pathincoming: {root}/spool/incoming
pathoutgoing: {root}/spool/outgoing
patharchive: {root}/spool/archive
pathhttp: {root}/http
pathlog: {root}/log
pathrun: {root}/run
pathtmp: {root}/tmp
"""
FILES = {
    "etc/storage.conf": "method tradspool {\n    newsgroups: *\n    class: 0\n}\n",
    "etc/readers.conf": (
        'auth "local" {\n    hosts: "127.0.0.1, localhost"\n    default: "<local>"\n}\n'
        'access "local" {\n    users: "<local>"\n    newsgroups: "*"\n    access: RPA\n}\n'
    ),
    "etc/incoming.conf": 'peer ME {\n    hostname: "127.0.0.1, localhost"\n}\n',
    "etc/newsfeeds": "ME:!*/!local::\n",
    "etc/expire.ctl": "*:A:never:never:never\n",
    "db/newsgroups": "",
    "db/active.times": "",
}


def _installed() -> str | None:
    """None when INN can run here, else why not (after trying to install it)."""
    if not (BIN / "innd").exists():
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            return "INN (Debian package inn2) is not installed and cannot be installed here"
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "inn2"],
                       capture_output=True, timeout=600, check=False)  # fmt: skip
        if not (BIN / "innd").exists():
            return "apt-get install inn2 failed"
    if os.geteuid() != 0:
        return "innd must be started as the news user, which needs root"
    try:
        pwd.getpwnam("news")
    except KeyError:
        return "there is no news user"
    return None


class NewsServer:
    """``with NewsServer(["local.test"]) as news:`` -- INN on 127.0.0.1:``news.port``."""

    def __init__(self, groups: list[str]) -> None:
        self.groups = groups
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="posthorn-inn-"))
        self.process: subprocess.Popen[bytes] | None = None

    def _build(self) -> None:
        for folder in ("etc", "db", "filter", "spool/articles", "spool/overview",
                       "spool/incoming", "spool/outgoing", "spool/archive", "http", "log",
                       "run", "tmp"):  # fmt: skip
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        (self.root / "etc/inn.conf").write_text(INN_CONF.format(port=self.port, root=self.root))
        for name, text in FILES.items():
            (self.root / name).write_text(text)
        active = [f"{group} 0000000000 0000000001 y" for group in self.groups]
        active += [f"{g} 0000000000 0000000001 n" for g in ("control", "control.cancel", "junk")]
        (self.root / "db/active").write_text("\n".join(active) + "\n")
        (self.root / "db/history").write_text("")
        news = pwd.getpwnam("news")
        for path in [self.root, *self.root.rglob("*")]:
            os.chown(path, news.pw_uid, news.pw_gid)
        self.root.chmod(0o755)
        self._as_news([str(BIN / "makedbz"), "-i", "-o"], cwd=self.root / "db")

    def _as_news(self, command: list[str], **kwargs: object) -> None:
        subprocess.run(command, env=self._env(), user="news", group="news", extra_groups=[],
                       capture_output=True, timeout=30, check=True, **kwargs)  # type: ignore[call-overload]  # fmt: skip

    def _env(self) -> dict[str, str]:
        return {**os.environ, "INNCONF": str(self.root / "etc/inn.conf")}

    def __enter__(self) -> NewsServer:
        reason = _installed()
        if reason is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            pytest.skip(reason)
        try:
            self._build()
        except (OSError, subprocess.SubprocessError) as error:
            shutil.rmtree(self.root, ignore_errors=True)
            said = getattr(error, "stderr", b"") or b""
            pytest.fail(f"cannot set up INN: {error} {said.decode(errors='replace')}")
        self.process = subprocess.Popen(
            [str(BIN / "innd"), "-f"], env=self._env(), user="news", group="news",
            extra_groups=[], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        process = self.process

        def greets() -> bool:
            if process.poll() is not None:
                self.__exit__(None, None, None)
                pytest.fail(f"innd exited with {process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    return sock.recv(512)[:1] == b"2"
            except OSError:
                return False

        try:
            wait_for(greets, f"innd's greeting on port {self.port}", START_DEADLINE)
        except AssertionError as error:
            self.__exit__(None, None, None)
            pytest.fail(str(error))
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            # innd's session: innd and the nnrpd children it forked.
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(3)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(5)
        shutil.rmtree(self.root, ignore_errors=True)

"""A whole site for end-to-end tests: its config, its database and its running master.

``write_site_config`` writes ``<tmp>/posthorn.cfg`` with the var dir at ``<tmp>/var``
and every runner switched off except the ones a test names; ``prepared_site`` opens
that site with its databases upgraded so a test can create lists and members, and
``open_site`` opens it to look at or change while the master runs;
``running_master`` starts the master, waits for its LMTP greeting and stops it again;
``master_with_sink`` does all of that with an SMTP sink standing in for the MTA.
Tests wait on conditions with ``wait_for``, never on fixed sleeps.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest
from click.testing import CliRunner

from posthorn.cli import main
from posthorn.config import load_config
from posthorn.site import Site
from tests.processes import START_DEADLINE, free_port, runners_started, start_master, stop
from tests.smtpsink import SMTPSink, running_sink
from tests.waiting import wait_for

SITE_FILE = "posthorn.cfg"


def write_site_config(
    tmp: Path,
    *,
    lmtp_port: int,
    smtp_port: int | None = None,
    running: Collection[str],
    extra_sections: Mapping[str, Mapping[str, object]] | None = None,
) -> Path:
    """``<tmp>/posthorn.cfg``: the runners in ``running`` start, no other runner does.

    ``extra_sections`` adds sections, or keys to the ``[mta]`` and runner sections.
    """
    var_dir = tmp / "var"
    mta: dict[str, object] = {"lmtp_port": lmtp_port}
    if smtp_port is not None:
        mta["smtp_port"] = smtp_port
    sections: dict[str, dict[str, object]] = {"paths": {"var_dir": var_dir}, "mta": mta}
    for name, values in (extra_sections or {}).items():
        sections.setdefault(name, {}).update(values)
    defaults = load_config(None, overrides={"paths": {"var_dir": str(var_dir)}})
    for name in defaults.named("runner"):
        if name not in running:
            sections.setdefault(f"runner.{name}", {})["start"] = "no"
    text = "\n\n".join(
        "\n".join([f"[{name}]", *(f"{key}: {value}" for key, value in values.items())])
        for name, values in sections.items()
    )
    path = tmp / SITE_FILE
    path.write_text(text + "\n")
    return path


@contextmanager
def open_site(site_file: Path) -> Iterator[Site]:
    """The site of ``site_file``, closed when the block ends."""
    site = Site(load_config(site_file))
    try:
        yield site
    finally:
        site.close()


@contextmanager
def prepared_site(site_file: Path) -> Iterator[Site]:
    """The site of ``site_file`` with its databases upgraded, closed afterwards."""
    with open_site(site_file) as site:
        site.databases.upgrade()
        yield site


def wait_for_greeting(process: subprocess.Popen[bytes], port: int, var_dir: Path) -> None:
    def greets() -> bool:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            pytest.fail(f"the master exited with {process.returncode}:\n{output}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if not sock.recv(512).startswith(b"220"):
                    return False
        except OSError:
            return False
        return runners_started(var_dir, process.pid)

    try:
        wait_for(greets, f"an LMTP greeting on port {port}, every runner forked", START_DEADLINE)
    except AssertionError as error:
        logs = "\n".join(p.read_text() for p in (var_dir / "logs").glob("*.log"))
        pytest.fail(f"{error}\n{logs}")


@contextmanager
def running_master(
    site_file: Path, lmtp_port: int, output: int | IO[bytes] | None = subprocess.PIPE
) -> Iterator[subprocess.Popen[bytes]]:
    """The master of a site from ``write_site_config``, greeting on ``lmtp_port``."""
    tmp = site_file.parent
    process = start_master(site_file, tmp, output)
    try:
        wait_for_greeting(process, lmtp_port, tmp / "var")
        yield process
    finally:
        stop(process)


def bare_site(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site file naming only a var dir under ``tmp`` (made, as a started site has it),
    for CLI commands run in ``tmp``."""
    monkeypatch.delenv("POSTHORN_CONFIG", raising=False)
    monkeypatch.chdir(tmp)
    (tmp / "var").mkdir(exist_ok=True)
    config = tmp / SITE_FILE
    config.write_text(f"[paths]\nvar_dir: {tmp / 'var'}\n")
    return config


def run_cli(site_file: Path, *args: str) -> tuple[int, str]:
    """``posthorn -C site_file ARGS``: its exit code and output; it must not crash."""
    result = CliRunner().invoke(main, ["-C", str(site_file), *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@contextmanager
def master_with_sink(
    tmp: Path,
    *,
    running: Collection[str],
    arrange: Callable[[Site], object],
    extra_sections: Mapping[str, Mapping[str, object]] | None = None,
    output: int | IO[bytes] | None = subprocess.PIPE,
) -> Iterator[tuple[Path, int, SMTPSink]]:
    """A site whose MTA is a sink, arranged and running: its file, LMTP port and sink."""
    lmtp_port = free_port()
    with running_sink() as sink:
        path = write_site_config(
            tmp, lmtp_port=lmtp_port, smtp_port=sink.port, running=running,
            extra_sections=extra_sections,
        )  # fmt: skip
        with prepared_site(path) as site:
            arrange(site)
        with running_master(path, lmtp_port, output):
            yield path, lmtp_port, sink

"""``posthorn archive-server``: the reference LMTP archive server, in the foreground.

It stores like the ``prototype`` archiver (``DIR/LIST-ID/new/KEY``) and answers 553 to
a RCPT whose permalink is taken, which is the protocol the ``lmtp`` archiver speaks.
Stop it with SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from posthorn.archivers.lmtp_server import ArchiveServer
from posthorn.cli import CliContext, pass_cli


@click.command()
@click.option("--host", default=None, help="Address to listen on ([archiver.lmtp] host).")
@click.option("--port", type=int, default=None, help="Port ([archiver.lmtp] port).")
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=None,
              help="Archive directory (default: $archive_dir/lmtp-server).")  # fmt: skip
@pass_cli
def command(cli: CliContext, host: str | None, port: int | None, directory: Path | None) -> None:
    """Serve an LMTP archive until stopped."""
    section = cli.config["archiver.lmtp"]
    root = directory or cli.config.path("archive_dir") / "lmtp-server"
    server = ArchiveServer(
        root, host or section.get_str("host"), port if port is not None else section.get_int("port")
    )
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    server.start()
    click.echo(f"archive server on {server.host}:{server.port}, storing in {root}")
    try:
        stopping.wait()
    finally:
        server.stop()


command.name = "archive-server"

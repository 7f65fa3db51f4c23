"""MTA configuration for the lists: Postfix maps and an Exim router, kept current.

The MTA must know which addresses are ours and that they go to the LMTP runner.
``write_aliases`` writes, to ``[paths] data_dir`` unless told otherwise:

- ``postfix_lmtp``: a Postfix ``transport_maps`` table mapping every list address and
  each of its sub-addresses (``-bounces``, ``-owner``, ``-request``, ...) to
  ``lmtp:[lmtp_host]:lmtp_port``.  VERP and token addresses (``dev-bounces+...``) need
  no entries of their own: with ``recipient_delimiter = +`` Postfix looks up the
  address without its extension as well;
- ``postfix_domains``: a ``relay_domains`` table of every domain that has a list;
- ``exim_lists`` (the posting addresses, an ``lsearch`` file) and ``exim_router``, a
  router and transport to paste into (or ``.include`` from) the Exim configuration.

The Postfix tables are in the text form ``postmap`` reads.  ``[mta] postmap_command``
(``postmap`` by default, as ``etc/postfix/main.cf.example`` uses ``hash:`` tables) is
run on each after writing, so the ``.db`` files are rebuilt; where no ``postmap`` is
installed the default is skipped, and ``posthorn aliases`` says so.  A postmap that
fails (Debian's ``postfix`` package installed but not configured: no
``/etc/postfix/main.cf``) is an error for ``posthorn aliases``; when a list is created or
removed, the change stands, the tables are written, and the failure is a warning in
the log (and on the terminal of ``posthorn create`` and ``remove``).  The example
shows the Postfix side.  The file names are GNU Mailman's, so existing Postfix set-ups carry over.

Each file is replaced atomically (written aside, then renamed), so the MTA never reads
half a table, and writers in several processes are serialised by a lock file.
``RegenerateTables`` is the event subscriber that rewrites them whenever a list is
created or removed.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shlex
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from posthorn.config import BUILTIN, Config
from posthorn.errors import PosthornError
from posthorn.events import Event, ListCreatedEvent, ListDeletedEvent
from posthorn.intake.list_addresses import SUBADDRESSES

if TYPE_CHECKING:
    # Only for annotations: the site may import this module to subscribe to events.
    from posthorn.site import Site

__all__ = [
    "AliasError",
    "PostmapFailed",
    "RegenerateTables",
    "render",
    "warnings_echoed",
    "write_aliases",
]

POSTFIX_TRANSPORT = "postfix_lmtp"
POSTFIX_DOMAINS = "postfix_domains"
EXIM_LISTS = "exim_lists"
EXIM_ROUTER = "exim_router"
LOCK_NAME = "aliases.lock"
HEADER = "# Written by `posthorn aliases`; changes here are overwritten.\n"

log = logging.getLogger("posthorn.mta")


class AliasError(PosthornError):
    """The MTA files could not be written or postmap failed; the text says which."""


class PostmapFailed(AliasError):
    """postmap failed on a table, or cannot be found; the text tables are written."""


def list_addresses(fqdn_listname: str) -> list[str]:
    """The posting address and every sub-address of one list."""
    local, _, domain = fqdn_listname.partition("@")
    return [fqdn_listname, *(f"{local}-{suffix}@{domain}" for suffix in sorted(SUBADDRESSES))]


def render(config: Config, lists: Iterable[str], output_dir: Path) -> dict[str, str]:
    """The text of every file, by file name, for the given posting addresses."""
    mta = config["mta"]
    host, port = mta.get_str("lmtp_host"), mta.get_int("lmtp_port")
    postings = sorted({name.lower() for name in lists})
    domains = sorted({name.partition("@")[2] for name in postings})
    nexthop = f"lmtp:[{host}]:{port}"
    transport = [f"{address} {nexthop}" for name in postings for address in list_addresses(name)]
    return {
        POSTFIX_TRANSPORT: HEADER + "".join(line + "\n" for line in transport),
        POSTFIX_DOMAINS: HEADER + "".join(f"{domain} {domain}\n" for domain in domains),
        EXIM_LISTS: HEADER + "".join(name + "\n" for name in postings),
        EXIM_ROUTER: _exim_router(domains, output_dir / EXIM_LISTS, host, port),
    }


def _exim_router(domains: list[str], lists_file: Path, host: str, port: int) -> str:
    # Exim strips the first matching suffix, so the lookup sees the list's own address;
    # "+*" last lets dev+anything@ post to dev, as Postfix's recipient_delimiter does.
    suffixes = [f"-{name}+*" for name in ("bounces", "confirm")]
    suffixes += [f"-{name}" for name in sorted(SUBADDRESSES)] + ["+*"]
    return HEADER + "\n".join(
        [
            "# Router: put it in the routers section, before dnslookup.",
            "posthorn_router:",
            "  driver = accept",
            f"  domains = {' : '.join(domains) or '!*'}",
            f"  local_part_suffix = {' : '.join(suffixes)}",
            "  local_part_suffix_optional",
            "  condition = ${lookup{${lc:$local_part}@${lc:$domain}}"
            f"lsearch{{{lists_file}}}{{true}}{{false}}}}",
            "  transport = posthorn_lmtp",
            "",
            "# Transport: put it in the transports section.",
            "posthorn_lmtp:",
            "  driver = smtp",
            "  protocol = lmtp",
            f"  hosts = {host}",
            f"  port = {port}",
            "  allow_localhost",
            "",
        ]
    )


def write_aliases(
    site: Site,
    output_dir: Path | None = None,
    *,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
) -> list[Path]:
    """Write every file for the site's lists (plus ``include``, minus ``exclude``).

    ``include`` and ``exclude`` let an event subscriber be right about the list that
    changed even if its own database session does not see the change yet.
    """
    config = site.config
    directory = (output_dir or config.path("data_dir")).resolve()
    lock_dir = config.path("lock_dir")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        lock_dir.mkdir(parents=True, exist_ok=True)
        with open(lock_dir / LOCK_NAME, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            names = {mlist.fqdn_listname for mlist in site.lists.lists()}
            names = (names | set(include)) - set(exclude)
            written = [
                _replace(directory / name, text)
                for name, text in render(config, names, directory).items()
            ]
            _postmap(config, [directory / POSTFIX_TRANSPORT, directory / POSTFIX_DOMAINS])
    except OSError as error:
        raise AliasError(f"cannot write the MTA files in {directory}: {error}") from None
    return written


def _replace(path: Path, text: str) -> Path:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temp, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, path)
    return path


def postmap_argv(config: Config) -> list[str] | None:
    """The postmap command to run on each table, or None for none.

    The default, ``postmap`` from the PATH, is run where Postfix is installed and
    quietly left out where it is not (a development machine, an Exim site); a command
    the site file names must exist.
    """
    mta = config["mta"]
    argv = shlex.split(mta.get_str("postmap_command"))
    if not argv:
        return None
    if shutil.which(argv[0]) is None:
        if mta.source("postmap_command") == BUILTIN:
            return None
        raise PostmapFailed(f"[mta] postmap_command: {argv[0]} not found")
    return argv


def _postmap(config: Config, tables: list[Path]) -> None:
    command = postmap_argv(config)
    if command is None:
        return
    for table in tables:
        argv = [*command, str(table)]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            detail = done.stderr.strip() or f"exit status {done.returncode}"
            raise PostmapFailed(f"{' '.join(argv)} failed: {detail}")


class RegenerateTables:
    """Event subscriber: rewrite the MTA files when a list is created or removed.

    Named in ``[events] subscribers`` (there by default), bound to the site through
    ``from_site``; other events are ignored.
    """

    def __init__(self, site: Site) -> None:
        self.site = site

    @classmethod
    def from_site(cls, site: Site) -> RegenerateTables:
        return cls(site)

    def __call__(self, event: Event) -> None:
        include: list[str] = []
        exclude: list[str] = []
        if isinstance(event, ListCreatedEvent):
            include.append(event.fqdn_listname)
        elif isinstance(event, ListDeletedEvent):
            exclude.append(event.fqdn_listname)
        else:
            return
        # The list change is made whatever happens here: what the MTA files lack is
        # said once, plainly, for the administrator to fix and then run `posthorn
        # aliases`; a traceback would add nothing to the text.
        try:
            write_aliases(self.site, include=include, exclude=exclude)
        except PostmapFailed as error:
            log.warning("%s; the MTA tables are written, but Postfix reads the old .db files "
                        "until postmap succeeds (configure Postfix, or set [mta] "
                        "postmap_command), then run `posthorn aliases`", error)  # fmt: skip
        except AliasError as error:
            log.error("%s; the list change is made, the MTA tables are not "
                      "(run `posthorn aliases` once it is fixed)", error)  # fmt: skip


class _Echo(logging.Handler):
    def __init__(self, echo: Callable[[str], None]) -> None:
        super().__init__(logging.WARNING)
        self._echo = echo

    def emit(self, record: logging.LogRecord) -> None:
        self._echo(f"{record.levelname.capitalize()}: {record.getMessage()}")


@contextmanager
def warnings_echoed(echo: Callable[[str], None]) -> Iterator[None]:
    """Show the person running a command what the MTA tables lack, as it is logged.

    A command that creates or removes a list succeeds even when the tables could not
    be brought up to date; this is how its user hears of it.
    """
    handler = _Echo(echo)
    log.addHandler(handler)
    try:
        yield
    finally:
        log.removeHandler(handler)

"""``posthorn archivers [LIST]``: the archivers, their health, and per-list switches.

Without LIST: every ``[archiver.NAME]`` with whether the site enables it, the depth of
queue ``archive``, and each archiver's counts and last error from the archive runner's
status file.  With LIST: which site-enabled archivers the list feeds, its
``archive_policy``; ``--enable NAME`` / ``--disable NAME`` switch one for that list.
"""

from __future__ import annotations

import json
import time
from typing import Any

import click

from posthorn.archivers.loading import configured_archivers
from posthorn.archivers.status import ArchiveStatus
from posthorn.cli import CliContext, pass_cli
from posthorn.errors import NoSuchListError
from posthorn.queuing import queue_store


def site_report(cli: CliContext) -> dict[str, Any]:
    config = cli.config
    store = queue_store(config)
    depth = len(store.open("archive").entries()) if store.exists("archive") else 0
    status = ArchiveStatus(config.path("run_dir") / "archivers.json").load()
    archivers = {}
    for name, enabled in configured_archivers(cli.site).items():
        archivers[name] = {
            "enabled": enabled,
            "class": config[f"archiver.{name}"].get_str("class") or "(built-in)",
            **status.get(name, {}),
        }
    return {"queue_depth": depth, "archivers": archivers}


def list_report(cli: CliContext, listspec: str, on: tuple[str, ...], off: tuple[str, ...]) -> Any:
    site = cli.site
    mlist = site.lists.get(listspec)
    if mlist is None:
        raise NoSuchListError(listspec)
    enabled = {name for name, yes in configured_archivers(site).items() if yes}
    unknown = sorted((set(on) | set(off)) - enabled)
    if unknown:
        raise click.ClickException(f"not enabled for the site: {', '.join(unknown)}")
    if on or off:
        disabled = (set(mlist.disabled_archivers) - set(on)) | set(off)
        mlist = site.lists.update(mlist.list_id, disabled_archivers=tuple(sorted(disabled)))
    never = mlist.archive_policy == "never"
    switches = {
        name: not never and name not in mlist.disabled_archivers for name in sorted(enabled)
    }
    return {"list_id": mlist.list_id, "archive_policy": mlist.archive_policy, "archivers": switches}


def _when(stamp: Any) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(stamp))) if stamp else "-"


def print_site(report: dict[str, Any]) -> None:
    click.echo(f"queue archive: {report['queue_depth']} entries")
    for name, info in report["archivers"].items():
        state = "enabled" if info["enabled"] else "disabled"
        click.echo(
            f"{name}: {state}, {info['class']}; archived {info.get('archived', 0)}, "
            f"failed {info.get('failed', 0)}, last success {_when(info.get('last_success'))}"
        )
        if info.get("last_error"):
            click.echo(f"    last error {_when(info.get('last_error_at'))}: {info['last_error']}")


@click.command()
@click.argument("listspec", required=False)
@click.option("--enable", "on", multiple=True, metavar="NAME", help="Switch on for LIST.")
@click.option("--disable", "off", multiple=True, metavar="NAME", help="Switch off for LIST.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_cli
def command(
    cli: CliContext, listspec: str | None, on: tuple[str, ...], off: tuple[str, ...], as_json: bool
) -> None:
    """Show the archivers (site-wide, or for LIST) and switch them per list."""
    if listspec is None:
        if on or off:
            raise click.UsageError("--enable/--disable need a LIST")
        report = site_report(cli)
        if as_json:
            click.echo(json.dumps(report, indent=2, sort_keys=True))
        else:
            print_site(report)
        return
    found = list_report(cli, listspec, on, off)
    if as_json:
        click.echo(json.dumps(found, indent=2, sort_keys=True))
        return
    click.echo(f"{found['list_id']}: archive_policy {found['archive_policy']}")
    for name, state in found["archivers"].items():
        click.echo(f"{name}: {'on' if state else 'off'}")


command.name = "archivers"

"""MTA tables: what they contain, where they go, and that list changes rewrite them."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from posthorn.cli import main
from posthorn.config import Config
from posthorn.mta.aliases import AliasError, write_aliases
from posthorn.site import Site

SUFFIXES = ["bounces", "confirm", "join", "leave", "owner", "request", "subscribe", "unsubscribe"]


def table(path: Path) -> dict[str, str]:
    """A Postfix table as postmap reads it: comments skipped, key then value."""
    rows = [line.split() for line in path.read_text().splitlines() if not line.startswith("#")]
    return {key: value for key, value in rows}


ConfigFactory = Callable[..., Config]
SiteFactory = Callable[[Config], Site]


@pytest.fixture
def config(make_config: ConfigFactory) -> Config:
    return make_config(mta={"lmtp_host": "127.0.0.2", "lmtp_port": "9024"})


def test_postfix_and_exim_files(site: Site, tmp_path: Path) -> None:
    site.lists.create("dev@example.org")
    site.lists.create("news@example.com")
    written = write_aliases(site, tmp_path / "out")
    assert sorted(path.name for path in written) == [
        "exim_lists",
        "exim_router",
        "postfix_domains",
        "postfix_lmtp",
    ]
    transport = table(tmp_path / "out" / "postfix_lmtp")
    expected = {"dev@example.org", *(f"dev-{suffix}@example.org" for suffix in SUFFIXES)}
    assert expected <= set(transport)
    assert len(transport) == 2 * (1 + len(SUFFIXES))
    assert set(transport.values()) == {"lmtp:[127.0.0.2]:9024"}
    assert table(tmp_path / "out" / "postfix_domains") == {
        "example.com": "example.com",
        "example.org": "example.org",
    }
    router = (tmp_path / "out" / "exim_router").read_text()
    assert "domains = example.com : example.org" in router
    assert f"lsearch{{{tmp_path / 'out' / 'exim_lists'}}}" in router
    assert "port = 9024" in router and "protocol = lmtp" in router


def test_default_directory_is_data_dir(site: Site, config: Config) -> None:
    written = write_aliases(site)
    assert {path.parent for path in written} == {config.path("data_dir")}


def test_list_changes_regenerate_the_tables(site: Site, config: Config) -> None:
    # The default [events] subscribers rewrite the tables on creation and removal.
    transport = config.path("data_dir") / "postfix_lmtp"
    site.lists.create("dev@example.org")
    assert "dev-owner@example.org" in table(transport)
    site.lists.create("ops@example.org")
    site.lists.remove("dev@example.org")
    assert "dev@example.org" not in table(transport)
    assert "ops@example.org" in table(transport)


def test_the_tables_follow_the_lists_only_as_configured(
    make_config: ConfigFactory, make_site: SiteFactory
) -> None:
    # The subscriber is configuration like any other: a site that names none keeps
    # its tables by hand (posthorn aliases).
    config = make_config(events={"subscribers": ""})
    make_site(config).lists.create("dev@example.org")
    assert not (config.path("data_dir") / "postfix_lmtp").exists()


def test_postmap_is_run_when_configured(make_config: ConfigFactory, make_site: SiteFactory) -> None:
    # A stand-in for postmap that records the tables it was given.
    script = "import sys, pathlib; pathlib.Path(sys.argv[1] + '.db').write_text('x')"
    config = make_config(mta={"postmap_command": f'{sys.executable} -c "{script}"'})
    site = make_site(config)
    site.lists.create("dev@example.org")
    write_aliases(site)
    data_dir = config.path("data_dir")
    assert (data_dir / "postfix_lmtp.db").exists()
    assert (data_dir / "postfix_domains.db").exists()


def test_failing_postmap_is_an_error(make_config: ConfigFactory, make_site: SiteFactory) -> None:
    config = make_config(mta={"postmap_command": f"{sys.executable} -c 'raise SystemExit(3)'"})
    with pytest.raises(AliasError, match="exit status 3"):
        write_aliases(make_site(config))


def test_cli_writes_to_output_dir(site: Site, config: Config, tmp_path: Path) -> None:
    site.lists.create("dev@example.org")
    site_file = tmp_path / "posthorn.cfg"
    site_file.write_text(f"[paths]\nvar_dir: {config.path('var_dir')}\n")
    result = CliRunner().invoke(main, ["-C", str(site_file), "aliases", "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert str(tmp_path / "o" / "postfix_lmtp") in result.output
    assert "dev-bounces@example.org" in table(tmp_path / "o" / "postfix_lmtp")


def test_default_postmap_agrees_with_the_example(
    site: Site, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = (Path(__file__).parents[2] / "etc" / "postfix" / "main.cf.example").read_text()
    assert "hash:/" in example and config["mta"].get_str("postmap_command") == "postmap"
    site.lists.create("dev@example.org")
    site_file = tmp_path / "posthorn.cfg"
    site_file.write_text(f"[paths]\nvar_dir: {config.path('var_dir')}\n")
    # No postmap on the PATH: the tables are written, the command says what it skipped.
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    skipped = CliRunner().invoke(main, ["-C", str(site_file), "aliases"])
    assert skipped.exit_code == 0, skipped.output
    assert "postmap not found" in skipped.output
    # A postmap on the PATH is run on each table.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "postmap"
    fake.write_text(f"#!{sys.executable}\nimport sys, pathlib\n"
                    "pathlib.Path(sys.argv[1] + '.db').write_text('x')\n")  # fmt: skip
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    ran = CliRunner().invoke(main, ["-C", str(site_file), "aliases"])
    assert ran.exit_code == 0 and "postmap not found" not in ran.output
    assert (config.path("data_dir") / "postfix_lmtp.db").exists()


def test_a_postmap_set_in_the_file_must_exist(
    make_config: ConfigFactory, make_site: SiteFactory
) -> None:
    config = make_config(mta={"postmap_command": "/nonexistent/postmap"})
    with pytest.raises(AliasError, match="/nonexistent/postmap not found"):
        write_aliases(make_site(config))

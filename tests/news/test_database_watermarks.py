"""The news gateway's watermarks on PostgreSQL: one host's poll writes, another's reads."""

from __future__ import annotations

from pathlib import Path

from posthorn.config import load_config
from posthorn.model.news_watermarks import DatabaseWatermarks
from posthorn.runners.nntp import NNTPRunner
from posthorn.site import Site

LIST = "dev@example.org"


def host(tmp: Path, name: str, url: str) -> Site:
    overrides = {"paths": {"var_dir": str(tmp / name / "var")}, "database": {"url": url}}
    site = Site(load_config(None, overrides=overrides))
    site.databases.upgrade()
    return site


def test_a_watermark_set_on_one_host_is_read_on_another(tmp_path: Path, postgres_url: str) -> None:
    sites = [host(tmp_path, "a", postgres_url), host(tmp_path, "b", postgres_url)]
    runners = [NNTPRunner(site, "nntp") for site in sites]
    try:
        sites[0].lists.create(LIST, owners=["owner@example.org"])
        sites[0].lists.update(LIST, linked_newsgroup="local.test")
        mlist = sites[1].lists.get(LIST)
        assert mlist is not None
        first, second = (runner.watermarks for runner in runners)
        assert isinstance(first, DatabaseWatermarks)
        assert second.get(mlist) is None
        first.set(mlist, 41)
        first.set(mlist, 42)
        assert second.get(mlist) == 42
        sites[0].lists.update(LIST, linked_newsgroup="local.other")
        other = sites[1].lists.get(LIST)
        assert other is not None and second.get(other) is None
    finally:
        for runner in runners:
            runner.close()
        for site in sites:
            site.close()

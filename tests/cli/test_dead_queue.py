"""Queue ``dead``: shown by ``posthorn queues`` and ``where``, emptied by ``unshunt``.

A real site refuses a post after DATA (the fault stack's content filter); the operator
finds it, fixes the cause and re-queues it, and every member gets it once, with no
second notice to the owners.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from posthorn.config import ConfigError, load_config
from posthorn.runners.slots import runner_specs
from tests.faults.stack import Poster, build, make_post
from tests.sites import bare_site
from tests.sites import run_cli as run
from tests.waiting import wait_for

MID = "<dead-1@example.net>"
REPLY = "554 5.7.1 Message content refused"


def test_queues_always_lists_the_queues_a_person_empties(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = bare_site(tmp_path, monkeypatch)
    code, output = run(site, "queues", "--json")
    assert code == 0, output
    rows = {row["queue"]: row for row in json.loads(output)}
    assert {"bad", "dead", "shunt"} <= set(rows)
    assert rows["dead"]["queued"] == 0 and rows["dead"]["oldest"] is None


def test_dead_is_a_reserved_runner_name(tmp_path: Path) -> None:
    path = tmp_path / "posthorn.cfg"
    path.write_text(f"[paths]\nvar_dir: {tmp_path / 'var'}\n\n[runner.dead]\nclass: outgoing\n")
    with pytest.raises(ConfigError, match="reserved names"):
        runner_specs(load_config(path))


def test_a_refused_post_is_found_in_dead_and_requeued(tmp_path: Path) -> None:
    stack = build(tmp_path, 3)
    stack.sink.refuse_data = lambda content: REPLY if b"forbidden" in content else None
    owner = "owner@example.org"
    try:
        stack.start()
        post = make_post(MID, 1).replace(b"Body line 0", b"Body line 0 forbidden")
        Poster(stack.lmtp_port).post(1, post, mid=MID)
        wait_for(lambda: stack.queue_files("dead"), "the post on queue dead", 30)

        code, output = run(stack.site_file, "queues", "--json")
        assert code == 0, output
        rows = {row["queue"]: row for row in json.loads(output)}
        assert rows["dead"]["queued"] == 1
        code, output = run(stack.site_file, "where", MID)
        assert code == 0, output
        assert "queue dead (queued)" in output and REPLY in output

        stack.sink.refuse_data = None  # the operator fixed the cause
        code, output = run(stack.site_file, "unshunt", "--queue", "dead")
        assert code == 0, output
        assert "-> outgoing" in output and "1 entries re-queued" in output
        outcome = stack.wait_delivered([MID], 30)
        assert outcome.missing == [] and outcome.duplicates == 0

        def notices() -> int:
            with stack.sink.lock:
                return sum(owner in r for _, r, _ in stack.sink.received)

        # The owners' notice goes its own way (virgin, then outgoing): wait for it.
        wait_for(lambda: notices(), "the owners' notice", 30)
        stack.wait_idle()  # a second notice, were there one, would be on its way until then
        assert notices() == 1
        assert not stack.queue_files("dead")
    finally:
        stack.stop()
        stack.sink.stop()

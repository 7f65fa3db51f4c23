"""Counting posts whose number is shown nowhere, from blocks of numbers reserved ahead."""

from __future__ import annotations

import os
import signal

import pytest

from posthorn.model import post_counts
from posthorn.model.post_counts import BLOCK_MAX, PostCounter
from posthorn.site import Site
from tests.processes import in_child

LIST = "dev@example.org"


def counter(site: Site) -> PostCounter:
    """A second counter on the same database, as another runner process has."""
    return PostCounter(site.databases.session_factory("list"))


def post_id(site: Site) -> int:
    return site.lists.require(LIST).post_id


def test_a_burst_is_counted_from_growing_blocks_and_settles_exact(site: Site) -> None:
    site.lists.create(LIST)
    numbers = [site.lists.record_post(LIST, shown=False) for _ in range(100)]
    assert numbers == list(range(2, 102))
    # The high-water mark: past every number handed out, short of one block more.
    assert 101 <= post_id(site) <= 101 + BLOCK_MAX
    assert site.lists.settle_posts(0.0) is None
    mlist = site.lists.require(LIST)
    assert mlist.post_id == 101 and mlist.last_post_at is not None


def test_a_quiet_list_is_counted_exactly(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    site.lists.create(LIST)
    monkeypatch.setattr(post_counts, "BLOCK_TIME", 0.0)  # every post comes after a pause
    for n in range(2, 6):
        assert site.lists.record_post(LIST, shown=False) == n
        assert post_id(site) == n


def test_a_killed_process_leaves_a_gap_never_a_number_twice(site: Site) -> None:
    site.lists.create(LIST)
    site.databases.close_connections()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        # A runner that counts a few posts and is killed with numbers left in its block.
        child = Site(site.config, databases=site.databases)
        taken = [child.lists.record_post(LIST, shown=False) for _ in range(5)]
        os.write(write, " ".join(map(str, taken)).encode())
        os.kill(os.getpid(), signal.SIGKILL)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status)
    with os.fdopen(read) as pipe:
        killed = [int(n) for n in pipe.read().split()]
    assert killed == [2, 3, 4, 5, 6]
    later = [site.lists.record_post(LIST, shown=False) for _ in range(5)]
    assert min(later) > max(killed) and later == sorted(set(later))
    # Its numbers left are not given back by anyone: the gap stays, post_id never falls.
    site.lists.settle_posts(0.0)
    assert post_id(site) == max(later)


def test_two_processes_never_hand_out_one_number_and_give_back_only_from_the_top(
    site: Site,
) -> None:
    site.lists.create(LIST)
    first, second = counter(site), counter(site)
    taken = []
    for _ in range(20):
        taken.append(first.record_post(LIST, shown=False))
        taken.append(second.record_post(LIST, shown=False))
    assert len(set(taken)) == len(taken)
    high = post_id(site)
    assert high >= max(taken)
    # Only the block reserved last can give its numbers back; the other stays a gap.
    first.settle(0.0)
    second.settle(0.0)
    settled = post_id(site)
    assert max(taken) <= settled <= high
    assert first.record_post(LIST, shown=False) == settled + 1


def test_a_shown_number_follows_every_number_of_a_block(site: Site) -> None:
    site.lists.create(LIST)
    other = counter(site)
    unshown = [other.record_post(LIST, shown=False) for _ in range(10)]
    # The list's subject now shows numbers: the next one is past the whole block.
    shown = site.lists.record_post(LIST, "<a@example.net>")
    assert shown > max(unshown)
    assert site.lists.post_number(LIST, "<a@example.net>") == shown - 1
    # The block, no longer at the top, gives nothing back.
    other.settle(0.0)
    assert post_id(site) == shown


def test_a_forked_child_never_draws_on_its_parents_block(site: Site) -> None:
    site.lists.create(LIST)
    # Blocks of one, two, then four: three numbers are left when the child is forked.
    parent = [site.lists.record_post(LIST, shown=False) for _ in range(4)]
    site.databases.close_connections()
    child = int(in_child(lambda: str(site.lists.record_post(LIST, shown=False))))
    mine = site.lists.record_post(LIST, shown=False)
    assert child not in [*parent, mine] and child > max(parent)

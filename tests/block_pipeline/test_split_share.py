"""The later-part split adapts to the two parts' measured rates (pipeline.later_part)."""

from __future__ import annotations

import pytest

from client.later_part_worker import LaterPartWorker, later_part_pool
from pipeline.later_part import (
    MAX_FIRST_SHARE,
    MIN_FIRST_SHARE,
    SHARE_SMOOTHING,
    STEAL_LEAD_S,
    LaterPartPool,
    balanced_share,
)


def test_balanced_share_equalizes_the_finishing_times() -> None:
    # The first part ran 100 transactions in 0.6 s, the later part 100 in 0.9 s: the first
    # side is 1.5 times as fast, so it should take 60% for both to end together.
    share = balanced_share(100, 0.6, 100, 0.9)
    assert share == pytest.approx(0.6)
    assert share is not None
    first = round(200 * share)
    assert first / (100 / 0.6) == pytest.approx((200 - first) / (100 / 0.9))


def test_balanced_share_needs_both_parts_measured() -> None:
    assert balanced_share(100, 0.0, 100, 0.9) is None
    assert balanced_share(100, 0.6, 0, 0.9) is None


def test_the_pool_moves_its_share_part_way_and_within_bounds() -> None:
    pool = LaterPartPool(LaterPartWorker, steals=False)
    assert pool.first_share == 0.5
    pool.observe(100, 0.6, 100, 0.9)
    assert pool.first_share == pytest.approx(0.5 + SHARE_SMOOTHING * 0.1)
    for _ in range(50):
        pool.observe(100, 0.01, 100, 10.0)
    assert pool.first_share == MAX_FIRST_SHARE
    for _ in range(50):
        pool.observe(100, 10.0, 100, 0.01)
    assert pool.first_share == MIN_FIRST_SHARE
    before = pool.first_share
    pool.observe(100, 0.0, 100, 1.0)
    assert pool.first_share == before


def test_a_stealing_pool_aims_for_the_node_to_finish_first() -> None:
    # The node's process can take over the end of the worker's part, not the other way round:
    # the share at which both would end together moves to where the node ends STEAL_LEAD_S first.
    pool = later_part_pool()
    assert pool.steals
    for _ in range(100):
        pool.observe(100, 0.9, 100, 0.9)
    first = round(200 * pool.first_share)
    node_seconds, worker_seconds = first * 0.009, (200 - first) * 0.009
    assert worker_seconds - node_seconds == pytest.approx(STEAL_LEAD_S, abs=0.009)

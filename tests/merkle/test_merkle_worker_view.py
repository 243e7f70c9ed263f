"""The merkleizer worker's view of the node's database: caught up only when a request needs it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import merkle.worker_process as worker_process
from bal.deltas import AccountDelta
from merkle import ParentStateMissing, merkleize
from merkle.optimistic import MerkleResult, MerkleSession, StorageRoots
from merkle.worker_process import (
    FinishRequest,
    MerkleWorker,
    NoPreviousRun,
    RunRequest,
    StorageRequest,
    WalkRequest,
)
from storage import EMPTY_ROOT, RocksStore, Space, StateWrites, WriteBatch


def _block(number: int) -> tuple[AccountDelta, ...]:
    """Deltas touching a few accounts and slots, different for each ``number``."""
    return tuple(
        AccountDelta(address=bytes([i]) * 20, balance=number * 100 + i, storage={i: number + 1, 7: number})
        for i in range(1, 6)
    )


def _commit(store: RocksStore, writes: StateWrites) -> None:
    """What the node's process does when it stores a block: the writes in one batch."""
    batch = WriteBatch()
    writes.stage(batch)
    store.commit(batch)


@pytest.fixture
def primary(tmp_path: Path) -> Iterator[RocksStore]:
    store = RocksStore(tmp_path / "db")
    yield store
    store.close()


@pytest.fixture
def worker() -> Iterator[MerkleWorker]:
    handler = MerkleWorker()
    yield handler
    handler.close()


def _stored(primary: RocksStore, parent_root: bytes, deltas: tuple[AccountDelta, ...]) -> bytes:
    """A state stored by another process (the node's), on ``parent_root``: its root."""
    writes = merkleize(primary, parent_root, deltas)
    _commit(primary, writes)
    return writes.state_root


def _lagging_parent(primary: RocksStore, *workers: MerkleWorker) -> bytes:
    """A parent state stored after the workers' views were opened: its root.

    The workers never computed it, so neither their node caches nor their views hold it.
    """
    genesis_root = _stored(primary, EMPTY_ROOT, _block(0))
    for worker in workers:
        worker.follower.handle_for(str(primary.path))  # the view opens now
    parent_root = _stored(primary, genesis_root, _block(1))
    for worker in workers:
        view, opened = worker.follower.handle_for(str(primary.path))
        assert not opened and view.get(Space.NODE, parent_root) is None  # the view lags
    return parent_root


def test_a_run_on_a_lagging_view_catches_it_up_and_answers(primary: RocksStore, worker: MerkleWorker) -> None:
    parent_root = _lagging_parent(primary, worker)
    result = worker.handle(RunRequest(str(primary.path), parent_root, _block(2)))
    assert isinstance(result, MerkleResult)
    assert result.state_root == merkleize(primary, parent_root, _block(2)).state_root


def test_walk_and_storage_requests_on_lagging_views_catch_them_up(
    primary: RocksStore, worker: MerkleWorker
) -> None:
    """Stage B spread over a second worker: each request retries on a caught-up view."""
    other = MerkleWorker()
    try:
        parent_root = _lagging_parent(primary, worker, other)
        jobs = worker.handle(WalkRequest(str(primary.path), parent_root, _block(2)))
        assert isinstance(jobs, tuple) and jobs
        stage_b = other.handle(StorageRequest(str(primary.path), jobs))
        assert isinstance(stage_b, StorageRoots)
        result = worker.handle(FinishRequest(stage_b.roots, stage_b.parent_slots))
    finally:
        other.close()
    assert isinstance(result, MerkleResult)
    assert result.state_root == merkleize(primary, parent_root, _block(2)).state_root


def test_a_finish_that_fails_walks_again_on_a_caught_up_view(
    primary: RocksStore, worker: MerkleWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stage C can read a node the walk did not: the second attempt starts from a new walk."""
    genesis_root = _stored(primary, EMPTY_ROOT, _block(0))
    jobs = worker.handle(WalkRequest(str(primary.path), genesis_root, _block(1)))
    assert isinstance(jobs, tuple)
    stage_b = worker.handle(StorageRequest(str(primary.path), jobs))
    assert isinstance(stage_b, StorageRoots)
    walked_session = worker.session
    real_finish = MerkleSession.finish
    caught_up: list[bool] = []
    monkeypatch.setattr(worker.follower, "catch_up", lambda: caught_up.append(True))

    def finish_failing_on_the_walked_session(session: MerkleSession, *args: object) -> MerkleResult:
        if session is walked_session:
            raise ParentStateMissing("a node the view lacks")
        return real_finish(session, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(MerkleSession, "finish", finish_failing_on_the_walked_session)
    result = worker.handle(FinishRequest(stage_b.roots, stage_b.parent_slots))
    assert caught_up == [True]
    assert isinstance(result, MerkleResult)
    assert result.state_root == merkleize(primary, genesis_root, _block(1)).state_root


def test_a_parent_missing_after_the_catch_up_is_still_an_error(
    primary: RocksStore, worker: MerkleWorker
) -> None:
    _stored(primary, EMPTY_ROOT, _block(0))
    with pytest.raises(ParentStateMissing):
        worker.handle(RunRequest(str(primary.path), b"\x42" * 32, _block(1)))


def test_opening_the_view_at_start_spares_the_first_request(
    primary: RocksStore, worker: MerkleWorker
) -> None:
    genesis_root = _stored(primary, EMPTY_ROOT, _block(0))
    worker.catch_up(str(primary.path))  # a hint opens nothing
    assert not worker.follower.follows(str(primary.path))
    worker.open(str(primary.path))
    view, opened = worker.follower.handle_for(str(primary.path))
    assert not opened and view.get(Space.NODE, genesis_root) is not None


def test_the_idle_hint_catches_up_a_fresh_view_only_to_drop_an_overgrown_cache(
    primary: RocksStore, worker: MerkleWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    genesis_root = _stored(primary, EMPTY_ROOT, _block(0))
    worker.handle(RunRequest(str(primary.path), genesis_root, _block(9)))  # fills the node cache
    parent_root = _stored(primary, genesis_root, _block(1))
    view, _ = worker.follower.handle_for(str(primary.path))
    worker.catch_up(str(primary.path))  # the cache is under its limit: the hint costs nothing
    assert view.get(Space.NODE, parent_root) is None and worker.node_cache
    monkeypatch.setattr(worker_process, "NODE_CACHE_LIMIT", len(worker.node_cache) - 1)
    worker.catch_up(str(primary.path))
    assert not worker.node_cache
    assert view.get(Space.NODE, parent_root) is not None  # what is read next comes from the store


def test_the_idle_hint_catches_up_a_view_past_its_age(
    primary: RocksStore, worker: MerkleWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lagging view keeps files the primary has compacted away: an old one is caught up while idle."""
    parent_root = _lagging_parent(primary, worker)
    view, _ = worker.follower.handle_for(str(primary.path))
    worker.catch_up(str(primary.path))
    assert view.get(Space.NODE, parent_root) is None  # young enough: left as it is
    monkeypatch.setattr(worker, "view_time", worker.view_time - worker_process.MAX_VIEW_AGE_S - 1)
    worker.catch_up(str(primary.path))
    assert view.get(Space.NODE, parent_root) is not None
    assert time.monotonic() - worker.view_time < worker_process.MAX_VIEW_AGE_S


def test_a_request_catches_up_a_view_past_its_age_when_no_hint_came(
    primary: RocksStore, worker: MerkleWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks imported back to back keep the worker busy, so no idle hint reaches it."""
    parent_root = _lagging_parent(primary, worker)
    view = worker.view(str(primary.path))
    assert view.get(Space.NODE, parent_root) is None  # young enough: left as it is
    monkeypatch.setattr(worker, "view_time", worker.view_time - worker_process.MAX_VIEW_AGE_S - 1)
    assert worker.view(str(primary.path)) is view
    assert view.get(Space.NODE, parent_root) is not None
    assert time.monotonic() - worker.view_time < worker_process.MAX_VIEW_AGE_S


def test_a_chained_run_builds_on_the_root_the_previous_run_produced(
    primary: RocksStore, worker: MerkleWorker
) -> None:
    """Two blocks ahead: the second request is sent before the first one's root is known."""
    genesis_root = _stored(primary, EMPTY_ROOT, _block(0))
    first = worker.handle(RunRequest(str(primary.path), genesis_root, _block(1)))
    chained = worker.handle(RunRequest(str(primary.path), None, _block(2)))
    assert isinstance(first, MerkleResult) and isinstance(chained, MerkleResult)
    # Neither block is stored: the second ran on the first's nodes, from the worker's cache.
    expected = merkleize(primary, genesis_root, _block(1))
    _commit(primary, expected)
    assert chained.state_root == merkleize(primary, expected.state_root, _block(2)).state_root


def test_a_chained_run_after_a_failed_one_fails(primary: RocksStore, worker: MerkleWorker) -> None:
    _stored(primary, EMPTY_ROOT, _block(0))
    with pytest.raises(ParentStateMissing):
        worker.handle(RunRequest(str(primary.path), b"\x42" * 32, _block(1)))
    with pytest.raises(NoPreviousRun):
        worker.handle(RunRequest(str(primary.path), None, _block(2)))


def test_a_chained_run_with_no_run_before_it_fails(primary: RocksStore, worker: MerkleWorker) -> None:
    _stored(primary, EMPTY_ROOT, _block(0))
    with pytest.raises(NoPreviousRun):
        worker.handle(RunRequest(str(primary.path), None, _block(1)))

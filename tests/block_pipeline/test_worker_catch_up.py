"""Workers catch up with the node's store while idle: a hint with no reply, and what it replays."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
from counting_handler import CountingHandler

from client.later_part_worker import LaterPartWorker
from pipeline.later_part import LaterPartPool, TransactionClaims
from pipeline.processes import WorkerProcess, worker_context
from storage import MemoryStore, RocksStore, Space, WriteBatch
from storage.rocks import Follower


def _put(store: RocksStore, key: bytes, value: bytes) -> None:
    batch = WriteBatch()
    batch.put(Space.ACCOUNT, key, value)
    store.commit(batch)


def test_a_follower_sees_what_the_primary_wrote_once_it_caught_up(tmp_path: Path) -> None:
    primary = RocksStore(tmp_path / "db")
    follower = Follower("balrex-test-")
    try:
        _put(primary, b"a", b"1")
        secondary, opened = follower.handle_for(str(primary.path))
        assert opened and secondary.get(Space.ACCOUNT, b"a") == b"1"
        _put(primary, b"b", b"2")
        assert secondary.get(Space.ACCOUNT, b"b") is None  # not yet replayed
        follower.catch_up()
        assert secondary.get(Space.ACCOUNT, b"b") == b"2"
    finally:
        follower.close()
        primary.close()


def test_a_secondary_loads_the_primarys_table_files_on_the_catching_up_thread(tmp_path: Path) -> None:
    # RocksDB's default starts 16 threads in every catch-up that sees a new version of the files
    # (storage.rocks); its info log lists the options the handle actually runs with.
    primary = RocksStore(tmp_path / "db")
    secondary = RocksStore.secondary(tmp_path / "db", tmp_path / "secondary")
    try:
        _put(primary, b"a", b"1")
        secondary.catch_up()
        assert secondary.get(Space.ACCOUNT, b"a") == b"1"
        options_in_use = (tmp_path / "secondary" / "LOG").read_text()
        assert "Options.max_file_opening_threads: 1\n" in options_in_use
    finally:
        secondary.close()
        primary.close()


@pytest.mark.integration  # a real worker process
def test_hints_get_no_reply_and_reach_the_handler_in_order() -> None:
    worker = WorkerProcess("balrex-test-catch-up", CountingHandler)
    try:
        worker.wait_ready()
        worker.open_store("/data/a")
        worker.catch_up("/data/a")
        worker.catch_up("/data/b")
        # Were a hint answered, this request would read that answer instead of its own.
        expected = [("open", "/data/a"), ("catch up", "/data/a"), ("catch up", "/data/b")]
        assert trio.run(worker.request, "which") == expected
        worker.pending = 1  # a busy worker is never sent a hint: its reply is awaited
        worker.catch_up("/data/c")
        worker.open_store("/data/c")
        worker.pending = 0
        assert trio.run(worker.request, "which") == expected
    finally:
        worker.stop()


@pytest.mark.integration  # a real worker process
def test_a_pool_started_on_a_store_has_its_worker_open_it_before_it_answers(tmp_path: Path) -> None:
    """Else the first block would pay for opening the worker's handle (80-100 ms on the bench chain)."""
    store = RocksStore(tmp_path / "db")
    pool = LaterPartPool(CountingHandler)
    try:
        pool.start(store)
        pool.catch_up(MemoryStore())  # a store no other process can read: no hint
        assert trio.run(pool._live().request, "which") == [("open", str(store.path))]
    finally:
        pool.close()
        store.close()


def test_the_later_part_worker_opens_its_handle_then_its_hints_replay_the_writes(tmp_path: Path) -> None:
    primary = RocksStore(tmp_path / "db")
    worker = LaterPartWorker(TransactionClaims(worker_context()))
    try:
        _put(primary, b"a", b"1")
        worker.open(str(primary.path))
        secondary, opened = worker.follower.handle_for(str(primary.path))
        assert not opened and secondary.get(Space.ACCOUNT, b"a") == b"1"
        _put(primary, b"b", b"2")
        worker.catch_up(str(primary.path))
        assert secondary.get(Space.ACCOUNT, b"b") == b"2"
    finally:
        worker.close()
        primary.close()


def test_a_hint_opens_no_handle_on_a_store_only_it_names(tmp_path: Path) -> None:
    """The store a hint names may be gone by the time the worker reads the hint (the EF runner
    deletes each test's); a handle opened on it then would race with its deletion."""
    first, other = RocksStore(tmp_path / "first"), RocksStore(tmp_path / "other")
    worker = LaterPartWorker(TransactionClaims(worker_context()))
    try:
        worker.catch_up(str(first.path))
        assert not worker.follower.follows(str(first.path))
        worker.open(str(first.path))
        _put(first, b"a", b"1")
        worker.catch_up(str(other.path))
        assert worker.follower.follows(str(first.path))
        secondary, _ = worker.follower.handle_for(str(first.path))
        assert secondary.get(Space.ACCOUNT, b"a") is None  # the hint named another store
    finally:
        worker.close()
        first.close()
        other.close()


def test_a_handle_that_sees_the_callers_last_write_is_not_caught_up_again(tmp_path: Path) -> None:
    """An empty catch-up still costs milliseconds at the start of a later part."""
    primary = RocksStore(tmp_path / "db")
    follower = Follower("balrex-test-")
    try:
        _put(primary, b"a", b"1")
        secondary = follower.store_for(str(primary.path), primary.sequence())
        assert secondary.sequence() == primary.sequence()
        seen = primary.sequence()
        _put(primary, b"b", b"2")
        follower.store_for(str(primary.path), seen)  # the caller's write before b: not replayed
        assert secondary.get(Space.ACCOUNT, b"b") is None
        follower.store_for(str(primary.path), primary.sequence())
        assert secondary.get(Space.ACCOUNT, b"b") == b"2"
    finally:
        follower.close()
        primary.close()

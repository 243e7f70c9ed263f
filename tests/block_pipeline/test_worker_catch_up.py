"""Workers catch up with the node's store while idle: a hint with no reply, and what it replays."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
from counting_handler import CountingHandler

from pipeline.processes import WorkerProcess
from storage import RocksStore, Space, WriteBatch
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


@pytest.mark.integration  # a real worker process
def test_catch_up_hints_get_no_reply_and_reach_the_handler_in_order() -> None:
    worker = WorkerProcess("balrex-test-catch-up", CountingHandler)
    try:
        worker.wait_ready()
        worker.catch_up()
        worker.catch_up()
        # Were a hint answered, this request would read that answer instead of its own.
        assert trio.run(worker.request, "how many") == 2
        worker.busy = True  # a busy worker is never sent a hint: its reply is awaited
        worker.catch_up()
        worker.busy = False
        assert trio.run(worker.request, "how many") == 2
    finally:
        worker.stop()

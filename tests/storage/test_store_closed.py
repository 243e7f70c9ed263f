"""Closed stores raise StoreClosed, close() is idempotent, a read-only RocksStore reads committed blocks."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from storage_testkit import block_hash, commit_block, commit_blocks, dump, expected_dump, stage_block

from storage import Chain, FlatState, RocksStore, Space, Store, StoreClosed, WriteBatch


def one_put() -> WriteBatch:
    batch = WriteBatch()
    batch.put(Space.META, b"k", b"v")
    return batch


def test_everything_after_close_raises(store: Store) -> None:
    store.commit(one_put())
    store.close()
    with pytest.raises(StoreClosed):
        store.get(Space.META, b"k")
    with pytest.raises(StoreClosed):
        list(store.iterate(Space.META))
    with pytest.raises(StoreClosed):
        list(store.iterate(Space.META, b"k"))
    with pytest.raises(StoreClosed):
        store.commit(one_put())
    with pytest.raises(StoreClosed):
        Chain(store).head_hash()
    with pytest.raises(StoreClosed):
        list(FlatState(store).addresses())


def test_store_closed_is_a_runtime_error() -> None:
    assert issubclass(StoreClosed, RuntimeError)


def test_close_twice_is_fine(store: Store) -> None:
    store.close()
    store.close()
    with pytest.raises(StoreClosed):
        store.get(Space.META, b"k")


def test_context_exit_after_explicit_close_is_fine(store: Store) -> None:
    with store:
        store.close()
    with pytest.raises(StoreClosed):
        store.commit(one_put())


def test_empty_commit_after_close_raises(store: Store) -> None:
    store.close()
    with pytest.raises(StoreClosed):
        store.commit(WriteBatch())


def test_close_releases_the_rocksdb_lock(tmp_path: Path) -> None:
    path = tmp_path / "db"
    first = RocksStore(path)
    commit_blocks(first, 2)
    assert list(first.iterate(Space.CANONICAL))  # an iterator run to its end
    first.close()
    second = RocksStore(path)  # would fail with a LOCK error if the first were still open
    try:
        assert dump(second) == expected_dump(2)
    finally:
        second.close()


def test_close_releases_the_lock_despite_a_suspended_iterator(tmp_path: Path) -> None:
    path = tmp_path / "db"
    first = RocksStore(path)
    commit_blocks(first, 2)
    suspended = first.iterate(Space.CANONICAL)
    next(suspended)
    first.close()
    try:
        second = RocksStore(path)  # would fail with a LOCK error if the first were still open
        try:
            assert dump(second) == expected_dump(2)
        finally:
            second.close()
    finally:
        del suspended
        gc.collect()


# --- read-only ------------------------------------------------------------------


def test_read_only_reads_what_was_committed(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with RocksStore(path) as writer:
        commit_blocks(writer, 3)
    with RocksStore(path, read_only=True) as reader:
        assert dump(reader) == expected_dump(3)
        assert Chain(reader).head_hash() == block_hash(3)
        batch = WriteBatch()
        stage_block(batch, 4)
        with pytest.raises(Exception):  # noqa: B017 - rocksdict raises a bare Exception here
            reader.commit(batch)
        assert dump(reader) == expected_dump(3)
    # the refused write did not reach the disk either
    with RocksStore(path) as writer:
        assert dump(writer) == expected_dump(3)
        commit_block(writer, 4)
        assert dump(writer) == expected_dump(4)


def test_read_only_store_closes_like_the_others(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with RocksStore(path) as writer:
        commit_blocks(writer, 1)
    reader = RocksStore(path, read_only=True)
    reader.close()
    reader.close()
    with pytest.raises(StoreClosed):
        reader.get(Space.META, b"head")


def test_read_only_open_of_a_missing_store_fails(tmp_path: Path) -> None:
    path = tmp_path / "nothing here"
    with pytest.raises(Exception):  # noqa: B017 - rocksdict raises a bare Exception here
        RocksStore(path, read_only=True)
    # no database was created (rocksdict does leave its rocksdict-config.json behind)
    assert not (path / "CURRENT").exists()

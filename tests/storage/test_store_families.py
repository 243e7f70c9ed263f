"""RocksDB's two column families: what executing reads, and the tries and block records beside it."""

from __future__ import annotations

from pathlib import Path

import pytest
from rocksdict import Options, Rdict

from storage import RocksStore, Space, StoreLayoutError, WriteBatch
from storage.rocks import TRIES_AND_BLOCKS, TRIES_AND_BLOCKS_SPACES

EXECUTION_SPACES = [space for space in Space if space not in TRIES_AND_BLOCKS_SPACES]


def _one_key_in_every_space(store: RocksStore, value: bytes) -> None:
    batch = WriteBatch()
    for space in Space:
        batch.put(space, b"key", value + space)
    store.commit(batch)


def test_every_space_reads_back_from_its_family_and_iterates(tmp_path: Path) -> None:
    with RocksStore(tmp_path / "db") as store:
        _one_key_in_every_space(store, b"v")
        for space in Space:
            assert store.get(space, b"key") == b"v" + space
            assert list(store.iterate(space)) == [(b"key", b"v" + space)]
    # The spaces are where the layout says, not all in the default family.
    families = {TRIES_AND_BLOCKS: Options(raw_mode=True)}
    db = Rdict(str(tmp_path / "db"), Options(raw_mode=True), column_families=families)
    try:
        family = db.get_column_family(TRIES_AND_BLOCKS)
        for space in Space:
            holder, other = (family, db) if space in TRIES_AND_BLOCKS_SPACES else (db, family)
            assert holder.get(space + b"key") == b"v" + space
            assert other.get(space + b"key") is None
    finally:
        db.close()


def test_an_execution_only_follower_reads_the_state_and_refuses_the_rest(tmp_path: Path) -> None:
    primary = RocksStore(tmp_path / "db")
    follower = RocksStore.secondary(tmp_path / "db", tmp_path / "follower", execution_only=True)
    try:
        _one_key_in_every_space(primary, b"1")
        follower.catch_up()
        for space in EXECUTION_SPACES:
            assert follower.get(space, b"key") == b"1" + space
        for space in TRIES_AND_BLOCKS_SPACES:
            with pytest.raises(StoreLayoutError, match=f"execute only: it does not read {space.name}"):
                follower.get(space, b"key")
            with pytest.raises(StoreLayoutError):
                list(follower.iterate(space))
        _one_key_in_every_space(primary, b"2")
        follower.catch_up()
        assert follower.get(Space.ACCOUNT, b"key") == b"2" + Space.ACCOUNT
    finally:
        follower.close()
        primary.close()


def test_a_full_follower_reads_every_space(tmp_path: Path) -> None:
    primary = RocksStore(tmp_path / "db")
    follower = RocksStore.secondary(tmp_path / "db", tmp_path / "follower")
    try:
        _one_key_in_every_space(primary, b"1")
        follower.catch_up()
        for space in Space:
            assert follower.get(space, b"key") == b"1" + space
    finally:
        follower.close()
        primary.close()


def test_a_data_dir_from_before_the_families_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "old"
    options = Options(raw_mode=True)
    options.create_if_missing(True)
    old = Rdict(str(path), options)
    old.put(Space.NODE + b"key", b"node")
    old.close()
    for opening in (
        lambda: RocksStore(path),
        lambda: RocksStore(path, read_only=True),
        lambda: RocksStore.secondary(path, tmp_path / "secondary"),
    ):
        with pytest.raises(StoreLayoutError, match="older balrex"):
            opening()
    assert Rdict.list_cf(str(path)) == ["default"]  # no family was added to it

"""RocksDB's two column families: what executing reads, and the tries and block records beside it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def primary_and_follower(tmp_path: Path, *, execution_only: bool) -> Iterator[tuple[RocksStore, RocksStore]]:
    """A new store and a secondary handle on it (opened for execution only, or whole)."""
    with RocksStore(tmp_path / "db") as primary:
        follower = RocksStore.secondary(tmp_path / "db", tmp_path / "follower", execution_only=execution_only)
        with follower:
            yield primary, follower


@pytest.mark.parametrize("execution_only", [True, False])
def test_a_follower_reads_the_families_it_opened_and_refuses_the_rest(
    tmp_path: Path, execution_only: bool
) -> None:
    readable = EXECUTION_SPACES if execution_only else list(Space)
    refused = [space for space in Space if space not in readable]
    with primary_and_follower(tmp_path, execution_only=execution_only) as (primary, follower):
        _one_key_in_every_space(primary, b"1")
        follower.catch_up()
        for space in readable:
            assert follower.get(space, b"key") == b"1" + space
        for space in refused:
            with pytest.raises(StoreLayoutError, match=f"execute only: it does not read {space.name}"):
                follower.get(space, b"key")
            with pytest.raises(StoreLayoutError):
                list(follower.iterate(space))
        _one_key_in_every_space(primary, b"2")
        follower.catch_up()
        assert follower.get(Space.ACCOUNT, b"key") == b"2" + Space.ACCOUNT


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

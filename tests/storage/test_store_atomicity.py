"""All-or-nothing batches: an abandoned batch, or one with a bad operation, leaves the store at block N."""

from __future__ import annotations

from pathlib import Path

import pytest
from storage_testkit import block_hash, commit_blocks, dump, expected_dump, stage_block

from storage import Chain, MemoryStore, RocksStore, Space, Store, WriteBatch

N = 4


class BadBlock(Exception):
    """Raised while building block N + 1, standing in for a failed validation."""


def test_batch_abandoned_while_building_is_never_applied(store: Store) -> None:
    commit_blocks(store, N)
    before = dump(store)
    assert before == expected_dump(N)

    batch = WriteBatch()
    with pytest.raises(BadBlock):
        stage_block(batch, N + 1)
        assert batch.ops
        raise BadBlock("state root mismatch")

    assert dump(store) == before
    assert Chain(store).head_hash() == block_hash(N)
    assert Chain(store).canonical_hash(N + 1) is None
    assert Chain(store).header_rlp(block_hash(N + 1)) is None


def test_abandoned_batch_is_not_swept_into_a_later_commit(store: Store) -> None:
    commit_blocks(store, N)
    abandoned = WriteBatch()
    stage_block(abandoned, N + 1)
    other = WriteBatch()
    other.put(Space.META, b"safe", block_hash(N))
    store.commit(other)
    expected = expected_dump(N)
    expected[Space.META][b"safe"] = block_hash(N)
    assert dump(store) == expected


def test_abandoned_batch_survives_close_and_reopen_as_nothing(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with RocksStore(path) as store:
        commit_blocks(store, N)
        before = dump(store)
        batch = WriteBatch()
        with pytest.raises(BadBlock):
            stage_block(batch, N + 1)
            raise BadBlock("bad block")
    with RocksStore(path) as reopened:
        assert dump(reopened) == before == expected_dump(N)
        assert Chain(reopened).head_hash() == block_hash(N)


# --- a batch with an invalid operation at its end -------------------------------

# Values both backends refuse: nothing of the batch may be applied.
REFUSED_VALUES = [
    pytest.param("a str", id="str"),
    pytest.param(1.5, id="float"),
    pytest.param(-1, id="negative-int"),
    pytest.param(object(), id="object"),
]


def bad_block_batch(bad_op: tuple[object, object]) -> WriteBatch:
    """Block N + 1, fully staged, with one invalid operation appended last."""
    batch = WriteBatch()
    stage_block(batch, N + 1)
    batch.ops.append(bad_op)  # type: ignore[arg-type]
    return batch


@pytest.mark.parametrize("bad_value", REFUSED_VALUES)
def test_bad_value_leaves_nothing_applied(store: Store, bad_value: object) -> None:
    commit_blocks(store, N)
    before = dump(store)
    with pytest.raises((TypeError, ValueError)):
        store.commit(bad_block_batch((Space.ACCOUNT.value + b"bad", bad_value)))
    assert dump(store) == before
    # the store still works afterwards
    store.commit(bad_block_batch((Space.ACCOUNT.value + b"fine", b"ok")))
    assert Chain(store).head_hash() == block_hash(N + 1)


@pytest.mark.parametrize(
    "bad_key", [pytest.param(None, id="None"), pytest.param("a str", id="str"), pytest.param(2.0, id="float")]
)
def test_bad_key_leaves_nothing_applied(store: Store, bad_key: object) -> None:
    commit_blocks(store, N)
    before = dump(store)
    with pytest.raises((TypeError, ValueError, KeyError)):
        store.commit(bad_block_batch((bad_key, b"value")))
    assert dump(store) == before


def test_bad_batch_leaves_nothing_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with RocksStore(path) as store:
        commit_blocks(store, N)
        with pytest.raises((TypeError, ValueError)):
            store.commit(bad_block_batch((Space.ACCOUNT.value + b"bad", "not bytes")))
    with RocksStore(path) as reopened:
        assert dump(reopened) == expected_dump(N)


def test_rocks_refuses_a_positive_int_value(tmp_path: Path) -> None:
    with RocksStore(tmp_path / "db") as store:
        commit_blocks(store, N)
        with pytest.raises((TypeError, ValueError)):
            store.commit(bad_block_batch((Space.STORAGE.value + b"slot", 3)))
        assert dump(store) == expected_dump(N)


@pytest.mark.parametrize("bad_value", [pytest.param(3, id="int"), pytest.param([1, 2], id="list")])
def test_memory_refuses_what_rocks_refuses(bad_value: object) -> None:
    store = MemoryStore()
    commit_blocks(store, N)
    with pytest.raises((TypeError, ValueError)):
        store.commit(bad_block_batch((Space.STORAGE.value + b"slot", bad_value)))
    assert dump(store) == expected_dump(N)

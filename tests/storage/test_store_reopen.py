"""The acceptance test: blocks committed to RocksDB, closed, reopened, read back whole and nothing more."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_hash.auto import keccak
from storage_testkit import (
    COMMON,
    MAX_WORD,
    address,
    block_hash,
    code_of,
    commit_block,
    commit_blocks,
    dump,
    expected_dump,
    spec,
)

from storage import AccountRecord, Chain, FlatState, RocksStore, Space

K = 6


@pytest.fixture
def reopened(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "chain-db"
    store = RocksStore(path)
    commit_blocks(store, K)
    store.close()
    again = RocksStore(path)
    yield again
    again.close()


def test_block_records_read_back(reopened: RocksStore) -> None:
    chain = Chain(reopened)
    assert chain.head_hash() == block_hash(K)
    for n in range(1, K + 1):
        s, h = spec(n), block_hash(n)
        assert chain.canonical_hash(n) == h
        assert chain.header_rlp(h) == s.header_rlp
        assert chain.body_rlp(h) == s.body_rlp
        assert chain.receipts_rlp(h) == s.receipts_rlp  # None for odd blocks: never stored
        assert chain.bal_rlp(h) == s.bal_rlp
    assert chain.canonical_hash(0) is None
    assert chain.canonical_hash(K + 1) is None


def test_flat_state_reads_back(reopened: RocksStore) -> None:
    flat = FlatState(reopened)
    # block n creates address(n); block n + 2 deletes it: the last two survive
    for n in range(1, K - 1):
        assert flat.account(address(n)) is None
        assert flat.storage(address(n), 1) == 0
        assert list(flat.storage_items(address(n))) == []
    for n in (K - 1, K):
        fields = spec(n).accounts[address(n)]
        assert fields is not None
        assert flat.account(address(n)) == AccountRecord(*fields)
        assert fields[:2] == (n, 10**18 * n)
        assert list(flat.storage_items(address(n))) == [(1, n), (MAX_WORD, MAX_WORD)]
    common = flat.account(COMMON)
    assert common is not None and (common.nonce, common.balance) == (K, K)
    # each block sets slot n and deletes slot n - 1
    assert list(flat.storage_items(COMMON)) == [(K, K * 0x10001)]
    assert flat.storage(COMMON, K - 1) == 0
    # code is never deleted, even that of deleted accounts
    for n in range(1, K + 1):
        assert flat.code(keccak(code_of(n))) == code_of(n)
    assert sorted(flat.addresses()) == sorted([COMMON, address(K - 1), address(K)])


def test_nothing_else_is_stored(reopened: RocksStore) -> None:
    got = dump(reopened)
    want = expected_dump(K)
    for space in Space:
        assert set(got[space]) == set(want[space]), space.name
    assert got == want


def test_reopen_then_continue_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with RocksStore(path) as store:
        commit_blocks(store, 2)
    with RocksStore(path) as store:
        commit_block(store, 3)
    with RocksStore(path) as store:
        assert dump(store) == expected_dump(3)

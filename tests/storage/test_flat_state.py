"""FlatState reads, StateWrites.stage (accounts, storage, code, nodes, cleared storage) and AccountRecord."""

from __future__ import annotations

import pickle
from collections.abc import Mapping

import pytest
import rlp
from eth_hash.auto import keccak
from hypothesis import given
from hypothesis import strategies as st

from bal.rlp_items import RlpDecodeError
from storage import (
    EMPTY_CODE_HASH,
    EMPTY_ROOT,
    AccountRecord,
    FlatState,
    Space,
    StateWrites,
    Store,
    WriteBatch,
)

A = b"\x11" * 20
A_NEIGHBOUR = b"\x11" * 19 + b"\x12"  # sorts right after A's slots
A_BELOW = b"\x11" * 19 + b"\x10"  # sorts right before A's slots
B = b"\x22" * 20
MAX_WORD = 2**256 - 1


def writes(
    accounts: Mapping[bytes, AccountRecord | None] | None = None,
    storage: Mapping[bytes, Mapping[int, int]] | None = None,
    code: Mapping[bytes, bytes] | None = None,
    nodes: Mapping[bytes, bytes] | None = None,
    cleared: frozenset[bytes] = frozenset(),
) -> StateWrites:
    return StateWrites(
        state_root=b"\x00" * 32,
        nodes=nodes or {},
        accounts=accounts or {},
        storage=storage or {},
        code=code or {},
        cleared=cleared,
    )


def apply(store: Store, state_writes: StateWrites) -> None:
    batch = WriteBatch()
    state_writes.stage(batch, FlatState(store))
    store.commit(batch)


# --- accounts ---------------------------------------------------------------------


def test_account_put_and_delete(store: Store) -> None:
    flat = FlatState(store)
    record = AccountRecord(nonce=1, balance=10**20)
    assert flat.account(A) is None
    apply(store, writes(accounts={A: record, B: AccountRecord(balance=1)}))
    assert flat.account(A) == record
    assert store.get(Space.ACCOUNT, A) == record.encode()
    apply(store, writes(accounts={A: None, b"\x33" * 20: None}))  # deleting a missing account is fine
    assert flat.account(A) is None
    assert flat.account(B) == AccountRecord(balance=1)
    assert list(flat.addresses()) == [B]


def test_addresses_are_in_order_and_only_accounts(store: Store) -> None:
    apply(
        store,
        writes(
            accounts={
                B: AccountRecord(nonce=1),
                A: AccountRecord(nonce=2),
                A_NEIGHBOUR: AccountRecord(nonce=3),
            },
            storage={b"\x05" * 20: {1: 1}},
            code={b"\x06" * 32: b"\x00"},
        ),
    )
    assert list(FlatState(store).addresses()) == [A, A_NEIGHBOUR, B]


# --- storage ----------------------------------------------------------------------


def test_storage_nonzero_puts_and_zero_deletes(store: Store) -> None:
    flat = FlatState(store)
    apply(store, writes(storage={A: {1: 1, 2: 256, 3: MAX_WORD, 4: 0}}))
    assert (flat.storage(A, 1), flat.storage(A, 2), flat.storage(A, 3), flat.storage(A, 4)) == (
        1,
        256,
        MAX_WORD,
        0,
    )
    # values are minimal big-endian; a zero never reaches the store

    def slot(n: int) -> bytes:
        return A + n.to_bytes(32, "big")

    assert dict(store.iterate(Space.STORAGE)) == {
        slot(1): b"\x01",
        slot(2): b"\x01\x00",
        slot(3): b"\xff" * 32,
    }
    apply(store, writes(storage={A: {1: 0, 2: 7}}))
    assert flat.storage(A, 1) == 0
    assert store.get(Space.STORAGE, slot(1)) is None
    assert flat.storage(A, 2) == 7
    assert list(flat.storage_items(A)) == [(2, 7), (3, MAX_WORD)]


def test_storage_of_unknown_address_or_slot_is_zero(store: Store) -> None:
    flat = FlatState(store)
    assert flat.storage(A, 0) == 0
    apply(store, writes(storage={A: {5: 5}}))
    assert flat.storage(A, 6) == 0
    assert flat.storage(B, 5) == 0
    assert list(flat.storage_items(B)) == []


def test_storage_items_only_that_address_in_slot_order(store: Store) -> None:
    slots = [MAX_WORD, 256, 0, 2**255, 1, 255, 2**64]
    apply(
        store,
        writes(
            storage={
                A_BELOW: {MAX_WORD: 1, 0: 2},
                A: {s: i + 1 for i, s in enumerate(slots)},
                A_NEIGHBOUR: {0: 3, 1: 4},
                B: {7: 7},
            }
        ),
    )
    expected = sorted((s, i + 1) for i, s in enumerate(slots))
    assert list(FlatState(store).storage_items(A)) == expected
    assert list(FlatState(store).storage_items(A_NEIGHBOUR)) == [(0, 3), (1, 4)]
    assert list(FlatState(store).storage_items(A_BELOW)) == [(0, 2), (MAX_WORD, 1)]


def test_deleting_an_account_leaves_storage_that_is_not_zeroed(store: Store) -> None:
    """The flat state is a plain diff: removing an account does not touch its slots by itself."""
    flat = FlatState(store)
    apply(store, writes(accounts={A: AccountRecord(nonce=1)}, storage={A: {1: 1, 2: 2}}))
    apply(store, writes(accounts={A: None}, storage={A: {1: 0}}))
    assert flat.account(A) is None
    assert list(flat.storage_items(A)) == [(2, 2)]


# --- cleared storage --------------------------------------------------------------


def test_cleared_storage_is_dropped_before_new_writes(store: Store) -> None:
    flat = FlatState(store)
    apply(
        store,
        writes(storage={A: {1: 1, 2: 2, MAX_WORD: 3}, A_NEIGHBOUR: {1: 9}, A_BELOW: {MAX_WORD: 8}}),
    )
    # cleared, then slot 2 rewritten and slot 5 added in the same block: those survive
    apply(store, writes(storage={A: {2: 20, 5: 50}}, cleared=frozenset({A})))
    assert list(flat.storage_items(A)) == [(2, 20), (5, 50)]
    assert list(flat.storage_items(A_NEIGHBOUR)) == [(1, 9)]
    assert list(flat.storage_items(A_BELOW)) == [(MAX_WORD, 8)]


def test_clearing_an_account_without_storage_is_fine(store: Store) -> None:
    apply(store, writes(storage={B: {1: 1}}, cleared=frozenset({A})))
    assert list(FlatState(store).storage_items(A)) == []
    assert list(FlatState(store).storage_items(B)) == [(1, 1)]


def test_clearing_needs_the_parent_flat_state() -> None:
    batch = WriteBatch()
    with pytest.raises(ValueError):
        writes(storage={A: {1: 1}}, cleared=frozenset({A})).stage(batch)
    assert batch.ops == []


def test_stage_without_clear_needs_no_flat_state(store: Store) -> None:
    batch = WriteBatch()
    writes(accounts={A: AccountRecord(nonce=1)}, storage={A: {1: 1}}).stage(batch)
    store.commit(batch)
    assert FlatState(store).storage(A, 1) == 1


def test_stage_is_stage_trie_then_stage_flat(store: Store) -> None:
    apply(store, writes(storage={A: {1: 1}}))
    full = writes(
        accounts={A: AccountRecord(nonce=1), B: None},
        storage={A: {2: 2, 3: 0}},
        code={b"\x01" * 32: b"code"},
        nodes={b"\x02" * 32: b"node"},
        cleared=frozenset({A}),
    )
    whole, parts = WriteBatch(), WriteBatch()
    full.stage(whole, FlatState(store))
    full.stage_trie(parts)
    full.stage_flat(parts, FlatState(store))
    assert whole.ops == parts.ops


def test_stage_trie_writes_only_nodes_and_code() -> None:
    batch = WriteBatch()
    writes(
        accounts={A: AccountRecord(nonce=1)},
        storage={A: {1: 1}},
        code={b"\x01" * 32: b"code"},
        nodes={b"\x02" * 32: b"node"},
        cleared=frozenset({A}),  # needs no flat state: clearing is not stage_trie's business
    ).stage_trie(batch)
    assert batch.ops == [
        (Space.NODE.value + b"\x02" * 32, b"node"),
        (Space.CODE.value + b"\x01" * 32, b"code"),
    ]


def test_stage_flat_writes_only_accounts_and_storage(store: Store) -> None:
    batch = WriteBatch()
    writes(
        accounts={A: AccountRecord(nonce=1)},
        storage={A: {1: 1}},
        code={b"\x01" * 32: b"code"},
        nodes={b"\x02" * 32: b"node"},
    ).stage_flat(batch, None)
    assert {key[:1] for key, _ in batch.ops} == {Space.ACCOUNT.value, Space.STORAGE.value}
    store.commit(batch)
    assert list(store.iterate(Space.NODE)) == [] and list(store.iterate(Space.CODE)) == []
    assert FlatState(store).storage(A, 1) == 1


def test_refused_stage_leaves_the_batch_untouched() -> None:
    batch = WriteBatch()
    with pytest.raises(ValueError):
        writes(nodes={b"\x02" * 32: b"node"}, code={b"\x01" * 32: b"code"}, cleared=frozenset({A})).stage(
            batch
        )
    assert batch.ops == []


# --- code and nodes ---------------------------------------------------------------


def test_code(store: Store) -> None:
    flat = FlatState(store)
    code = b"\x60\x00\x60\x00\xf3"
    assert flat.code(keccak(code)) is None
    apply(store, writes(code={keccak(code): code}))
    assert flat.code(keccak(code)) == code
    assert store.get(Space.CODE, keccak(code)) == code


def test_empty_code_hash_reads_as_empty_code_without_being_stored(store: Store) -> None:
    assert EMPTY_CODE_HASH == keccak(b"")
    assert FlatState(store).code(EMPTY_CODE_HASH) == b""
    assert list(store.iterate(Space.CODE)) == []


def test_nodes_go_to_the_node_space(store: Store) -> None:
    node = rlp.encode([b"\x01", b"\x02"])
    apply(store, writes(nodes={keccak(node): node}))
    assert list(store.iterate(Space.NODE)) == [(keccak(node), node)]
    for space in Space:
        if space is not Space.NODE:
            assert list(store.iterate(space)) == []


def test_stage_adds_nothing_to_the_store_before_commit(store: Store) -> None:
    batch = WriteBatch()
    writes(accounts={A: AccountRecord(nonce=1)}, storage={A: {1: 1}}, code={b"\x01" * 32: b"c"}).stage(batch)
    assert len(batch.ops) == 3
    assert all(list(store.iterate(space)) == [] for space in Space)


# --- AccountRecord ----------------------------------------------------------------


def test_empty_constants() -> None:
    assert EMPTY_ROOT.hex() == "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
    assert EMPTY_CODE_HASH.hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


def test_encoding_is_the_state_trie_account_rlp() -> None:
    assert AccountRecord().encode() == bytes.fromhex(
        "f8448080a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
        "a0c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    record = AccountRecord(nonce=1, balance=256, storage_root=b"\x01" * 32, code_hash=b"\x02" * 32)
    assert rlp.decode(record.encode()) == [b"\x01", b"\x01\x00", b"\x01" * 32, b"\x02" * 32]


_hash = st.binary(min_size=32, max_size=32)


@given(
    nonce=st.integers(0, 2**64 - 1),
    balance=st.integers(0, 2**256 - 1),
    storage_root=_hash | st.just(EMPTY_ROOT),
    code_hash=_hash | st.just(EMPTY_CODE_HASH),
)
def test_record_round_trip(nonce: int, balance: int, storage_root: bytes, code_hash: bytes) -> None:
    record = AccountRecord(nonce, balance, storage_root, code_hash)
    assert AccountRecord.decode(record.encode()) == record
    # and through a pipe to a worker process and back (its own __reduce__)
    assert pickle.loads(pickle.dumps(record)) == record


@given(
    nonce=st.integers(0, 2**64 - 1),
    balance=st.integers(0, 2**256 - 1),
    storage_root=_hash,
    code_hash=_hash,
)
def test_record_encoding_is_pyrlps(nonce: int, balance: int, storage_root: bytes, code_hash: bytes) -> None:
    record = AccountRecord(nonce, balance, storage_root, code_hash)
    assert record.encode() == rlp.encode([nonce, balance, storage_root, code_hash])


@pytest.mark.parametrize(
    "data",
    [
        rlp.encode([b"\x01", b"\x02", b"\x03" * 32]),  # three fields
        rlp.encode([b"\x01", [b"\x02"], b"\x03" * 32, b"\x04" * 32]),  # a list where a string goes
        rlp.encode(b"\x01" * 40),  # a string, not a list
        rlp.encode([b"", b"", b"\x03" * 32, b"\x04" * 32]) + b"\x00",  # trailing byte
    ],
)
def test_a_record_that_is_not_one_is_refused(data: bytes) -> None:
    with pytest.raises(RlpDecodeError):
        AccountRecord.decode(data)


def test_is_empty() -> None:
    assert AccountRecord().is_empty()
    assert AccountRecord(0, 0, EMPTY_ROOT, EMPTY_CODE_HASH).is_empty()
    assert not AccountRecord(nonce=1).is_empty()
    assert not AccountRecord(balance=1).is_empty()
    assert not AccountRecord(code_hash=keccak(b"\x00")).is_empty()
    # no nonce, no balance, no code, but storage: NOT empty, it stays in the trie
    assert not AccountRecord(storage_root=keccak(b"some root")).is_empty()


def test_empty_record_survives_the_store(store: Store) -> None:
    apply(store, writes(accounts={A: AccountRecord()}))
    record = FlatState(store).account(A)
    assert record == AccountRecord() and record is not None and record.is_empty()

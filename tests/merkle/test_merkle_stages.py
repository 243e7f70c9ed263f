"""merkle/: stages B-D against a state built from scratch, and the store rules around them."""

from __future__ import annotations

import pickle
from types import MappingProxyType

import pytest
import rlp
from eth_hash.auto import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trie import HexaryTrie

from bal.deltas import AccountDelta
from merkle import ParentStateMissing, merkleize
from merkle.optimistic import MerkleResult, MerkleSession, compute_storage_roots
from merkle.stages import state_writes
from storage import EMPTY_ROOT, AccountRecord, FlatChanges, FlatState, MemoryStore, Space, Store, WriteBatch

# --- an independent reference: the whole state trie built from nothing -----------

State = dict[bytes, tuple[int, int, bytes, dict[int, int]]]  # address -> nonce, balance, code, storage


def reference_root(state: State) -> bytes:
    """Root of ``state`` built from scratch in a plain dict (no overlay, no deletes, no squashing)."""
    accounts = HexaryTrie({})
    for address, (nonce, balance, code, storage) in state.items():
        storage_trie = HexaryTrie({})
        for slot, value in storage.items():
            if value:
                storage_trie[keccak(slot.to_bytes(32, "big"))] = rlp.encode(value)
        record = AccountRecord(nonce, balance, storage_trie.root_hash, keccak(code))
        if not record.is_empty():
            accounts[keccak(address)] = record.encode()
    return accounts.root_hash


def apply_to_state(state: State, deltas: list[AccountDelta]) -> State:
    out = {a: (n, b, c, dict(s)) for a, (n, b, c, s) in state.items()}
    for d in deltas:
        nonce, balance, code, storage = out.get(d.address, (0, 0, b"", {}))
        storage = {**storage, **d.storage}
        out[d.address] = (
            nonce if d.nonce is None else d.nonce,
            balance if d.balance is None else d.balance,
            code if d.code is None else d.code,
            {k: v for k, v in storage.items() if v},
        )
    return out


def commit(store: Store, writes) -> None:  # type: ignore[no-untyped-def]
    batch = WriteBatch()
    writes.stage(batch)
    store.commit(batch)


def dump(store: Store) -> dict[bytes, bytes]:
    return {space.value + k: v for space in Space for k, v in store.iterate(space)}


# --- strategies ---------------------------------------------------------------------

addresses = st.sampled_from([bytes([i]) * 20 for i in range(1, 9)])
slots = st.integers(0, 6)
values = st.integers(0, 3) | st.integers(0, 2**256 - 1)
optional_int = st.none() | st.integers(0, 2**64)
codes = st.none() | st.sampled_from([b"", b"\x60\x00", b"\x5f\x5f\xf3" * 7])


@st.composite
def delta_lists(draw: st.DrawFn, clears: bool = False) -> list[AccountDelta]:
    """``clears``: some accounts' storage is cleared first (a self-destruct in the block)."""
    chosen = draw(st.lists(addresses, unique=True, max_size=6))
    return [
        AccountDelta(
            address=a,
            balance=draw(optional_int),
            nonce=draw(optional_int),
            code=draw(codes),
            storage=MappingProxyType(draw(st.dictionaries(slots, values, max_size=5))),
            storage_cleared=clears and draw(st.booleans()),
        )
        for a in chosen
    ]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(genesis=delta_lists(), block=delta_lists())
def test_root_equals_state_built_from_scratch(
    genesis: list[AccountDelta], block: list[AccountDelta]
) -> None:
    store = MemoryStore()
    parent = merkleize(store, EMPTY_ROOT, genesis)
    state = apply_to_state({}, genesis)
    assert parent.state_root == reference_root(state)
    commit(store, parent)

    child = merkleize(store, parent.state_root, block)
    assert child.state_root == reference_root(apply_to_state(state, block))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(genesis=delta_lists(), first=delta_lists(), second=delta_lists())
def test_nodes_kept_across_blocks_change_no_root_and_no_write(
    genesis: list[AccountDelta], first: list[AccountDelta], second: list[AccountDelta]
) -> None:
    """The node's kept trie nodes (``Blockchain.trie_nodes``) give each block what a fresh walk gives."""
    store, kept = MemoryStore(), {}
    parent = EMPTY_ROOT
    for block in (genesis, first, second):
        with_kept = merkleize(store, parent, block, kept)
        assert with_kept == merkleize(store, parent, block)
        commit(store, with_kept)
        parent = with_kept.state_root


class NoNodeReads(MemoryStore):
    """A store whose trie nodes may not be read."""

    def get(self, space: Space, key: bytes) -> bytes | None:
        assert space is not Space.NODE, "a trie node was read from the store"
        return super().get(space, key)


def test_kept_nodes_spare_the_next_block_its_reads() -> None:
    """The parent's nodes the block before created are kept decoded: the child reads none from the store."""
    accounts = [bytes([i]) * 20 for i in range(1, 40)]
    kept: dict = {}
    parent = merkleize(
        MemoryStore(), EMPTY_ROOT, [AccountDelta(a, balance=1, storage={1: 1}) for a in accounts], kept
    )
    store = NoNodeReads()
    commit(store, parent)
    child = [AccountDelta(a, balance=2, storage={1: 2, 2: 3}) for a in accounts[::3]]
    assert merkleize(store, parent.state_root, child, kept).state_root == reference_root(
        {
            a: (0, 2 if a in accounts[::3] else 1, b"", {1: 2, 2: 3} if a in accounts[::3] else {1: 1})
            for a in accounts
        }
    )
    with pytest.raises(AssertionError, match="trie node was read"):
        merkleize(store, parent.state_root, child)


def test_balance_only_delta_keeps_nonce_code_and_storage() -> None:
    store = MemoryStore()
    a = b"\x0a" * 20
    genesis = merkleize(
        store, EMPTY_ROOT, [AccountDelta(a, balance=1, nonce=7, code=b"\x60\x00", storage={1: 5})]
    )
    commit(store, genesis)
    child = merkleize(store, genesis.state_root, [AccountDelta(a, balance=99)])
    record = child.accounts[a]
    parent_record = genesis.accounts[a]
    assert record is not None and parent_record is not None
    assert (record.nonce, record.balance) == (7, 99)
    assert record.code_hash == parent_record.code_hash
    assert record.storage_root == parent_record.storage_root
    assert child.code == {} and child.storage == {}


def test_account_that_ends_empty_leaves_the_trie() -> None:
    store = MemoryStore()
    a, b = b"\x0a" * 20, b"\x0b" * 20
    genesis = merkleize(
        store, EMPTY_ROOT, [AccountDelta(a, balance=5, storage={3: 1}), AccountDelta(b, balance=1)]
    )
    commit(store, genesis)
    child = merkleize(store, genesis.state_root, [AccountDelta(a, balance=0, storage={3: 0})])
    assert child.accounts[a] is None
    only_b = merkleize(MemoryStore(), EMPTY_ROOT, [AccountDelta(b, balance=1)])
    assert child.state_root == only_b.state_root
    commit(store, child)
    assert FlatState(store).account(a) is None
    assert list(FlatState(store).storage_items(a)) == []


def test_account_with_storage_but_no_balance_stays() -> None:
    store = MemoryStore()
    a = b"\x0a" * 20
    writes = merkleize(store, EMPTY_ROOT, [AccountDelta(a, storage={1: 1})])
    assert writes.accounts[a] is not None
    assert writes.state_root != EMPTY_ROOT


def test_merkleizing_leaves_the_store_and_the_parent_untouched() -> None:
    store = MemoryStore()
    a = b"\x0a" * 20
    genesis = merkleize(store, EMPTY_ROOT, [AccountDelta(a, balance=1, storage={1: 1, 2: 2})])
    commit(store, genesis)
    before = dump(store)
    left = merkleize(store, genesis.state_root, [AccountDelta(a, storage={1: 0})])
    right = merkleize(store, genesis.state_root, [AccountDelta(a, balance=2, storage={9: 9})])
    assert dump(store) == before, "merkleize wrote to the store"
    assert left.state_root != right.state_root
    # Both siblings commit; the parent stays readable and each sibling's root stays right.
    commit(store, left)
    commit(store, right)
    again = merkleize(store, genesis.state_root, [])
    assert again.state_root == genesis.state_root
    grandchild = merkleize(store, left.state_root, [AccountDelta(a, storage={2: 0})])
    expected = reference_root({a: (0, 1, b"", {})})
    assert grandchild.state_root == expected


def test_unknown_parent_root_is_a_clear_error() -> None:
    with pytest.raises(ParentStateMissing, match="not in the store"):
        merkleize(MemoryStore(), b"\x11" * 32, [AccountDelta(b"\x0a" * 20, balance=1)])


# --- the optimistic merkleizer's flat-state changes -----------------------------------
# On the BAL path the merkleizer (``MerkleSession``) hands back the block's FlatChanges,
# computed from the parent values its walk and stage B read in the tries; the node stores
# those instead of computing them after execution from the flat state. Both must be equal,
# parent values (``before``) and encoding included, whether stage B runs in the session or
# is spread over workers.


def _spread(store: MemoryStore, parent_root: bytes, deltas: list[AccountDelta]) -> MerkleResult:
    """Stage B on its own store handle, as a second worker runs it."""
    session = MerkleSession(store, parent_root, deltas)
    stage_b = compute_storage_roots(store, session.walk())
    return session.finish(stage_b.roots, stage_b.parent_slots)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(genesis=delta_lists(), block=delta_lists(clears=True))
def test_the_sessions_flat_changes_are_the_ones_against_the_flat_state(
    genesis: list[AccountDelta], block: list[AccountDelta]
) -> None:
    store = MemoryStore()
    parent = merkleize(store, EMPTY_ROOT, genesis)
    batch = WriteBatch()
    parent.stage(batch, FlatState(store))
    store.commit(batch)

    in_session = MerkleSession(store, parent.state_root, block).run()
    for result in (in_session, _spread(store, parent.state_root, block)):
        writes = state_writes(result.state_root, result.nodes, block, result.accounts)
        expected = FlatChanges.of(writes, FlatState(store))
        assert result.flat_changes == expected
        assert result.flat_changes.before == expected.before
        assert result.flat_changes.encoding == expected.encoding
        # Both encodings are computed in the merkleizer's process and cross the pipe with the
        # changes: fork choice stores the undo without encoding it on the node's process.
        crossed = pickle.loads(pickle.dumps(result.flat_changes))
        assert {"encoding", "undo_encoding"} <= vars(crossed).keys()
        assert crossed.undo_encoding == expected.undo_encoding

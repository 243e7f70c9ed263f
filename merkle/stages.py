"""The merkleization stages, applied to account deltas on a parent state root.

* Stage B: the new storage root of every account whose storage changes.
* Stage C: the new account records written into the state trie.
* Stage D: the state root.

Both merkleizers use these stages: the optimistic one feeds them deltas
synthesized from the BAL, the streaming one deltas produced by execution.
Each trie's changes are applied as one batch in hashed-key order
(:class:`~merkle.trie.PatriciaTrie`, pipeline.md §3 "sort before you insert"),
so the nodes the updates share are encoded and hashed once. A storage value of zero
deletes the slot; an account that ends empty (EIP-161, and with no storage)
is deleted from the state trie.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

import rlp
from eth_hash.auto import keccak

from bal.deltas import AccountDelta
from bal.rlp_items import rlp_int
from storage import EMPTY_ROOT, AccountRecord, StateWrites, Store

from .nodes import MissingNode, NodeOverlay
from .trie import NodeCache, PatriciaTrie


class ParentStateMissing(LookupError):
    """The parent state's trie is not (fully) in the store."""


# (hashed address, the account's delta, its record in the parent state)
Touched = tuple[bytes, AccountDelta, AccountRecord | None]


def read_parent_accounts(state: PatriciaTrie, deltas: Iterable[AccountDelta]) -> list[Touched]:
    """Walk the parent trie once per touched account, in hashed-key order."""
    keyed = sorted((keccak(d.address), d) for d in deltas)
    out = []
    for hashed, delta in keyed:
        raw = state.get(hashed)
        out.append((hashed, delta, AccountRecord.decode(raw) if raw else None))
    return out


def storage_root(
    nodes: NodeOverlay,
    parent_root: bytes,
    storage: Mapping[int, int],
    cache: NodeCache | None = None,
    parent_values: dict[int, int] | None = None,
) -> bytes:
    """Stage B for one account: apply slot writes (0 deletes) to its storage trie.

    ``parent_values``: filled with each written slot's value under ``parent_root``
    (0 where the trie holds none), read on the update's own way down.
    """
    hashed = {keccak(slot.to_bytes(32, "big")): slot for slot in storage}
    changes = {key: rlp_int(storage[slot]) if storage[slot] else None for key, slot in hashed.items()}
    if parent_values is None:
        return PatriciaTrie(nodes, parent_root, cache).update(changes)
    replaced: dict[bytes, bytes] = {}
    root = PatriciaTrie(nodes, parent_root, cache).update(changes, replaced)
    for key, slot in hashed.items():
        raw = replaced.get(key)
        parent_values[slot] = int.from_bytes(rlp.decode(raw), "big") if raw else 0
    return root


def slot_values(
    nodes: NodeOverlay, root: bytes, slots: Iterable[int], cache: NodeCache | None = None
) -> dict[int, int]:
    """Each slot's value in the storage trie under ``root`` (0 where the trie has none)."""
    if root == EMPTY_ROOT:
        return dict.fromkeys(slots, 0)
    trie = PatriciaTrie(nodes, root, cache)
    values = {}
    for slot in slots:
        raw = trie.get(keccak(slot.to_bytes(32, "big")))
        values[slot] = int.from_bytes(rlp.decode(raw), "big") if raw else 0
    return values


def base_storage_root(parent: AccountRecord | None, delta: AccountDelta) -> bytes:
    if parent is None or delta.storage_cleared:
        return EMPTY_ROOT
    return parent.storage_root


def apply_delta(
    parent: AccountRecord | None, delta: AccountDelta, new_storage_root: bytes | None
) -> AccountRecord:
    """The account after the block: parent fields, overridden where the delta sets them."""
    base = parent or AccountRecord()
    return AccountRecord(
        nonce=base.nonce if delta.nonce is None else delta.nonce,
        balance=base.balance if delta.balance is None else delta.balance,
        storage_root=base.storage_root if new_storage_root is None else new_storage_root,
        code_hash=base.code_hash if delta.code is None else keccak(delta.code),
    )


def storage_roots(nodes: NodeOverlay, touched: Iterable[Touched], cache: NodeCache) -> dict[bytes, bytes]:
    """Stage B: the new storage root of every touched account whose storage changes."""
    return {
        delta.address: storage_root(nodes, base_storage_root(parent, delta), delta.storage, cache)
        for _, delta, parent in touched
        if delta.storage or delta.storage_cleared
    }


def update_accounts(
    state: PatriciaTrie, touched: Iterable[Touched], roots: Mapping[bytes, bytes]
) -> dict[bytes, AccountRecord | None]:
    """Stage C: write each touched account's new record (or its removal) into the state trie."""
    accounts: dict[bytes, AccountRecord | None] = {}
    changes: dict[bytes, bytes | None] = {}
    for hashed, delta, parent in touched:
        record = apply_delta(parent, delta, roots.get(delta.address))
        if record.is_empty():
            changes[hashed] = None
            accounts[delta.address] = None
        else:
            changes[hashed] = record.encode()
            accounts[delta.address] = record
    state.update(changes)
    return accounts


def state_writes(
    state_root: bytes,
    nodes: Mapping[bytes, bytes],
    deltas: Iterable[AccountDelta],
    accounts: Mapping[bytes, AccountRecord | None],
) -> StateWrites:
    """Stage D's result: the root, and every write the block makes, for the block's batch."""
    deltas = tuple(deltas)
    return StateWrites(
        state_root=state_root,
        nodes=nodes,
        accounts=accounts,
        storage={d.address: d.storage for d in deltas if d.storage},
        cleared=frozenset(d.address for d in deltas if d.storage_cleared),
        code={keccak(d.code): d.code for d in deltas if d.code},  # empty code is never stored
    )


@contextmanager
def parent_state_required(parent_root: bytes) -> Iterator[None]:
    """Turn a trie node missing from the store into :class:`ParentStateMissing`."""
    try:
        yield
    except MissingNode as exc:
        raise ParentStateMissing(
            f"state under root 0x{parent_root.hex()} is not in the store: {exc}"
        ) from None


def merkleize(
    store: Store, parent_root: bytes, deltas: Iterable[AccountDelta], cache: NodeCache | None = None
) -> StateWrites:
    """Run stages B, C and D in this process; return the new root and every write the block makes.

    This is the streaming merkleizer (after execution, over the deltas it
    produced). Nothing is written to ``store``: the caller stages the result
    into the block's batch, or drops it. ``cache``: decoded trie nodes, which
    the node keeps from block to block as the merkleizer's worker process does
    (``merkle.worker_process``): the next block reads the upper levels of the
    tries again and mostly the nodes this one created.
    """
    nodes = NodeOverlay(store)
    decoded: NodeCache = {} if cache is None else cache
    state = PatriciaTrie(nodes, parent_root, decoded)
    with parent_state_required(parent_root):
        touched = read_parent_accounts(state, deltas)
        accounts = update_accounts(state, touched, storage_roots(nodes, touched, decoded))
    return state_writes(state.root_hash, nodes.writes, (d for _, d, _ in touched), accounts)

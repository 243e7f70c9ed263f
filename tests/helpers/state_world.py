"""A committed parent state for account-database tests, and a database over it.

Several test folders (tests/bal's recorder tests, tests/client's account
database tests) need the same thing: some accounts merkleized into a
``MemoryStore`` with their flat state written, and a ``StoreAccountDB`` reading
it as the parent of a block.
"""

from __future__ import annotations

from collections.abc import Iterable

from bal.deltas import AccountDelta
from client.account_db import StoreAccountDB
from merkle import merkleize
from pipeline.state_source import StateSource
from storage import EMPTY_ROOT, FlatState, MemoryStore, WriteBatch

ParentState = tuple[MemoryStore, bytes]


def committed_state(accounts: Iterable[AccountDelta]) -> ParentState:
    """A store holding ``accounts`` (tries and flat state), and its state root."""
    store = MemoryStore()
    writes = merkleize(store, EMPTY_ROOT, list(accounts))
    batch = WriteBatch()
    writes.stage(batch, FlatState(store))
    store.commit(batch)
    return store, writes.state_root


def new_db(parent: ParentState) -> StoreAccountDB:
    """An account database whose parent state is ``parent`` (read through its flat state)."""
    store, root = parent
    return StoreAccountDB(StateSource(store, root, parent_has_flat_state=True), root)

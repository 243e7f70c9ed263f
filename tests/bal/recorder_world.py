"""The recorder tests' parent state: A (a contract with storage), D (a funded EOA); B and C absent."""

from __future__ import annotations

from bal.deltas import AccountDelta
from client.account_db import StoreAccountDB
from merkle import merkleize
from pipeline.state_source import StateSource
from storage import EMPTY_ROOT, FlatState, MemoryStore, WriteBatch

A, B, C, D = b"\x0a" * 20, b"\x0b" * 20, b"\x0c" * 20, b"\x0d" * 20
CODE = b"\x60\x01\x60\x00\x55"
NEW_CODE = b"\x60\x02\x60\x00\x55\x00"


def parent_state() -> tuple[MemoryStore, bytes]:
    """A store holding A and D (the parent state of every recorder test), and its root."""
    store = MemoryStore()
    genesis = [
        AccountDelta(A, balance=100, nonce=3, code=CODE, storage={1: 11, 2: 22}),
        AccountDelta(D, balance=50),
    ]
    writes = merkleize(store, EMPTY_ROOT, genesis)
    batch = WriteBatch()
    writes.stage(batch, FlatState(store))
    store.commit(batch)
    return store, writes.state_root


def new_db(parent: tuple[MemoryStore, bytes]) -> StoreAccountDB:
    store, root = parent
    return StoreAccountDB(StateSource(store, root, parent_has_flat_state=True), root)

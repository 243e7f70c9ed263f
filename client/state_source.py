"""Reads of a block's parent state, for execution, through one cache.

Execution never walks a trie per account or slot when the parent is the head:
it reads the flat state. For any other parent (a side branch) it falls back to
the tries under the parent's root, which is slower but always right. Both go
through the same cache, which is what the warmer fills ahead of execution on
the BAL path; hits and misses are counted so the pipeline can report how
much of execution the warmer served.
"""

from __future__ import annotations

from dataclasses import dataclass

import rlp
from eth_hash.auto import keccak
from trie import HexaryTrie

from merkle import NodeOverlay
from storage import EMPTY_CODE_HASH, AccountRecord, FlatState, Space, Store


class MissingCode(LookupError):
    """An account's code hash names code the store does not hold."""


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0


class StateSource:
    """The parent state of one block: accounts, storage and code, cached."""

    def __init__(self, store: Store, state_root: bytes, *, parent_is_head: bool) -> None:
        self.store = store
        self.state_root = state_root
        self._flat = FlatState(store) if parent_is_head else None
        self._nodes = NodeOverlay(store)
        self._accounts: dict[bytes, AccountRecord | None] = {}
        self._storage: dict[tuple[bytes, int], int] = {}
        self._code: dict[bytes, bytes] = {}
        self.stats = CacheStats()

    # -- cached reads ------------------------------------------------------

    def account(self, address: bytes) -> AccountRecord | None:
        if address in self._accounts:
            self.stats.hits += 1
            return self._accounts[address]
        self.stats.misses += 1
        record = self._read_account(address)
        self._accounts[address] = record
        return record

    def storage(self, address: bytes, slot: int) -> int:
        key = (address, slot)
        if key in self._storage:
            self.stats.hits += 1
            return self._storage[key]
        self.stats.misses += 1
        value = self._read_storage(address, slot)
        self._storage[key] = value
        return value

    def code(self, code_hash: bytes) -> bytes:
        if code_hash == EMPTY_CODE_HASH:
            return b""
        code = self._code.get(code_hash)
        if code is None:
            code = self.store.get(Space.CODE, code_hash)
            if code is None:
                raise MissingCode(f"code 0x{code_hash.hex()} is not in the store")
            self._code[code_hash] = code
        return code

    # -- uncached reads from the store ---------------------------------------

    def _read_account(self, address: bytes) -> AccountRecord | None:
        if self._flat is not None:
            return self._flat.account(address)
        raw = HexaryTrie(self._nodes, self.state_root).get(keccak(address))
        return AccountRecord.decode(raw) if raw else None

    def _read_storage(self, address: bytes, slot: int) -> int:
        if self._flat is not None:
            return self._flat.storage(address, slot)
        record = self.account(address)
        if record is None:
            return 0
        raw = HexaryTrie(self._nodes, record.storage_root).get(keccak(slot.to_bytes(32, "big")))
        return int.from_bytes(rlp.decode(raw), "big") if raw else 0

"""Reads of a block's parent state, for execution, through one cache.

Execution never walks a trie per account or slot when the parent is the head:
it reads the flat state. For any other parent (a side branch) it falls back to
the tries under the parent's root, which is slower but always right. Both go
through the same cache, which is what the warmer fills ahead of execution on
the BAL path (``warm_*``, from the warmer's thread). The executor's reads are
counted: a *hit* is served by an entry the warmer put there, a *miss* had to
read the store itself; re-reads of an entry the executor loaded count as
neither. Dict operations are atomic under the interpreter lock, and both
threads would store the same parent value, so the two need no lock.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_hash.auto import keccak

from merkle import NodeCache, NodeOverlay, PatriciaTrie
from merkle.stages import slot_values
from storage import EMPTY_CODE_HASH, AccountRecord, FlatState, Space, Store


class MissingCode(LookupError):
    """An account's code hash names code the store does not hold."""


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0



class StateSource:
    """The parent state of one block: accounts, storage and code, cached."""

    def __init__(self, store: Store, state_root: bytes, *, parent_has_flat_state: bool) -> None:
        self.store = store
        self.state_root = state_root
        self._flat = FlatState(store) if parent_has_flat_state else None
        self._nodes = NodeOverlay(store)
        self._trie_nodes: NodeCache = {}
        self._accounts: dict[bytes, AccountRecord | None] = {}
        self._storage: dict[tuple[bytes, int], int] = {}
        self._code: dict[bytes, bytes] = {}
        # Keys the warmer loaded (addresses, (address, slot) pairs, code hashes).
        self._warmed: set[object] = set()
        self.stats = CacheStats()

    # -- the executor's reads --------------------------------------------------

    def _count(self, key: object) -> None:
        if key in self._warmed:
            self.stats.hits += 1

    def account(self, address: bytes) -> AccountRecord | None:
        if address in self._accounts:
            self._count(address)
            return self._accounts[address]
        self.stats.misses += 1
        record = self._accounts[address] = self._read_account(address)
        return record

    def storage(self, address: bytes, slot: int) -> int:
        key = (address, slot)
        if key in self._storage:
            self._count(key)
            return self._storage[key]
        self.stats.misses += 1
        value = self._storage[key] = self._read_storage(address, slot)
        return value

    def code(self, code_hash: bytes) -> bytes:
        if code_hash == EMPTY_CODE_HASH:
            return b""
        if code_hash in self._code:
            self._count(code_hash)
            return self._code[code_hash]
        self.stats.misses += 1
        code = self._code[code_hash] = self._read_code(code_hash)
        return code

    # -- the warmer's prefetch (no counting; never replaces an entry) -----------

    def warm_account(self, address: bytes) -> AccountRecord | None:
        if address not in self._accounts:
            self._accounts[address] = self._read_account(address)
            self._warmed.add(address)
        return self._accounts[address]

    def warm_storage(self, address: bytes, slot: int) -> None:
        key = (address, slot)
        if key not in self._storage:
            self._storage[key] = self._read_storage(address, slot)
            self._warmed.add(key)

    def warm_code(self, code_hash: bytes) -> None:
        if code_hash != EMPTY_CODE_HASH and code_hash not in self._code:
            self._code[code_hash] = self._read_code(code_hash)
            self._warmed.add(code_hash)

    # -- uncached reads from the store ---------------------------------------
    # (A subclass reads another state by overriding these three: the dossier's claimed state.)

    def _read_code(self, code_hash: bytes) -> bytes:
        code = self.store.get(Space.CODE, code_hash)
        if code is None:
            raise MissingCode(f"code 0x{code_hash.hex()} is not in the store")
        return code

    def _read_account(self, address: bytes) -> AccountRecord | None:
        if self._flat is not None:
            return self._flat.account(address)
        raw = PatriciaTrie(self._nodes, self.state_root, self._trie_nodes).get(keccak(address))
        return AccountRecord.decode(raw) if raw else None

    def _read_storage(self, address: bytes, slot: int) -> int:
        if self._flat is not None:
            return self._flat.storage(address, slot)
        record = self._accounts.get(address) or self._read_account(address)
        if record is None:
            return 0
        return slot_values(self._nodes, record.storage_root, (slot,), self._trie_nodes)[slot]

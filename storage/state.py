"""Flat state: the head's accounts, storage and code, keyed for direct reads.

The state trie is the commitment; the flat state is what execution reads, one
key lookup per account or slot instead of a trie walk. Both are written by the
same atomic batch, so they never disagree about a committed block.

Account records are the RLP the state trie holds at ``keccak(address)``, so a
record read from either place decodes the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import rlp
from eth_hash.auto import keccak

from bal.rlp_items import RlpDecodeError, read_rlp, rlp_int, rlp_list, rlp_string

from .store import Space, Store, WriteBatch

EMPTY_ROOT = keccak(rlp.encode(b""))  # root of an empty trie
EMPTY_CODE_HASH = keccak(b"")
SLOT_BYTES = 32


@dataclass(frozen=True, slots=True)
class AccountRecord:
    nonce: int = 0
    balance: int = 0
    storage_root: bytes = EMPTY_ROOT
    code_hash: bytes = EMPTY_CODE_HASH

    def is_empty(self) -> bool:
        """EIP-161 empty, and without storage: such an account leaves the trie."""
        return (
            self.nonce == 0
            and self.balance == 0
            and self.code_hash == EMPTY_CODE_HASH
            and self.storage_root == EMPTY_ROOT
        )

    def __reduce__(self) -> tuple[type[AccountRecord], tuple[int, int, bytes, bytes]]:
        """Pickle as the constructor and its four fields: a merkleizer's reply holds hundreds of
        records, and the default for a slotted dataclass (its state, set field by field) took
        twice as long to load, in the node's process, while the block executes."""
        return (AccountRecord, (self.nonce, self.balance, self.storage_root, self.code_hash))

    def encode(self) -> bytes:
        # By hand: pyrlp's ``rlp.encode`` infers a sedes for every item (10 us a record),
        # its ``encode_raw`` checks each item's type (5 us); these take 1.5 us. Every
        # account a block changes is encoded twice (its trie leaf and its flat-state record).
        return rlp_list(
            (
                rlp_int(self.nonce),
                rlp_int(self.balance),
                rlp_string(self.storage_root),
                rlp_string(self.code_hash),
            )
        )

    @classmethod
    def decode(cls, data: bytes) -> AccountRecord:
        """The record ``encode`` wrote (as the state trie and the flat state hold it).

        One strict pass (``bal.rlp_items.read_rlp``, 3 us against pyrlp's 5): execution
        reads a record for every account it touches. Anything but a list of four strings
        raises :class:`~bal.rlp_items.RlpDecodeError`.
        """
        fields = read_rlp(data)
        if not isinstance(fields, list) or len(fields) != 4 or not all(isinstance(f, bytes) for f in fields):
            raise RlpDecodeError(f"not an account record: {data[:40].hex()}")
        nonce, balance, storage_root, code_hash = fields
        return cls(int.from_bytes(nonce, "big"), int.from_bytes(balance, "big"), storage_root, code_hash)  # type: ignore[arg-type]


def storage_key(address: bytes, slot: int) -> bytes:
    return address + slot.to_bytes(SLOT_BYTES, "big")


def int_bytes(value: int) -> bytes:
    """Minimal big-endian bytes (zero is empty): how RLP and the flat state hold integers."""
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


@dataclass(frozen=True, slots=True)
class StateWrites:
    """Everything one block changes in the state, ready for a batch.

    ``accounts`` maps an address to its new record, or ``None`` when the
    account leaves the state; ``storage`` maps an address to slot -> value,
    where 0 deletes the slot; ``cleared`` names accounts whose previous
    storage is dropped first; ``nodes`` are new trie nodes by hash.
    """

    state_root: bytes
    nodes: Mapping[bytes, bytes]
    accounts: Mapping[bytes, AccountRecord | None]
    storage: Mapping[bytes, Mapping[int, int]]
    code: Mapping[bytes, bytes]
    cleared: frozenset[bytes] = frozenset()

    def stage(self, batch: WriteBatch, flat: FlatState | None = None) -> None:
        """Stage every write; ``flat`` (the parent's flat state) lists the slots a clear removes."""
        self._require_flat(flat)
        self.stage_trie(batch)
        self.stage_flat(batch, flat)

    def _require_flat(self, flat: FlatState | None) -> None:
        if self.cleared and flat is None:
            raise ValueError("clearing storage needs the parent's flat state to list its slots")

    def stage_trie(self, batch: WriteBatch) -> None:
        """Only the content-addressed part (trie nodes, code): safe for any parent, head or not."""
        batch.put_all(Space.NODE, self.nodes.items())
        batch.put_all(Space.CODE, self.code.items())

    def stage_flat(self, batch: WriteBatch, flat: FlatState | None) -> None:
        """The flat state: only when the block's parent is the head the flat state holds."""
        self._require_flat(flat)
        if flat is not None:  # else nothing is cleared: _require_flat said so
            for address in self.cleared:
                for slot, _ in flat.storage_items(address):
                    batch.delete(Space.STORAGE, storage_key(address, slot))
        for address, record in self.accounts.items():
            if record is None:
                batch.delete(Space.ACCOUNT, address)
            else:
                batch.put(Space.ACCOUNT, address, record.encode())
        for address, slots in self.storage.items():
            for slot, value in slots.items():
                if value:
                    batch.put(Space.STORAGE, storage_key(address, slot), int_bytes(value))
                else:
                    batch.delete(Space.STORAGE, storage_key(address, slot))


class FlatState:
    """Reads of the flat state of the committed head."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def account(self, address: bytes) -> AccountRecord | None:
        raw = self.store.get(Space.ACCOUNT, address)
        return None if raw is None else AccountRecord.decode(raw)

    def storage(self, address: bytes, slot: int) -> int:
        raw = self.store.get(Space.STORAGE, storage_key(address, slot))
        return 0 if raw is None else int.from_bytes(raw, "big")

    def storage_items(self, address: bytes) -> Iterator[tuple[int, int]]:
        for key, value in self.store.iterate(Space.STORAGE, address):
            yield int.from_bytes(key[len(address) :], "big"), int.from_bytes(value, "big")

    def code(self, code_hash: bytes) -> bytes | None:
        if code_hash == EMPTY_CODE_HASH:
            return b""
        return self.store.get(Space.CODE, code_hash)

    def addresses(self) -> Iterator[bytes]:
        for key, _ in self.store.iterate(Space.ACCOUNT):
            yield key

"""The state a block starts from, advanced by block access lists instead of by execution.

A BAL holds the post-value of every field its block changed (EIP-7928), so the
state before block ``k`` is the genesis allocation with the BALs of blocks
``1 .. k - 1`` applied, whatever executed them. That makes blocks independent:
any process can execute block ``k`` once it has applied the BALs before it,
which takes milliseconds a block. The claim is checked by the execution itself:
a block is accepted only if its executed BAL equals the given one, so every
BAL applied here was produced by executing its block on the state before it
(the first block's on the genesis state).

The state lives in a :class:`storage.MemoryStore` laid out as a node's flat
state (``Space.ACCOUNT``, ``Space.STORAGE``, ``Space.CODE``), so the pipeline's
:class:`~pipeline.state_source.StateSource` reads it as it reads a head's flat
state. No trie is built: storage roots are not known. Execution only asks
whether an account has storage at all (EIP-7610's collision rule), so a
record holds ``EMPTY_ROOT`` when the account has no nonzero slot and
:data:`UNKNOWN_STORAGE_ROOT` otherwise; the nonzero slots are counted per
account as deltas apply.
"""

from __future__ import annotations

from collections.abc import Iterable

from eth_hash.auto import keccak

from bal.deltas import AccountDelta
from storage import EMPTY_ROOT, AccountRecord, FlatState, MemoryStore, Space, WriteBatch
from storage.state import int_bytes, storage_key

#: the storage root of an account that holds some nonzero slot: only "not empty" is known
UNKNOWN_STORAGE_ROOT = keccak(b"balrex dossier: storage root not computed")


class ClaimedState:
    """A flat state in memory that account deltas (a genesis allocation, a block's BAL) move forward."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        self._flat = FlatState(self.store)
        #: per address, how many of its slots hold a nonzero value
        self._nonzero_slots: dict[bytes, int] = {}

    def apply(self, deltas: Iterable[AccountDelta]) -> None:
        """Set every field the deltas name, in one batch.

        An account that ends with nothing (no nonce, balance, code or storage)
        leaves the state, as EIP-161 removes it from the trie. A BAL never
        clears storage (a destroyed account's slots show as zero post-values),
        so ``storage_cleared`` is refused rather than guessed at.
        """
        batch = WriteBatch()
        for delta in deltas:
            if delta.storage_cleared:
                raise ValueError(f"0x{delta.address.hex()}: a claimed state is not given cleared storage")
            address = delta.address
            record = self._flat.account(address) or AccountRecord()
            code_hash = record.code_hash
            if delta.code is not None:
                code_hash = keccak(delta.code)
                batch.put(Space.CODE, code_hash, delta.code)
            nonzero = self._nonzero_slots.get(address, 0)
            for slot, value in delta.storage.items():
                before = self._flat.storage(address, slot)
                nonzero += bool(value) - bool(before)
                key = storage_key(address, slot)
                if value:
                    batch.put(Space.STORAGE, key, int_bytes(value))
                else:
                    batch.delete(Space.STORAGE, key)
            self._nonzero_slots[address] = nonzero
            updated = AccountRecord(
                record.nonce if delta.nonce is None else delta.nonce,
                record.balance if delta.balance is None else delta.balance,
                UNKNOWN_STORAGE_ROOT if nonzero else EMPTY_ROOT,
                code_hash,
            )
            if updated.is_empty():
                batch.delete(Space.ACCOUNT, address)
            else:
                batch.put(Space.ACCOUNT, address, updated.encode())
        self.store.commit(batch)

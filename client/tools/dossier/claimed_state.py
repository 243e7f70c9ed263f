"""The state a block starts from, advanced by block access lists instead of by execution.

A BAL holds the post-value of every field its block changed (EIP-7928), so the
state before block ``k`` is the genesis allocation with the BALs of blocks
``1 .. k - 1`` applied, whatever executed them. That makes blocks independent:
any process can execute block ``k`` once it has applied the BALs before it,
which takes a few milliseconds a block. The claim is checked by the execution
itself: a block is accepted only if its executed BAL equals the given one, so
every BAL applied here was produced by executing its block on the state before
it (the first block's on the genesis state).

The state is three dicts (accounts, storage, code), read by execution through
:class:`ClaimedStateSource`, the pipeline's state source with its store reads
replaced by dict lookups. No trie is built: storage roots are not known.
Execution only asks whether an account has storage at all (EIP-7610's
collision rule), so a record holds ``EMPTY_ROOT`` when the account has no
nonzero slot and :data:`UNKNOWN_STORAGE_ROOT` otherwise; the nonzero slots are
counted per account as deltas apply.
"""

from __future__ import annotations

from collections.abc import Iterable

from eth_hash.auto import keccak

from bal.deltas import AccountDelta
from merkle.stages import apply_delta
from pipeline.state_source import MissingCode, StateSource
from storage import EMPTY_CODE_HASH, EMPTY_ROOT, AccountRecord, Store

#: the storage root of an account that holds some nonzero slot: only "not empty" is known
UNKNOWN_STORAGE_ROOT = keccak(b"balrex dossier: storage root not computed")


class ClaimedState:
    """A flat state in memory that account deltas (a genesis allocation, a block's BAL) move forward."""

    def __init__(self) -> None:
        self.accounts: dict[bytes, AccountRecord] = {}
        #: (address, slot) -> value; a slot set to zero is removed
        self.storage: dict[tuple[bytes, int], int] = {}
        self.code: dict[bytes, bytes] = {EMPTY_CODE_HASH: b""}
        #: per address, how many of its slots hold a nonzero value
        self._nonzero_slots: dict[bytes, int] = {}

    def apply(self, deltas: Iterable[AccountDelta]) -> None:
        """Set every field the deltas name.

        An account that ends with nothing (no nonce, balance, code or storage)
        leaves the state, as EIP-161 removes it from the trie. A BAL never
        clears storage (a destroyed account's slots show as zero post-values),
        so ``storage_cleared`` is refused rather than guessed at.
        """
        accounts, storage = self.accounts, self.storage
        for delta in deltas:
            address = delta.address
            if delta.storage_cleared:
                raise ValueError(f"0x{address.hex()}: a claimed state is not given cleared storage")
            nonzero = self._nonzero_slots.get(address, 0)
            for slot, value in delta.storage.items():
                key = (address, slot)
                before = storage.pop(key, 0)
                if value:
                    storage[key] = value
                nonzero += bool(value) - bool(before)
            self._nonzero_slots[address] = nonzero
            # The merkleizer's own rule for a delta over a parent record, with the storage root
            # standing for "has storage" (the root itself is not computed).
            updated = apply_delta(
                accounts.get(address), delta, UNKNOWN_STORAGE_ROOT if nonzero else EMPTY_ROOT
            )
            if delta.code is not None:
                self.code[updated.code_hash] = delta.code  # apply_delta hashed it
            if updated.is_empty():
                accounts.pop(address, None)
            else:
                accounts[address] = updated


class ClaimedStateSource(StateSource):
    """A block's parent state read from a :class:`ClaimedState` (``store`` serves nothing of the state)."""

    def __init__(self, claimed: ClaimedState, store: Store, state_root: bytes) -> None:
        super().__init__(store, state_root, parent_has_flat_state=False)
        self._claimed = claimed

    def _read_account(self, address: bytes) -> AccountRecord | None:
        return self._claimed.accounts.get(address)

    def _read_storage(self, address: bytes, slot: int) -> int:
        return self._claimed.storage.get((address, slot), 0)

    def _read_code(self, code_hash: bytes) -> bytes:
        code = self._claimed.code.get(code_hash)
        if code is None:
            raise MissingCode(f"code 0x{code_hash.hex()} is not in the claimed state")
        return code

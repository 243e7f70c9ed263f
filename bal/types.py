"""Immutable EIP-7928 block access list types.

The layout mirrors the RLP wire order (address, storage changes, storage
reads, balance changes, nonce changes, code changes) so the codecs are plain
field-by-field maps. Slots and storage values are integers, as on the wire
(minimal big-endian RLP integers), not 32-byte strings.

Instances are frozen and hold tuples so that a BAL handed to the pipeline can
be shared by concurrent tasks without anyone mutating it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .deltas import AccountDelta

# Widths of the integer fields, in bytes (EIP-7928).
INDEX_BYTES = 4  # blockAccessIndex: u32
NONCE_BYTES = 8  # u64
VALUE_BYTES = 32  # slots, storage values, balances: u256
ADDRESS_BYTES = 20


@dataclass(frozen=True, slots=True)
class StorageChange:
    block_access_index: int
    post_value: int


@dataclass(frozen=True, slots=True)
class BalanceChange:
    block_access_index: int
    post_balance: int


@dataclass(frozen=True, slots=True)
class NonceChange:
    block_access_index: int
    post_nonce: int


@dataclass(frozen=True, slots=True)
class CodeChange:
    block_access_index: int
    new_code: bytes


@dataclass(frozen=True, slots=True)
class SlotChanges:
    slot: int
    changes: tuple[StorageChange, ...]


@dataclass(frozen=True, slots=True)
class AccountChanges:
    address: bytes
    storage_changes: tuple[SlotChanges, ...] = ()
    storage_reads: tuple[int, ...] = ()
    balance_changes: tuple[BalanceChange, ...] = ()
    nonce_changes: tuple[NonceChange, ...] = ()
    code_changes: tuple[CodeChange, ...] = ()


@dataclass(frozen=True, slots=True)
class BlockAccessList:
    """All accounts a block touched, in the order they appear on the wire."""

    accounts: tuple[AccountChanges, ...] = ()
    # Its canonical RLP once known (the bytes it was decoded from, or its first
    # encoding), kept by ``rlp_codec`` so a BAL is encoded at most once: not part
    # of its value.
    _rlp: bytes | None = field(default=None, compare=False, repr=False)
    # Its deltas after the whole block once synthesized (``deltas.synthesize_deltas``):
    # a block imported right after another has them synthesized for the merkleization
    # started ahead of it, and its own import needs the same ones.
    _deltas: tuple[AccountDelta, ...] | None = field(default=None, init=False, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.accounts)

    def item_count(self) -> int:
        """Addresses plus unique storage keys: the unit of the BAL size limit."""
        return sum(
            1 + len({sc.slot for sc in a.storage_changes} | set(a.storage_reads))
            for a in self.accounts
        )

"""The neutral model every dossier source is turned into.

A source only has to say, per block and per transaction, which keys the
transaction read and which it wrote, and how much gas it used. A key is an
``(address, slot)`` pair for storage or ``(address, None)`` for an account-level
access (balance, nonce, code, existence); the two never match, so an account
write does not conflict with a storage read of the same contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: ``(address, slot)``; ``slot`` is ``None`` for an account-level key. Both are lower-case 0x hex.
Key = tuple[str, str | None]


@dataclass(frozen=True)
class TxAccesses:
    """One transaction's access sets; ``reads`` and ``writes`` may share keys (a read-modify-write)."""

    tx_index: int
    tx_hash: str
    gas_used: int | None
    reads: frozenset[Key]
    writes: frozenset[Key]
    #: distinct observations the source held for this transaction (after removing exact duplicates)
    access_count: int

    @property
    def keys(self) -> frozenset[Key]:
        """Every key the transaction touched, read or written."""
        return self.reads | self.writes


@dataclass(frozen=True)
class BlockAccesses:
    """A block's transactions in canonical order (ascending ``tx_index``)."""

    number: int
    transactions: tuple[TxAccesses, ...]
    #: the block's full transaction count when the source holds only a sample of them
    source_tx_count: int | None = None


@dataclass(frozen=True)
class AccessSource:
    """A block range as one source saw it, with what it says about its own limits."""

    chain: str
    start_block: int
    end_block: int
    blocks: tuple[BlockAccesses, ...]
    provenance: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)
    #: independent chains the blocks come from (EF tests: one per test, block numbers repeat)
    chains: int = 1

    @property
    def gas_complete(self) -> bool:
        """Whether every transaction carries a gas figure; if not, gas metrics are unavailable."""
        return all(tx.gas_used is not None for block in self.blocks for tx in block.transactions)

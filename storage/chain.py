"""Block records and chain pointers: headers, bodies, receipts, BALs, tx index, canonical chain, pointers.

Blocks are keyed by hash; the canonical chain maps numbers to hashes. Named
pointers: ``head``, ``safe`` and ``finalized`` are fork choice (what the
consensus client said); ``FLAT_STATE_BLOCK`` is the block whose post-state the
flat state holds (stored under the key ``tip`` since the first data dirs). All
of them are staged into the same batch as the block's state, so after a crash
every pointer names a block that is fully stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from .block_rlp import join_block
from .store import Space, Store, WriteBatch

HEAD, SAFE, FINALIZED, FLAT_STATE_BLOCK = "head", "safe", "finalized", "tip"


def _number_key(number: int) -> bytes:
    return number.to_bytes(8, "big")


@dataclass(frozen=True, slots=True)
class StoredBlock:
    """The RLP pieces of one block as the store keeps them."""

    block_hash: bytes
    number: int
    header_rlp: bytes
    body_rlp: bytes
    receipts_rlp: bytes | None = None
    bal_rlp: bytes | None = None
    # The hashes of the block's transactions, in order: indexed for lookups by hash.
    transaction_hashes: tuple[bytes, ...] = ()


class Chain:
    """Reads and staged writes of block records and pointers."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- reads -------------------------------------------------------------

    def head_hash(self) -> bytes | None:
        return self.pointer(HEAD)

    def pointer(self, name: str) -> bytes | None:
        return self.store.get(Space.META, name.encode())

    def canonical_hash(self, number: int) -> bytes | None:
        return self.store.get(Space.CANONICAL, _number_key(number))

    def header_rlp(self, block_hash: bytes) -> bytes | None:
        return self.store.get(Space.HEADER, block_hash)

    def body_rlp(self, block_hash: bytes) -> bytes | None:
        return self.store.get(Space.BODY, block_hash)

    def block_rlp(self, block_hash: bytes) -> bytes | None:
        """The whole block's RLP, as it was imported (None unless header and body are stored)."""
        header_rlp, body_rlp = self.header_rlp(block_hash), self.body_rlp(block_hash)
        if header_rlp is None or body_rlp is None:
            return None
        return join_block(header_rlp, body_rlp)

    def receipts_rlp(self, block_hash: bytes) -> bytes | None:
        return self.store.get(Space.RECEIPTS, block_hash)

    def bal_rlp(self, block_hash: bytes) -> bytes | None:
        return self.store.get(Space.BAL, block_hash)

    def transaction_location(self, tx_hash: bytes) -> tuple[bytes, int] | None:
        """``(block hash, index)`` of the last stored block holding the transaction, if any.

        A transaction in blocks of two branches points at the one stored last;
        callers serving the canonical chain check that block is canonical.
        """
        raw = self.store.get(Space.TX_INDEX, tx_hash)
        return None if raw is None else (raw[:32], int.from_bytes(raw[32:], "big"))

    # -- staged writes -----------------------------------------------------

    @staticmethod
    def stage_block(batch: WriteBatch, block: StoredBlock) -> None:
        batch.put(Space.HEADER, block.block_hash, block.header_rlp)
        batch.put(Space.BODY, block.block_hash, block.body_rlp)
        if block.receipts_rlp is not None:
            batch.put(Space.RECEIPTS, block.block_hash, block.receipts_rlp)
        if block.bal_rlp is not None:
            batch.put(Space.BAL, block.block_hash, block.bal_rlp)
        batch.put_all(
            Space.TX_INDEX,
            (
                (tx_hash, block.block_hash + index.to_bytes(4, "big"))
                for index, tx_hash in enumerate(block.transaction_hashes)
            ),
        )

    @staticmethod
    def stage_head(batch: WriteBatch, block_hash: bytes, number: int) -> None:
        """Make ``block_hash`` the canonical block at ``number`` and the head."""
        Chain.stage_canonical(batch, number, block_hash)
        Chain.stage_pointer(batch, HEAD, block_hash)

    @staticmethod
    def stage_pointer(batch: WriteBatch, name: str, block_hash: bytes) -> None:
        batch.put(Space.META, name.encode(), block_hash)

    @staticmethod
    def stage_canonical(batch: WriteBatch, number: int, block_hash: bytes | None) -> None:
        """Set (or with ``None`` remove) the canonical block at ``number``."""
        if block_hash is None:
            batch.delete(Space.CANONICAL, _number_key(number))
        else:
            batch.put(Space.CANONICAL, _number_key(number), block_hash)

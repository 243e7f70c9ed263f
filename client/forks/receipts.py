"""A transaction's logs bloom and its receipt, for every fork balrex runs (Cancun on).

py-evm builds a receipt through ``transaction.make_receipt``, whose receipt
class derives the bloom from the logs with eth-bloom: about 37 us a receipt,
most of a 200-transaction block's receipt work (and from Amsterdam, EIP-7708,
every value transfer logs). Here the bloom is computed by :func:`logs_bloom`
(one keccak per address and topic, three bits from each): in
``StoreExecution.make_receipt`` (Cancun to Osaka) and, from Amsterdam, in the
process that executed the transaction: for a block's later part that is the
worker, so the node's process only encodes receipts
(``amsterdam.later_part.BlockGas``, straight to bytes: no receipt object).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from eth.abc import ReceiptAPI, SignedTransactionAPI
from eth.rlp.logs import Log
from eth.rlp.receipts import Receipt
from eth_hash.auto import keccak

from pipeline.receipts import LogEntry, encode_receipt

_BLOOM_BITS_MASK = 2047  # a bloom is 2048 bits


def _add_to_bloom(bloom: int, value: bytes) -> int:
    digest = keccak(value)
    for i in (0, 2, 4):
        bloom |= 1 << (((digest[i] << 8) | digest[i + 1]) & _BLOOM_BITS_MASK)
    return bloom


def logs_bloom(logs: Iterable[LogEntry]) -> int:
    """The yellow paper's bloom over each log's address and 32-byte topics."""
    bloom = 0
    for address, topics, _ in logs:
        bloom = _add_to_bloom(bloom, address)
        for topic in topics:
            bloom = _add_to_bloom(bloom, topic.to_bytes(32, "big"))
    return bloom


def make_receipt(
    transaction: SignedTransactionAPI,
    status: bytes,
    cumulative_gas: int,
    logs: Iterable[LogEntry],
    bloom: int,
) -> ReceiptAPI:
    """What ``transaction.make_receipt`` builds (typed when the transaction is), with the bloom given."""
    inner = Receipt(status, cumulative_gas, [Log(*entry) for entry in logs], bloom)
    type_id = getattr(transaction, "type_id", None)
    if type_id is None:
        return inner
    return transaction.receipt_builder.typed_receipt_class(type_id, inner)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class BlockReceipts:
    """A block's receipts as the import path needs them: encoded, and the block's logs in order."""

    encoded: tuple[bytes, ...]
    # Every log of the block, in order (EIP-6110 deposit requests are read from them).
    logs: tuple[LogEntry, ...]

    @classmethod
    def of(cls, receipts: Sequence[ReceiptAPI]) -> BlockReceipts:
        """From py-evm receipt objects (the forks before Amsterdam build those)."""
        return cls(
            tuple(map(encode_receipt, receipts)),
            tuple((log.address, tuple(log.topics), log.data) for receipt in receipts for log in receipt.logs),
        )

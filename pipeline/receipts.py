"""A block's receipts encoded once, directly, for the receipts root and the store.

py-evm encodes a receipt through pyrlp's sedes (serialize every field, infer
and validate, then encode): profiled on the bench chain, the receipts root of a
200-transaction block was about 8% of the executor's time, all of it after
the last transaction (on the critical path of both import paths). A receipt's
shape is fixed (EIP-2718 type byte, then ``[status, cumulative gas, bloom,
[[address, [topic...], data]...]]``), so it is written here byte for byte,
about five times faster. From Amsterdam on, a block's receipts are encoded
straight from each transaction's outcome (:func:`encode_receipt_fields`): no
py-evm receipt or log object is built on the way (about 35 us a receipt), and
:attr:`BlockExecution.receipts` decodes them only for the callers that want
objects. ``tests/block_pipeline/test_receipts.py`` checks the bytes against
py-evm's ``receipt.encode()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from eth.abc import ReceiptAPI

from bal.rlp_items import rlp_list, rlp_string

# A log as execution hands it over: (address, topics as 32-byte integers, data).
LogEntry = tuple[bytes, tuple[int, ...], bytes]

BLOOM_BYTES = 256
TOPIC_BYTES = 32


def _topic(topic: int) -> bytes:
    # py-evm's topics are 32-byte big-endian integers (sedes uint32, fixed length).
    return rlp_string(topic.to_bytes(TOPIC_BYTES, "big"))


def encode_receipt_fields(
    type_id: int | None,
    status: bytes,
    cumulative_gas: int,
    bloom: int,
    logs: Iterable[tuple[bytes, Sequence[int], bytes]],
) -> bytes:
    """The encoding of the receipt with these fields: the type byte of a typed receipt, then its RLP."""
    encoded_logs = rlp_list(
        rlp_list((rlp_string(address), rlp_list(map(_topic, topics)), rlp_string(data)))
        for address, topics, data in logs
    )
    body = rlp_list(
        (
            rlp_string(status),
            rlp_string(cumulative_gas.to_bytes((cumulative_gas.bit_length() + 7) // 8, "big")),
            rlp_string(bloom.to_bytes(BLOOM_BYTES, "big")),
            encoded_logs,
        )
    )
    return body if type_id is None else bytes((type_id,)) + body


def encode_receipt(receipt: ReceiptAPI) -> bytes:
    """``receipt.encode()``, from the receipt's fields."""
    return encode_receipt_fields(
        getattr(receipt, "type_id", None),
        receipt.state_root,
        receipt.gas_used,
        receipt.bloom,
        ((log.address, log.topics, log.data) for log in receipt.logs),
    )

"""A block's receipts encoded once, directly, for the receipts root and the store.

py-evm encodes a receipt through pyrlp's sedes (serialize every field, infer
and validate, then encode): profiled on the bench chain, the receipts root of a
200-transaction block was about 8% of the executor's time, all of it after
the last transaction (on the critical path of both import paths). A receipt's
shape is fixed (EIP-2718 type byte, then ``[status, cumulative gas, bloom,
[[address, [topic...], data]...]]``), so it is written here byte for byte,
about five times faster, and :attr:`BlockExecution.encoded_receipts` keeps
the result for the store. ``tests/block_pipeline/test_receipts.py`` checks
the bytes against py-evm's ``receipt.encode()``.
"""

from __future__ import annotations

from collections.abc import Iterable

from eth.abc import ReceiptAPI
from rlp.codec import length_prefix

STRING_OFFSET = 0x80
LIST_OFFSET = 0xC0
BLOOM_BYTES = 256
TOPIC_BYTES = 32


def _string(value: bytes) -> bytes:
    """RLP of a byte string."""
    if len(value) == 1 and value[0] < STRING_OFFSET:
        return value
    prefix: bytes = length_prefix(len(value), STRING_OFFSET)
    return prefix + value


def _list(encoded_items: Iterable[bytes]) -> bytes:
    """RLP of a list whose items are already encoded."""
    payload = b"".join(encoded_items)
    prefix: bytes = length_prefix(len(payload), LIST_OFFSET)
    return prefix + payload


def _topic(topic: int) -> bytes:
    # py-evm's topics are 32-byte big-endian integers (sedes uint32, fixed length).
    return _string(topic.to_bytes(TOPIC_BYTES, "big"))


def encode_receipt(receipt: ReceiptAPI) -> bytes:
    """``receipt.encode()``: the type byte of a typed receipt, then the RLP of its fields."""
    gas = receipt.gas_used
    logs = _list(
        _list((_string(log.address), _list(map(_topic, log.topics)), _string(log.data)))
        for log in receipt.logs
    )
    body = _list(
        (
            _string(receipt.state_root),
            _string(gas.to_bytes((gas.bit_length() + 7) // 8, "big")),
            _string(receipt.bloom.to_bytes(BLOOM_BYTES, "big")),
            logs,
        )
    )
    type_id = getattr(receipt, "type_id", None)
    return body if type_id is None else bytes((type_id,)) + body

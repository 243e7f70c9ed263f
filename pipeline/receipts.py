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

from eth.abc import ReceiptAPI

from bal.rlp_items import rlp_list, rlp_string

BLOOM_BYTES = 256
TOPIC_BYTES = 32


def _topic(topic: int) -> bytes:
    # py-evm's topics are 32-byte big-endian integers (sedes uint32, fixed length).
    return rlp_string(topic.to_bytes(TOPIC_BYTES, "big"))


def encode_receipt(receipt: ReceiptAPI) -> bytes:
    """``receipt.encode()``: the type byte of a typed receipt, then the RLP of its fields."""
    gas = receipt.gas_used
    logs = rlp_list(
        rlp_list((rlp_string(log.address), rlp_list(map(_topic, log.topics)), rlp_string(log.data)))
        for log in receipt.logs
    )
    body = rlp_list(
        (
            rlp_string(receipt.state_root),
            rlp_string(gas.to_bytes((gas.bit_length() + 7) // 8, "big")),
            rlp_string(receipt.bloom.to_bytes(BLOOM_BYTES, "big")),
            logs,
        )
    )
    type_id = getattr(receipt, "type_id", None)
    return body if type_id is None else bytes((type_id,)) + body

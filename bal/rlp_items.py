"""RLP written directly, item by item, for the fixed shapes balrex encodes on its hot paths.

pyrlp's ``rlp.encode`` infers a sedes for every value, which made a
200-transaction BAL take 26 ms to encode, a block's receipts about 20 ms and a
large genesis' flat-state changes seconds. BALs, receipts and flat-state
changes have fixed shapes, so their encoders build the bytes from these three
pieces. It lives in ``bal``, the lowest layer, so that ``storage`` and
``pipeline`` can use it too.
"""

from __future__ import annotations

from collections.abc import Iterable

from rlp.codec import length_prefix

STRING_OFFSET = 0x80
LIST_OFFSET = 0xC0


def rlp_string(value: bytes) -> bytes:
    """RLP of a byte string."""
    if len(value) == 1 and value[0] < STRING_OFFSET:
        return value
    prefix: bytes = length_prefix(len(value), STRING_OFFSET)  # pyrlp is untyped
    return prefix + value


def rlp_int(value: int) -> bytes:
    """RLP of a non-negative integer (big-endian, no leading zeros; 0 is the empty string)."""
    if value == 0:
        return b"\x80"
    if value < STRING_OFFSET:
        return bytes((value,))
    return rlp_string(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def rlp_list(encoded_items: Iterable[bytes]) -> bytes:
    """RLP of a list whose items are already encoded."""
    payload = b"".join(encoded_items)
    prefix: bytes = length_prefix(len(payload), LIST_OFFSET)
    return prefix + payload

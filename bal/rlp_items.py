"""RLP written and read directly, for the fixed shapes balrex encodes and decodes on its hot paths.

pyrlp's ``rlp.encode`` infers a sedes for every value, which made a
200-transaction BAL take 26 ms to encode, a block's receipts about 20 ms and a
large genesis' flat-state changes seconds. BALs, receipts and flat-state
changes have fixed shapes, so their encoders build the bytes from these three
pieces. :func:`read_rlp` is the matching reader: one strict, iterative pass
that turns the bytes into nested lists of ``bytes`` for the shape-checking
decoders (``decode_bal``, ``FlatChanges.decode``). It lives in ``bal``, the
lowest layer, so that ``storage`` and ``pipeline`` can use it too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

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


# --- reading ----------------------------------------------------------------------

# pyrlp's ``rlp.decode(strict=True)`` checks the same rules but recurses once per
# nested list and builds each item's RLP alongside it: ~6,000 calls of its
# ``consume_payload`` for a 200-transaction BAL. This reader is one loop.

SHORT_STRING_LIMIT = 0xB8  # first byte of the long string form (payload >= 56 bytes)
SHORT_LIST_LIMIT = 0xF8  # first byte of the long list form
LONG_FORM_MIN = 56

# Far deeper than any Ethereum structure (a BAL is 6 lists deep), and not so deep
# that a caller's recursive ==, repr or pickle of the result overflows Python's
# default recursion limit. pyrlp recursed as deep as the interpreter's limit let it
# (1,000 by default, 12,288 in the node, 100,000 once py_ecc is imported), so input
# nested deeper than this but within that limit, which pyrlp read, is refused here.
MAX_DEPTH = 1024

RlpItem: TypeAlias = bytes | list["RlpItem"]

# Each single byte below 0x80 is its own encoding: one shared bytes object per value.
_SINGLE_BYTES = [bytes((value,)) for value in range(STRING_OFFSET)]


def list_payload(encoded: bytes) -> tuple[int, int] | None:
    """Start and end of the payload of the RLP list ``encoded``; None if it is not exactly one list.

    Only the list's own prefix is read, not its items: for code that slices an
    already checked encoding (a transaction's signed fields, a stored block body).
    """
    prefix = encoded[0] if encoded else 0
    if prefix < LIST_OFFSET:
        return None
    if prefix < SHORT_LIST_LIMIT:
        start = 1
        length = prefix - LIST_OFFSET
    else:
        start = 1 + prefix - SHORT_LIST_LIMIT + 1
        length = int.from_bytes(encoded[1:start], "big")
    return (start, start + length) if start + length == len(encoded) else None


def item_starts(encoded: bytes, start: int, end: int) -> list[int]:
    """The offset of each item of the list payload ``encoded[start:end]``, which was strictly read before.

    Only each item's prefix is read: for slicing items out of an encoding
    (a transaction's signed fields, a block's header and body) instead of
    encoding them again.
    """
    starts = []
    position = start
    while position < end:
        starts.append(position)
        prefix = encoded[position]
        if prefix < STRING_OFFSET:
            position += 1
        elif prefix < SHORT_STRING_LIMIT:
            position += 1 + prefix - STRING_OFFSET
        elif prefix < LIST_OFFSET:
            size = prefix - SHORT_STRING_LIMIT + 1
            position += 1 + size + int.from_bytes(encoded[position + 1 : position + 1 + size], "big")
        elif prefix < SHORT_LIST_LIMIT:
            position += 1 + prefix - LIST_OFFSET
        else:
            size = prefix - SHORT_LIST_LIMIT + 1
            position += 1 + size + int.from_bytes(encoded[position + 1 : position + 1 + size], "big")
    return starts


class RlpDecodeError(ValueError):
    """The input is not exactly one RLP item in its canonical (pyrlp strict) encoding."""


def read_rlp(data: bytes, max_depth: int = MAX_DEPTH) -> RlpItem:
    """The item ``data`` encodes: ``bytes`` for a string, a list of items for a list.

    Strict as pyrlp's ``rlp.decode(data, strict=True)``: a single byte below
    0x80 has no prefix, the long forms only for payloads of 56 bytes or more
    with no leading zero byte in their length, every item inside its list and
    the whole input one item. Lists nested deeper than ``max_depth`` are
    refused. Raises :class:`RlpDecodeError` for anything else.
    """
    top_level = _read_payload(data, 0, len(data), max_depth)
    if len(top_level) != 1:
        raise RlpDecodeError(f"expected one RLP item, found {len(top_level)}")
    return top_level[0]


def _read_payload(data: bytes, position: int, limit: int, max_depth: int) -> list[RlpItem]:
    """The items in ``data[position:limit]``, read iteratively: open lists wait on a stack."""
    items: list[RlpItem] = []
    outer = items
    waiting: list[tuple[list[RlpItem], int]] = []  # enclosing lists and where they end
    single_bytes = _SINGLE_BYTES
    while True:
        while position < limit:
            prefix = data[position]
            if prefix < STRING_OFFSET:
                items.append(single_bytes[prefix])
                position += 1
            elif prefix < SHORT_STRING_LIMIT:
                start = position + 1
                position = start + prefix - STRING_OFFSET
                if position > limit:
                    raise RlpDecodeError(f"a string at byte {start - 1} runs past its end")
                if position == start + 1 and data[start] < STRING_OFFSET:
                    raise RlpDecodeError(f"the single byte at {start} has a length prefix")
                items.append(data[start:position])
            elif prefix < LIST_OFFSET:
                start, position = _long_form(data, position, prefix - SHORT_STRING_LIMIT + 1, limit)
                items.append(data[start:position])
            else:
                if prefix < SHORT_LIST_LIMIT:
                    start = position + 1
                    end = start + prefix - LIST_OFFSET
                    if end > limit:
                        raise RlpDecodeError(f"a list at byte {position} runs past its end")
                else:
                    start, end = _long_form(data, position, prefix - SHORT_LIST_LIMIT + 1, limit)
                if len(waiting) >= max_depth:
                    raise RlpDecodeError(f"lists nested deeper than {max_depth}")
                nested: list[RlpItem] = []
                items.append(nested)
                waiting.append((items, limit))
                items, limit, position = nested, end, start
        if not waiting:
            return outer
        items, limit = waiting.pop()


def _long_form(data: bytes, position: int, length_bytes: int, limit: int) -> tuple[int, int]:
    """Payload bounds of the long-form item at ``position`` whose length takes ``length_bytes``."""
    start = position + 1 + length_bytes
    if start > limit:
        raise RlpDecodeError(f"the length of the item at byte {position} runs past its end")
    if data[position + 1] == 0:
        raise RlpDecodeError(f"the length of the item at byte {position} has a leading zero byte")
    length = int.from_bytes(data[position + 1 : start], "big")
    if length < LONG_FORM_MIN:
        raise RlpDecodeError(f"the item at byte {position} uses the long form for {length} bytes")
    if start + length > limit:
        raise RlpDecodeError(f"the item at byte {position} runs past its end")
    return start, start + length

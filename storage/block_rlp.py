"""Splitting a block's RLP into the pieces the store keeps.

A block is ``[header, transactions, uncles, withdrawals, ...]``; its hash is
keccak256 of the header's RLP. The BAL is not part of the block RLP (only its
hash, in the header). :func:`join_block` puts the pieces back together.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_hash.auto import keccak

from bal.rlp_items import RlpDecodeError, item_starts, list_payload, read_rlp, rlp_list


class MalformedBlock(ValueError):
    """The bytes are not the RLP of a block."""


@dataclass(frozen=True, slots=True)
class EncodedBlock:
    block_hash: bytes
    number: int
    header_rlp: bytes
    body_rlp: bytes
    #: each transaction as the transactions trie and its hash take it: a typed transaction's
    #: ``type || payload`` string as the block holds it, a legacy one's RLP list
    transaction_encodings: tuple[bytes, ...]

    @property
    def transaction_count(self) -> int:
        return len(self.transaction_encodings)

    @property
    def transaction_hashes(self) -> tuple[bytes, ...]:
        return tuple(keccak(encoding) for encoding in self.transaction_encodings)


def split_block(raw: bytes) -> EncodedBlock:
    """The header, body and transactions of the block ``raw``, sliced out of it, not encoded again."""
    try:
        items = read_rlp(raw)
    except RlpDecodeError as exc:
        raise MalformedBlock(f"block RLP does not decode: {exc}") from None
    if not isinstance(items, list) or len(items) < 3 or not isinstance(items[0], list):
        raise MalformedBlock("block RLP is not [header, transactions, uncles, ...]")
    header = items[0]
    if len(header) < 15 or not isinstance(header[8], bytes):
        raise MalformedBlock(f"header has {len(header)} fields")
    transactions = items[1]
    if not isinstance(transactions, list):
        raise MalformedBlock("the block's transactions are not a list")
    payload = list_payload(raw)
    assert payload is not None  # read_rlp found one list
    header_start, body_start, transactions_end = item_starts(raw, *payload)[:3]
    header_rlp = raw[header_start:body_start]
    listed = list_payload(raw[body_start:transactions_end])
    assert listed is not None  # read_rlp found the transactions' list here
    starts = item_starts(raw, body_start + listed[0], transactions_end)
    ends = [*starts[1:], transactions_end] if starts else []
    bounds = zip(starts, ends, strict=True)
    return EncodedBlock(
        block_hash=keccak(header_rlp),
        number=int.from_bytes(header[8], "big"),
        header_rlp=header_rlp,
        body_rlp=rlp_list((raw[body_start : payload[1]],)),
        # A typed transaction is the string the block holds, a legacy one its list's encoding.
        transaction_encodings=tuple(
            transaction if isinstance(transaction, bytes) else raw[start:end]
            for transaction, (start, end) in zip(transactions, bounds, strict=True)
        ),
    )


def join_block(header_rlp: bytes, body_rlp: bytes) -> bytes:
    """The block's RLP from the header and body RLP the store keeps (:func:`split_block` undone).

    The body is the list ``[transactions, uncles, ...]``: its encoded items
    follow the header in the block's list unchanged, so nothing is decoded.
    """
    payload = list_payload(body_rlp)
    if payload is None:
        raise MalformedBlock("a block body is one RLP list")
    return rlp_list((header_rlp, body_rlp[payload[0] :]))

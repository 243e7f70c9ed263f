"""Splitting a block's RLP into the pieces the store keeps.

A block is ``[header, transactions, uncles, withdrawals, ...]``; its hash is
keccak256 of the header's RLP. The BAL is not part of the block RLP (only its
hash, in the header). :func:`join_block` puts the pieces back together.
"""

from __future__ import annotations

from dataclasses import dataclass

import rlp
from eth_hash.auto import keccak
from rlp.exceptions import DecodingError

from bal.rlp_items import list_payload, rlp_list


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
    try:
        items = rlp.decode(raw, strict=True)
    except DecodingError as exc:
        raise MalformedBlock(f"block RLP does not decode: {exc}") from None
    if not isinstance(items, list) or len(items) < 3 or not isinstance(items[0], list):
        raise MalformedBlock("block RLP is not [header, transactions, uncles, ...]")
    header = items[0]
    if len(header) < 15 or not isinstance(header[8], bytes):
        raise MalformedBlock(f"header has {len(header)} fields")
    if not isinstance(items[1], list):
        raise MalformedBlock("the block's transactions are not a list")
    header_rlp = rlp.encode(header)
    return EncodedBlock(
        block_hash=keccak(header_rlp),
        number=int.from_bytes(header[8], "big"),
        header_rlp=header_rlp,
        body_rlp=rlp.encode(items[1:]),
        transaction_encodings=tuple(
            transaction if isinstance(transaction, bytes) else rlp.encode(transaction)
            for transaction in items[1]
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

"""Amsterdam's block header (23 fields) and block, and a decoder for every fork's header.

EIP-7928 adds ``block_access_list_hash`` (index 21) and EIP-7843 adds
``slot_number`` (index 22) after Prague's ``requests_hash``. The block body is
unchanged: ``[header, transactions, ommers, withdrawals]``.
"""

from __future__ import annotations

import rlp
from eth.abc import BlockHeaderAPI
from eth.constants import (
    BLANK_ROOT_HASH,
    EMPTY_SHA256,
    EMPTY_UNCLE_HASH,
    GENESIS_NONCE,
    ZERO_ADDRESS,
    ZERO_HASH32,
)
from eth.rlp.sedes import address, hash32, trie_root, uint256
from eth.vm.forks.prague.blocks import PragueBackwardsHeader, PragueBlock, PragueBlockHeader
from eth.vm.forks.prague.transactions import PragueTransactionBuilder
from eth.vm.forks.shanghai.withdrawals import Withdrawal
from eth_hash.auto import keccak
from rlp.sedes import Binary, CountableList, big_endian_int, binary

# keccak256(rlp([])): the hash of an empty block access list.
EMPTY_BAL_HASH = keccak(rlp.encode([]))
AMSTERDAM_HEADER_FIELDS = 23


_PRAGUE_FIELDS = [
    ("parent_hash", hash32),
    ("uncles_hash", hash32),
    ("coinbase", address),
    ("state_root", trie_root),
    ("transaction_root", trie_root),
    ("receipt_root", trie_root),
    ("bloom", uint256),
    ("difficulty", big_endian_int),
    ("block_number", big_endian_int),
    ("gas_limit", big_endian_int),
    ("gas_used", big_endian_int),
    ("timestamp", big_endian_int),
    ("extra_data", binary),
    ("mix_hash", binary),
    ("nonce", Binary(8, allow_empty=True)),
    ("base_fee_per_gas", big_endian_int),
    ("withdrawals_root", trie_root),
    ("blob_gas_used", big_endian_int),
    ("excess_blob_gas", big_endian_int),
    ("parent_beacon_block_root", hash32),
    ("requests_hash", hash32),
]


class AmsterdamBlockHeader(PragueBlockHeader):
    fields = [
        *_PRAGUE_FIELDS,
        ("block_access_list_hash", hash32),
        ("slot_number", big_endian_int),
    ]

    def __init__(
        self,
        difficulty: int,
        block_number: int,
        gas_limit: int,
        timestamp: int,
        coinbase: bytes = ZERO_ADDRESS,
        parent_hash: bytes = ZERO_HASH32,
        uncles_hash: bytes = EMPTY_UNCLE_HASH,
        state_root: bytes = BLANK_ROOT_HASH,
        transaction_root: bytes = BLANK_ROOT_HASH,
        receipt_root: bytes = BLANK_ROOT_HASH,
        bloom: int = 0,
        gas_used: int = 0,
        extra_data: bytes = b"",
        mix_hash: bytes = ZERO_HASH32,
        nonce: bytes = GENESIS_NONCE,
        base_fee_per_gas: int = 0,
        withdrawals_root: bytes = BLANK_ROOT_HASH,
        blob_gas_used: int = 0,
        excess_blob_gas: int = 0,
        parent_beacon_block_root: bytes = ZERO_HASH32,
        requests_hash: bytes = EMPTY_SHA256,
        block_access_list_hash: bytes = EMPTY_BAL_HASH,
        slot_number: int = 0,
    ) -> None:
        rlp.Serializable.__init__(
            self,
            parent_hash=parent_hash,
            uncles_hash=uncles_hash,
            coinbase=coinbase,
            state_root=state_root,
            transaction_root=transaction_root,
            receipt_root=receipt_root,
            bloom=bloom,
            difficulty=difficulty,
            block_number=block_number,
            gas_limit=gas_limit,
            gas_used=gas_used,
            timestamp=timestamp,
            extra_data=extra_data,
            mix_hash=mix_hash,
            nonce=nonce,
            base_fee_per_gas=base_fee_per_gas,
            withdrawals_root=withdrawals_root,
            blob_gas_used=blob_gas_used,
            excess_blob_gas=excess_blob_gas,
            parent_beacon_block_root=parent_beacon_block_root,
            requests_hash=requests_hash,
            block_access_list_hash=block_access_list_hash,
            slot_number=slot_number,
        )

    def __str__(self) -> str:
        return f"<AmsterdamBlockHeader #{self.block_number} {self.hash.hex()[:8]}>"


class AmsterdamBackwardsHeader(PragueBackwardsHeader):
    """Decodes Amsterdam headers and every earlier kind (by field count)."""

    @classmethod
    def deserialize(cls, encoded: list[bytes]) -> BlockHeaderAPI:
        if len(encoded) == AMSTERDAM_HEADER_FIELDS:
            return AmsterdamBlockHeader.deserialize(encoded)
        return PragueBackwardsHeader.deserialize(encoded)


class AmsterdamBlock(PragueBlock):
    fields = [
        ("header", AmsterdamBlockHeader),
        ("transactions", CountableList(PragueTransactionBuilder)),
        ("uncles", CountableList(None, max_length=0)),
        ("withdrawals", CountableList(Withdrawal)),
    ]

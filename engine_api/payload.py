"""An execution payload (Engine API JSON) to the block it stands for, and back to bodies.

The header is rebuilt from the payload's fields plus what the payload does
not carry: the empty uncles hash, difficulty 0, nonce 0, the transactions and
withdrawals roots (tries over the decoded list), the parent beacon block root
(a newPayload param) and, from Prague, the requests hash of the execution
requests (EIP-7685) and, from Amsterdam, the block access list hash
(keccak256 of the payload's ``blockAccessList`` bytes, EIP-7928) and the slot
number (EIP-7843). Its hash must be the payload's ``blockHash``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import rlp
from eth.abc import BlockAPI, SignedTransactionAPI
from eth.constants import EMPTY_UNCLE_HASH
from eth.exceptions import UnrecognizedTransactionType
from eth.vm.forks.cancun.constants import BLOB_TX_TYPE
from eth.vm.forks.shanghai.withdrawals import Withdrawal
from eth_hash.auto import keccak
from eth_utils import big_endian_to_int

from client.block_decoding import decode_transaction
from client.requests import requests_hash
from merkle import ordered_trie_root
from pipeline import BlockRejected, Rule

from .models import ExecutionPayloadV3, ExecutionPayloadV4, WithdrawalV1


@dataclass(frozen=True)
class BuiltBlock:
    block: BlockAPI
    block_hash: bytes
    rlp: bytes


def decode_transactions(block_class: type, raw: Sequence[bytes]) -> list[SignedTransactionAPI]:
    """The payload's transactions (``client.block_decoding``: py-evm's objects, a fraction of its time)."""
    builder = block_class.get_transaction_builder()  # type: ignore[attr-defined]
    transactions = []
    for index, tx in enumerate(raw):
        try:
            transactions.append(decode_transaction(builder, tx))
        except UnrecognizedTransactionType as exc:  # a type the fork does not have, as Blockchain.decode says
            raise BlockRejected(
                Rule.UNSUPPORTED_TRANSACTION_TYPE,
                f"transaction {index}: type {exc.args[0]} is not of this fork",
            ) from None
        except Exception as exc:  # py-evm raises several kinds for undecodable input
            raise BlockRejected(Rule.MALFORMED_TRANSACTION, f"transaction {index}: {exc}") from None
    return transactions


def build_block(
    payload: ExecutionPayloadV3,
    block_class: type,
    parent_beacon_block_root: bytes,
    execution_requests: Sequence[bytes] | None,
) -> BuiltBlock:
    """The block of ``payload`` for a fork's block class; its hash is computed, not yet compared."""
    header_class = dict(block_class._meta.fields)["header"]  # type: ignore[attr-defined]
    transactions = decode_transactions(block_class, payload.transactions)
    withdrawals = [Withdrawal(w.index, w.validator_index, w.address, w.amount) for w in payload.withdrawals]
    tx_root = ordered_trie_root(tx.encode() for tx in transactions)
    withdrawals_root = ordered_trie_root(w.encode() for w in withdrawals)
    fields: dict[str, Any] = dict(
        parent_hash=payload.parent_hash,
        uncles_hash=EMPTY_UNCLE_HASH,
        coinbase=payload.fee_recipient,
        state_root=payload.state_root,
        transaction_root=tx_root,
        receipt_root=payload.receipts_root,
        bloom=big_endian_to_int(payload.logs_bloom),
        difficulty=0,
        block_number=payload.block_number,
        gas_limit=payload.gas_limit,
        gas_used=payload.gas_used,
        timestamp=payload.timestamp,
        extra_data=payload.extra_data,
        mix_hash=payload.prev_randao,
        nonce=b"\x00" * 8,
        base_fee_per_gas=payload.base_fee_per_gas,
        withdrawals_root=withdrawals_root,
        blob_gas_used=payload.blob_gas_used,
        excess_blob_gas=payload.excess_blob_gas,
        parent_beacon_block_root=parent_beacon_block_root,
    )
    if execution_requests is not None:
        fields["requests_hash"] = requests_hash(execution_requests)
    if isinstance(payload, ExecutionPayloadV4):
        # The header commits to the BAL bytes exactly as given: a BAL other than the
        # one the block was sealed with changes the hash, and the blockHash check fails.
        fields["block_access_list_hash"] = keccak(payload.block_access_list)
        fields["slot_number"] = payload.slot_number
    try:
        header = header_class(**fields)
    except Exception as exc:  # rlp sedes refuse out-of-range values (e.g. a 64-bit field above 2**64)
        raise BlockRejected(Rule.MALFORMED_HEADER, str(exc)) from None
    block = block_class(header, transactions=transactions, uncles=[], withdrawals=withdrawals)
    return BuiltBlock(block, header.hash, rlp.encode(block))


def blob_versioned_hashes(transactions: Sequence[SignedTransactionAPI]) -> list[bytes]:
    """Every blob versioned hash of the block's transactions, in order."""
    return [h for tx in transactions if tx.type_id == BLOB_TX_TYPE for h in tx.blob_versioned_hashes]


def body_from_rlp(body_rlp: bytes) -> tuple[list[bytes], list[WithdrawalV1] | None]:
    """A stored body ``[transactions, uncles, withdrawals?]`` as raw transactions and withdrawals."""
    items = rlp.decode(body_rlp)
    transactions = [tx if isinstance(tx, bytes) else rlp.encode(tx) for tx in items[0]]
    withdrawals = None
    if len(items) > 2:
        withdrawals = [
            WithdrawalV1(
                index=big_endian_to_int(w[0]),
                validator_index=big_endian_to_int(w[1]),
                address=w[2],
                amount=big_endian_to_int(w[3]),
            )
            for w in items[2]
        ]
    return transactions, withdrawals

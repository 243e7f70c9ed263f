"""Transactions and receipts as the ``eth_`` namespace answers them (execution-apis' schemas).

Fields a transaction type lacks are left out (an access list for a legacy
transaction, blob fields for a non-blob one), as geth does.
"""

from __future__ import annotations

from typing import Any

from eth._utils.address import generate_contract_address
from eth.abc import LogAPI, ReceiptAPI, SignedTransactionAPI
from eth.constants import CREATE_CONTRACT_ADDRESS
from eth.vm.forks.cancun.constants import BLOB_TX_TYPE, GAS_PER_BLOB

from .eth_context import StoredBlockView

ACCESS_LIST_TYPE, DYNAMIC_FEE_TYPE, SET_CODE_TYPE = 1, 2, 4


def _hex(raw: bytes) -> str:
    return "0x" + bytes(raw).hex()


def _list_field(transaction: SignedTransactionAPI, name: str) -> Any:
    """A list field older types lack (py-evm raises NotImplementedError for them)."""
    try:
        return getattr(transaction, name, None)
    except NotImplementedError:
        return None


def effective_gas_price(transaction: SignedTransactionAPI, base_fee: int | None) -> int:
    if base_fee is None or transaction.type_id in (None, ACCESS_LIST_TYPE):
        return int(transaction.gas_price)
    return int(min(transaction.max_fee_per_gas, base_fee + transaction.max_priority_fee_per_gas))


def transaction_json(
    transaction: SignedTransactionAPI,
    block: StoredBlockView | None = None,
    index: int | None = None,
) -> dict[str, Any]:
    """``eth_getTransactionByHash``'s object; ``block=None``: pending (block fields null)."""
    type_id = transaction.type_id or 0
    base_fee = getattr(block.header, "base_fee_per_gas", None) if block is not None else None
    answer: dict[str, Any] = {
        "blockHash": _hex(block.block_hash) if block is not None else None,
        "blockNumber": hex(block.header.block_number) if block is not None else None,
        "transactionIndex": hex(index) if index is not None else None,
        "hash": _hex(transaction.hash),
        "type": hex(type_id),
        "from": _hex(transaction.sender),
        "to": _hex(transaction.to) if transaction.to != CREATE_CONTRACT_ADDRESS else None,
        "nonce": hex(transaction.nonce),
        "gas": hex(transaction.gas),
        "value": hex(transaction.value),
        "input": _hex(transaction.data),
        "r": hex(transaction.r),
        "s": hex(transaction.s),
    }
    if type_id == 0:
        answer["gasPrice"] = hex(transaction.gas_price)
        answer["v"] = hex(transaction.v)
        if transaction.chain_id is not None:
            answer["chainId"] = hex(transaction.chain_id)
        return answer
    answer["chainId"] = hex(transaction.chain_id)
    answer["v"] = answer["yParity"] = hex(transaction.y_parity)
    answer["accessList"] = [
        {"address": _hex(address), "storageKeys": ["0x" + slot.to_bytes(32, "big").hex() for slot in slots]}
        for address, slots in transaction.access_list
    ]
    if type_id == ACCESS_LIST_TYPE:
        answer["gasPrice"] = hex(transaction.gas_price)
        return answer
    answer["maxFeePerGas"] = hex(transaction.max_fee_per_gas)
    answer["maxPriorityFeePerGas"] = hex(transaction.max_priority_fee_per_gas)
    # Mined: what was paid; pending: the fee cap (geth's convention).
    answer["gasPrice"] = hex(
        effective_gas_price(transaction, base_fee) if base_fee is not None else transaction.max_fee_per_gas
    )
    if type_id == BLOB_TX_TYPE:
        answer["maxFeePerBlobGas"] = hex(transaction.max_fee_per_blob_gas)
        answer["blobVersionedHashes"] = [_hex(h) for h in transaction.blob_versioned_hashes]
    authorizations = _list_field(transaction, "authorization_list")
    if type_id == SET_CODE_TYPE and authorizations is not None:
        answer["authorizationList"] = [
            {
                "chainId": hex(auth.chain_id),
                "address": _hex(auth.address),
                "nonce": hex(auth.nonce),
                "yParity": hex(auth.y_parity),
                "r": hex(auth.r),
                "s": hex(auth.s),
            }
            for auth in authorizations
        ]
    return answer


def receipt_json(
    block: StoredBlockView,
    index: int,
    first_log_index: int,
    blob_base_fee: int | None,
) -> dict[str, Any]:
    """``eth_getTransactionReceipt``'s object for transaction ``index`` of a stored block with receipts."""
    assert block.receipts is not None, "the caller checks the block's receipts are stored"
    transaction = block.transactions[index]
    receipt = block.receipts[index]
    previous = block.receipts[index - 1].gas_used if index else 0
    header = block.header
    base_fee = getattr(header, "base_fee_per_gas", None)
    contract = None
    if transaction.to == CREATE_CONTRACT_ADDRESS:
        contract = _hex(generate_contract_address(transaction.sender, transaction.nonce))
    answer: dict[str, Any] = {
        "blockHash": _hex(block.block_hash),
        "blockNumber": hex(header.block_number),
        "transactionHash": _hex(transaction.hash),
        "transactionIndex": hex(index),
        "type": hex(transaction.type_id or 0),
        "from": _hex(transaction.sender),
        "to": _hex(transaction.to) if transaction.to != CREATE_CONTRACT_ADDRESS else None,
        "contractAddress": contract,
        "cumulativeGasUsed": hex(receipt.gas_used),
        "gasUsed": hex(receipt.gas_used - previous),
        "effectiveGasPrice": hex(effective_gas_price(transaction, base_fee)),
        "status": hex(int.from_bytes(receipt.state_root, "big")) if len(receipt.state_root) <= 1 else None,
        "logsBloom": "0x" + receipt.bloom.to_bytes(256, "big").hex(),
        "logs": logs_json(block, index, receipt, first_log_index),
    }
    if transaction.type_id == BLOB_TX_TYPE:
        answer["blobGasUsed"] = hex(GAS_PER_BLOB * len(transaction.blob_versioned_hashes))
        if blob_base_fee is not None:
            answer["blobGasPrice"] = hex(blob_base_fee)
    return answer


def logs_json(
    block: StoredBlockView, index: int, receipt: ReceiptAPI, first_log_index: int
) -> list[dict[str, Any]]:
    return [
        log_json(block, index, log, first_log_index + position) for position, log in enumerate(receipt.logs)
    ]


def log_json(block: StoredBlockView, index: int, log: LogAPI, log_index: int) -> dict[str, Any]:
    """One log of transaction ``index`` of a canonical block; ``log_index`` counts block-wide."""
    return {
        "address": _hex(log.address),
        "topics": ["0x" + topic.to_bytes(32, "big").hex() for topic in log.topics],
        "data": _hex(log.data),
        "blockNumber": hex(block.header.block_number),
        "blockHash": _hex(block.block_hash),
        "blockTimestamp": hex(block.header.timestamp),
        "transactionHash": _hex(block.transactions[index].hash),
        "transactionIndex": hex(index),
        "logIndex": hex(log_index),
        "removed": False,
    }


def first_log_indices(block: StoredBlockView) -> list[int]:
    """The block-wide index of each transaction's first log."""
    assert block.receipts is not None
    indices, total = [], 0
    for receipt in block.receipts:
        indices.append(total)
        total += len(receipt.logs)
    return indices

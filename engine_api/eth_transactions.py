"""Transactions: ``eth_sendRawTransaction`` into the pool; lookups by hash, receipts, a block's receipts.

Lookups by hash read the pool first (a pending transaction has no block),
then the store's transaction index (``Space.TX_INDEX``, written with each
block); a transaction whose indexed block is not canonical is not found.
A blob transaction's sidecar is checked in a worker thread (the first check
loads the KZG trusted setup, seconds).
"""

from __future__ import annotations

from typing import Any

import trio

from client.blob_sidecar import (
    MalformedSidecar,
    SidecarMismatch,
    SidecarProofInvalid,
    verify_sidecar,
)
from client.chain_config import Fork
from client.forks import FORK_VMS
from client.head_state import blob_base_fee_of
from client.txpool import TxRejected, UndecodableTransaction, decode_incoming

from .errors import INVALID_PARAMS, RpcError
from .eth_context import SERVER_ERROR, BlockParam, EthContext, StoredBlockView
from .eth_objects import first_log_indices, receipt_json, transaction_json
from .jsonrpc import Dispatcher, Param
from .models import Data, Hash32

# Blob transactions carry cell proofs (EIP-7594, wrapper version 1) from Osaka on.
CELL_PROOF_FORKS = (Fork.OSAKA, Fork.BPO1, Fork.BPO2, Fork.AMSTERDAM)


class EthTransactionMethods:
    def __init__(self, eth: EthContext) -> None:
        self.eth = eth

    def register(self, dispatcher: Dispatcher) -> None:
        dispatcher.register("eth_sendRawTransaction", self.send_raw_transaction, Param("transaction", Data))
        dispatcher.register("eth_getTransactionByHash", self.transaction_by_hash, Param("hash", Hash32))
        dispatcher.register("eth_getTransactionReceipt", self.transaction_receipt, Param("hash", Hash32))
        dispatcher.register("eth_getBlockReceipts", self.block_receipts, Param("block", BlockParam))

    async def send_raw_transaction(self, raw: bytes) -> str:
        view = self.eth.synced_view()
        try:
            incoming = decode_incoming(raw, view)
        except UndecodableTransaction as exc:
            raise RpcError(INVALID_PARAMS, f"invalid params: transaction: {exc}") from None
        if incoming.sidecar is not None:
            hashes = list(incoming.transaction.blob_versioned_hashes)
            cell_proofs = view.fork in CELL_PROOF_FORKS
            try:
                await trio.to_thread.run_sync(verify_sidecar, incoming.sidecar, hashes, cell_proofs)
            except (MalformedSidecar, SidecarMismatch, SidecarProofInvalid) as exc:
                raise RpcError(SERVER_ERROR, f"invalid blob sidecar: {exc}") from None
            view = self.eth.synced_view()  # the head may have moved while the proofs were checked
        try:
            pooled = self.eth.pool.add(incoming, view)
        except TxRejected as exc:
            raise RpcError(SERVER_ERROR, str(exc)) from None
        return "0x" + pooled.hash.hex()

    async def transaction_by_hash(self, tx_hash: bytes) -> dict[str, Any] | None:
        self.eth.synced_view()
        pooled = self.eth.pool.get(tx_hash)
        if pooled is not None:
            return transaction_json(pooled.transaction)
        found = self._locate(tx_hash)
        if found is None:
            return None
        block, index = found
        return transaction_json(block.transactions[index], block, index)

    async def transaction_receipt(self, tx_hash: bytes) -> dict[str, Any] | None:
        found = self._locate(tx_hash)
        if found is None:
            return None
        block, index = found
        if block.receipts is None:
            return None
        return receipt_json(block, index, first_log_indices(block)[index], self._blob_base_fee(block))

    async def block_receipts(self, block_param: BlockParam) -> list[dict[str, Any]] | None:
        try:
            header = self.eth.resolve(block_param)
        except RpcError as exc:
            if exc.code == SERVER_ERROR:
                return None  # geth answers null for a block it does not have
            raise
        block = self.eth.stored_block(header.hash)
        if block is None or block.receipts is None:
            return None
        blob_fee = self._blob_base_fee(block)
        firsts = first_log_indices(block)
        return [
            receipt_json(block, index, firsts[index], blob_fee) for index in range(len(block.transactions))
        ]

    def _locate(self, tx_hash: bytes) -> tuple[StoredBlockView, int] | None:
        location = self.eth.engine.chain.transaction_location(tx_hash)
        if location is None or not self.eth.is_canonical(location[0]):
            return None
        block = self.eth.stored_block(location[0])
        return None if block is None else (block, location[1])

    def _blob_base_fee(self, block: StoredBlockView) -> int | None:
        if getattr(block.header, "excess_blob_gas", None) is None:
            return None
        config = self.eth.engine.blockchain.config
        fork = config.fork_at(block.header.timestamp)
        return blob_base_fee_of(FORK_VMS[fork].for_chain(config, fork), fork, block.header)

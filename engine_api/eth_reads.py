"""The ``eth_`` reads a consensus client uses on the Engine API port: chain id, head number, blocks.

Blocks are served with transaction hashes only (``full=false``); full
transaction objects are refused with a clear error until they are served.
"""

from __future__ import annotations

from typing import Any

import rlp
from eth_hash.auto import keccak

from client.chaindb import decode_header
from storage import FINALIZED, HEAD, SAFE

from .context import EngineContext
from .errors import INVALID_PARAMS, RpcError
from .jsonrpc import Dispatcher, Param
from .models import QUANTITY_RE, BlockV1, Hash32
from .payload import body_from_rlp


class EthReads:
    def __init__(self, context: EngineContext) -> None:
        self.context = context

    def register(self, dispatcher: Dispatcher) -> None:
        dispatcher.register("eth_chainId", self.chain_id)
        dispatcher.register("eth_blockNumber", self.block_number)
        dispatcher.register(
            "eth_getBlockByNumber", self.block_by_number, Param("block", str), Param("full", bool)
        )
        dispatcher.register(
            "eth_getBlockByHash", self.block_by_hash, Param("blockHash", Hash32), Param("full", bool)
        )

    async def chain_id(self) -> str:
        return hex(self.context.blockchain.config.chain_id)

    async def block_number(self) -> str:
        return hex(self.context.head_number())

    async def block_by_number(self, tag: str, full: bool) -> dict[str, Any] | None:
        _no_full(full)
        pointers = {"latest": HEAD, "safe": SAFE, "finalized": FINALIZED}
        if tag in pointers:
            block_hash = self.context.chain.pointer(pointers[tag])
        elif tag == "earliest":
            block_hash = self.context.chain.canonical_hash(0)
        elif tag == "pending":
            block_hash = self.context.chain.head_hash()
        else:
            try:
                number = _block_number(tag)
            except ValueError as exc:
                raise RpcError(INVALID_PARAMS, f"invalid params: block: {exc}") from None
            block_hash = self.context.chain.canonical_hash(number)
        return None if block_hash is None else self._block_json(block_hash)

    async def block_by_hash(self, block_hash: bytes, full: bool) -> dict[str, Any] | None:
        _no_full(full)
        return self._block_json(block_hash)

    def _block_json(self, block_hash: bytes) -> dict[str, Any] | None:
        header_rlp = self.context.chain.header_rlp(block_hash)
        body_rlp = self.context.chain.body_rlp(block_hash)
        if header_rlp is None or body_rlp is None:
            return None
        h = decode_header(header_rlp)
        transactions, withdrawals = body_from_rlp(body_rlp)
        size = len(rlp.encode([rlp.decode(header_rlp), *rlp.decode(body_rlp)]))
        return BlockV1(
            number=h.block_number,
            hash=block_hash,
            parent_hash=h.parent_hash,
            nonce=h.nonce,
            sha3_uncles=h.uncles_hash,
            logs_bloom=h.bloom.to_bytes(256, "big"),
            transactions_root=h.transaction_root,
            state_root=h.state_root,
            receipts_root=h.receipt_root,
            miner=h.coinbase,
            difficulty=h.difficulty,
            extra_data=h.extra_data,
            size=size,
            gas_limit=h.gas_limit,
            gas_used=h.gas_used,
            timestamp=h.timestamp,
            mix_hash=h.mix_hash,
            base_fee_per_gas=getattr(h, "base_fee_per_gas", None),
            withdrawals_root=getattr(h, "withdrawals_root", None),
            blob_gas_used=getattr(h, "blob_gas_used", None),
            excess_blob_gas=getattr(h, "excess_blob_gas", None),
            parent_beacon_block_root=getattr(h, "parent_beacon_block_root", None),
            requests_hash=getattr(h, "requests_hash", None),
            block_access_list_hash=getattr(h, "block_access_list_hash", None),
            slot_number=getattr(h, "slot_number", None),
            transactions=[keccak(tx) for tx in transactions],
            uncles=[],
            withdrawals=withdrawals,
        ).to_json(exclude_none=True)


def _block_number(text: str) -> int:
    if not QUANTITY_RE.fullmatch(text):
        raise ValueError(
            f"{text!r:.40} is neither a tag (latest, safe, finalized, earliest) nor a hex number"
        )
    return int(text, 16)


def _no_full(full: bool) -> None:
    if full:
        raise RpcError(
            INVALID_PARAMS, "invalid params: full transaction objects are not served yet (use false)"
        )

"""What the ``eth_`` families share: the Engine API context, the pool, blocks resolved and decoded.

The pool follows the head lazily: every call that reads or feeds it first
checks whether the head moved since the pool last looked
(:meth:`EthContext.synced_view`) and, if so, re-checks the pool against the
new head (:meth:`client.txpool.TxPool.on_new_head`). Fork choice itself knows
nothing of the pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import rlp
from eth.abc import BlockHeaderAPI, ReceiptAPI, SignedTransactionAPI

from bal.hex_text import hex_data
from client.chaindb import decode_header
from client.forks import FORK_VMS
from client.head_state import HeadView, head_view
from client.txpool import TxPool
from storage import FINALIZED, HEAD, SAFE

from .context import EngineContext
from .errors import INVALID_PARAMS, RpcError
from .models import QUANTITY_RE
from .payload import body_from_rlp

# geth's answer for a block it does not have (``eth_getBalance`` and the like on an unknown block).
SERVER_ERROR = -32000
# geth's --rpc.gascap: the most gas an eth_call or eth_estimateGas runs with.
DEFAULT_RPC_GAS_CAP = 50_000_000

BlockParam = str | dict[str, Any]


@dataclass(frozen=True)
class StoredBlockView:
    """One stored block decoded with its fork's classes: header, transactions, receipts (if stored)."""

    block_hash: bytes
    header: BlockHeaderAPI
    transactions: list[SignedTransactionAPI]
    receipts: list[ReceiptAPI] | None


@dataclass
class EthContext:
    engine: EngineContext
    pool: TxPool
    rpc_gas_cap: int = DEFAULT_RPC_GAS_CAP

    def synced_view(self) -> HeadView:
        """The head's view, with the pool re-checked first if the head moved since it last looked."""
        view = head_view(self.engine.blockchain)
        if self.pool.head_hash != view.head.hash:
            self.pool.on_new_head(view)
        return view

    # -- blocks ----------------------------------------------------------------------

    def resolve(self, block: BlockParam | None) -> BlockHeaderAPI:
        """The header a block parameter names: a tag, a hex number, or an EIP-1898 object.

        ``pending`` is the head (this node builds no pending block); a block
        the store does not hold is geth's ``-32000 header not found``.
        """
        chain = self.engine.chain
        block_hash: bytes | None
        if block is None or block in ("latest", "pending"):
            block_hash = chain.pointer(HEAD)
        elif block == "safe":
            block_hash = chain.pointer(SAFE)
        elif block == "finalized":
            block_hash = chain.pointer(FINALIZED)
        elif block == "earliest":
            block_hash = chain.canonical_hash(0)
        elif isinstance(block, str):
            block_hash = chain.canonical_hash(parse_quantity(block, "block"))
        elif isinstance(block, dict) and "blockHash" in block:
            block_hash = parse_hash(block["blockHash"], "blockHash")
            if block.get("requireCanonical") and not self.is_canonical(block_hash):
                raise RpcError(SERVER_ERROR, f"block 0x{block_hash.hex()} is not canonical")
        elif isinstance(block, dict) and "blockNumber" in block:
            return self.resolve(block["blockNumber"])
        else:
            raise RpcError(INVALID_PARAMS, "invalid params: block: a tag, a hex number or {blockHash}")
        header = self.engine.blockchain.header(block_hash) if block_hash is not None else None
        if header is None:
            raise RpcError(SERVER_ERROR, "header not found")
        return header

    def is_canonical(self, block_hash: bytes) -> bool:
        header = self.engine.blockchain.header(block_hash)
        return header is not None and self.engine.chain.canonical_hash(header.block_number) == block_hash

    def stored_block(self, block_hash: bytes) -> StoredBlockView | None:
        chain = self.engine.chain
        header_rlp, body_rlp = chain.header_rlp(block_hash), chain.body_rlp(block_hash)
        if header_rlp is None or body_rlp is None:
            return None
        header = decode_header(header_rlp)
        config = self.engine.blockchain.config
        fork = config.fork_at(header.timestamp)
        vm_class = FORK_VMS[fork].for_chain(config, fork)
        builder = vm_class.get_transaction_builder()
        raw_transactions, _ = body_from_rlp(body_rlp)
        transactions = [builder.decode(raw) for raw in raw_transactions]
        receipts_rlp = chain.receipts_rlp(block_hash)
        receipts = None
        if receipts_rlp is not None:
            receipt_builder = vm_class.get_receipt_builder()
            receipts = [receipt_builder.decode(raw) for raw in rlp.decode(receipts_rlp)]
        return StoredBlockView(block_hash, header, transactions, receipts)


def parse_quantity(text: Any, name: str) -> int:
    if not isinstance(text, str) or not QUANTITY_RE.fullmatch(text):
        raise RpcError(INVALID_PARAMS, f"invalid params: {name}: {str(text)[:40]!r} is not a hex quantity")
    return int(text, 16)


def parse_hash(text: Any, name: str) -> bytes:
    raw = hex_data(text)
    if raw is None or len(raw) != 32:
        raise RpcError(INVALID_PARAMS, f"invalid params: {name}: not a 32-byte hex hash")
    return raw

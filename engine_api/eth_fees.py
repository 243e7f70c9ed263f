"""Fees: ``eth_gasPrice``, ``eth_maxPriorityFeePerGas`` and ``eth_feeHistory`` from the stored blocks.

The suggested tip is geth's oracle, simplified: the lowest three effective
tips of each of the last 20 blocks, the 60th percentile of those, or 1 gwei
when the blocks hold no transactions; ``eth_gasPrice`` adds the next block's
base fee. ``eth_feeHistory`` follows execution-apis (at most 1024 blocks;
rewards weighted by each transaction's gas used, from the receipts).
"""

from __future__ import annotations

from typing import Any

from eth.abc import BlockHeaderAPI, SignedTransactionAPI
from eth.vm.forks.cancun.constants import GAS_PER_BLOB
from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas

from client.block_builder import next_excess_blob_gas
from client.forks import FORK_VMS
from client.head_state import blob_base_fee_of

from .errors import INVALID_PARAMS, RpcError
from .eth_context import BlockParam, EthContext, StoredBlockView, parse_quantity
from .jsonrpc import Dispatcher, Param

GWEI = 10**9
ORACLE_BLOCKS = 20
ORACLE_TIPS_PER_BLOCK = 3
ORACLE_PERCENTILE = 60
DEFAULT_TIP = GWEI
MAX_FEE_HISTORY_BLOCKS = 1024


def effective_tip(transaction: SignedTransactionAPI, base_fee: int) -> int:
    return int(min(transaction.max_priority_fee_per_gas, transaction.max_fee_per_gas - base_fee))


class EthFeeMethods:
    def __init__(self, eth: EthContext) -> None:
        self.eth = eth

    def register(self, dispatcher: Dispatcher) -> None:
        dispatcher.register("eth_gasPrice", self.gas_price)
        dispatcher.register("eth_maxPriorityFeePerGas", self.max_priority_fee)
        dispatcher.register(
            "eth_feeHistory",
            self.fee_history,
            Param("blockCount", str | int),
            Param("newestBlock", BlockParam),
            Param("rewardPercentiles", list[float] | None, required=False),
        )

    async def gas_price(self) -> str:
        view = self.eth.synced_view()
        return hex(view.base_fee + self._suggested_tip(view.head))

    async def max_priority_fee(self) -> str:
        return hex(self._suggested_tip(self.eth.synced_view().head))

    def _suggested_tip(self, head: BlockHeaderAPI) -> int:
        tips: list[int] = []
        for block in self._blocks_back(head, ORACLE_BLOCKS):
            base_fee = int(block.header.base_fee_per_gas)
            tips += sorted(effective_tip(tx, base_fee) for tx in block.transactions)[:ORACLE_TIPS_PER_BLOCK]
        if not tips:
            return DEFAULT_TIP
        tips.sort()
        return tips[(len(tips) - 1) * ORACLE_PERCENTILE // 100]

    def _blocks_back(self, newest: BlockHeaderAPI, count: int) -> list[StoredBlockView]:
        """Up to ``count`` blocks ending at ``newest``, oldest first."""
        blocks: list[StoredBlockView] = []
        block_hash: bytes | None = newest.hash
        while block_hash is not None and len(blocks) < count:
            block = self.eth.stored_block(block_hash)
            if block is None:
                break
            blocks.append(block)
            block_hash = block.header.parent_hash if block.header.block_number > 0 else None
        return blocks[::-1]

    async def fee_history(
        self, block_count: str | int, newest: BlockParam, percentiles: list[float] | None
    ) -> dict[str, Any]:
        count = block_count if isinstance(block_count, int) else parse_quantity(block_count, "blockCount")
        if not 1 <= count <= MAX_FEE_HISTORY_BLOCKS:
            raise RpcError(
                INVALID_PARAMS, f"invalid params: blockCount must be 1 to {MAX_FEE_HISTORY_BLOCKS}"
            )
        percentiles = percentiles or []
        if any(not 0 <= p <= 100 for p in percentiles) or percentiles != sorted(percentiles):
            raise RpcError(INVALID_PARAMS, "invalid params: rewardPercentiles must rise from 0 to 100")
        head = self.eth.resolve(newest)
        blocks = self._blocks_back(head, count)
        config = self.eth.engine.blockchain.config
        answer: dict[str, Any] = {
            "oldestBlock": hex(blocks[0].header.block_number),
            "baseFeePerGas": [hex(b.header.base_fee_per_gas) for b in blocks]
            + [hex(calculate_expected_base_fee_per_gas(head))],
            "gasUsedRatio": [b.header.gas_used / b.header.gas_limit for b in blocks],
            "baseFeePerBlobGas": [],
            "blobGasUsedRatio": [],
        }
        for block in blocks:
            fork = config.fork_at(block.header.timestamp)
            vm_class = FORK_VMS[fork].for_chain(config, fork)
            answer["baseFeePerBlobGas"].append(hex(blob_base_fee_of(vm_class, fork, block.header)))
            max_blob_gas = config.blob_params(fork).max * GAS_PER_BLOB
            answer["blobGasUsedRatio"].append(block.header.blob_gas_used / max_blob_gas)
        next_fork = config.fork_at(head.timestamp + 12)
        next_vm = FORK_VMS[next_fork].for_chain(config, next_fork)
        next_excess = next_excess_blob_gas(next_vm, next_fork, head)
        answer["baseFeePerBlobGas"].append(
            hex(blob_base_fee_of(next_vm, next_fork, head.copy(excess_blob_gas=next_excess)))
        )
        if percentiles:
            answer["reward"] = [[hex(r) for r in _rewards(block, percentiles)] for block in blocks]
        return answer


def _rewards(block: StoredBlockView, percentiles: list[float]) -> list[int]:
    """The effective tips at ``percentiles`` of the block's gas, transactions sorted by tip."""
    if not block.transactions or block.receipts is None:
        return [0] * len(percentiles)
    base_fee = int(block.header.base_fee_per_gas)
    used, previous = [], 0
    for receipt in block.receipts:
        used.append(receipt.gas_used - previous)
        previous = receipt.gas_used
    ranked = sorted(zip((effective_tip(tx, base_fee) for tx in block.transactions), used, strict=True))
    total = sum(used)
    rewards, index, cumulative = [], 0, ranked[0][1]
    for percentile in percentiles:
        threshold = total * percentile / 100
        while cumulative < threshold and index < len(ranked) - 1:
            index += 1
            cumulative += ranked[index][1]
        rewards.append(ranked[index][0])
    return rewards

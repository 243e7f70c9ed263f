"""``eth_getLogs``: the logs of canonical blocks that a filter selects, from the stored receipts.

A filter names either a block range (``fromBlock``/``toBlock``: hex numbers or
the tags ``latest``/``pending`` (the head: this node builds no pending
block), ``safe``, ``finalized``, ``earliest``; both default to ``latest``)
or one block by ``blockHash``, never both (-32602, as geth answers). Each
block's header bloom is checked before its receipts are read, so a block
that cannot hold a match costs one header read.

The work is bounded, with geth's and the large providers' conventions:
a range of more than ``max_block_range`` blocks is refused before any is
read (-32005 ``exceed maximum block range: N``), and a query stops as soon as
it has more than ``max_results`` logs (-32005 ``query returned more than N
results``): the caller narrows the range and asks again. A range reaching
past the head is -32602 ``block range extends beyond current head block``;
one whose start is after its end is ``invalid block range params`` (the
codes of execution-apis' tests for geth). The scan runs in a worker thread,
so the event loop keeps serving other calls meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import trio
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from .errors import INVALID_PARAMS, LIMIT_EXCEEDED, RpcError
from .eth_context import SERVER_ERROR, EthContext, StoredBlockView, parse_quantity
from .eth_objects import log_json
from .jsonrpc import Dispatcher, Param
from .log_filter import MAX_TOPIC_POSITIONS, LogFilter
from .models import Address, Hash32

# Defaults: 10,000 blocks and 10,000 logs per query (the limits public providers document).
DEFAULT_MAX_BLOCK_RANGE = 10_000
DEFAULT_MAX_RESULTS = 10_000
# The most addresses, and topics at one position, a filter may list (geth's maxAddresses/maxSubTopics).
MAX_FILTER_ALTERNATIVES = 1_000
_HEAD_TAGS = ("latest", "pending")


@dataclass(frozen=True)
class LogQueryLimits:
    max_block_range: int = DEFAULT_MAX_BLOCK_RANGE
    max_results: int = DEFAULT_MAX_RESULTS


class FilterParams(BaseModel):
    """execution-apis' ``Filter`` object as it comes over the wire (unknown fields ignored, as geth does)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)

    from_block: str | None = None
    to_block: str | None = None
    block_hash: Hash32 | None = None
    address: Address | list[Address] | None = None
    topics: list[Hash32 | list[Hash32] | None] | None = None

    def selection(self) -> LogFilter:
        """The address and topic selection, within the alternatives' bounds (-32602 beyond them)."""
        addresses = [self.address] if isinstance(self.address, bytes) else self.address
        if addresses is not None and len(addresses) > MAX_FILTER_ALTERNATIVES:
            raise RpcError(INVALID_PARAMS, f"exceed max addresses: more than {MAX_FILTER_ALTERNATIVES}")
        positions = [[topic] if isinstance(topic, bytes) else topic for topic in self.topics or ()]
        if len(positions) > MAX_TOPIC_POSITIONS:
            raise RpcError(INVALID_PARAMS, f"exceed max topics: more than {MAX_TOPIC_POSITIONS} positions")
        if any(position is not None and len(position) > MAX_FILTER_ALTERNATIVES for position in positions):
            raise RpcError(
                INVALID_PARAMS, f"exceed max topics: more than {MAX_FILTER_ALTERNATIVES} at one position"
            )
        return LogFilter.of(addresses, positions)


class EthLogMethods:
    def __init__(self, eth: EthContext, limits: LogQueryLimits = LogQueryLimits()) -> None:
        self.eth = eth
        self.limits = limits

    def register(self, dispatcher: Dispatcher) -> None:
        dispatcher.register("eth_getLogs", self.get_logs, Param("filter", FilterParams))

    async def get_logs(self, params: FilterParams) -> list[dict[str, Any]]:
        selection = params.selection()
        if params.block_hash is not None:
            if params.from_block is not None or params.to_block is not None:
                raise RpcError(
                    INVALID_PARAMS,
                    "invalid params: cannot specify both blockHash and fromBlock/toBlock, choose one",
                )
            block = self.eth.stored_block(params.block_hash)
            if block is None:
                raise RpcError(SERVER_ERROR, "unknown block")
            return self._block_logs(block, selection, [])
        first, last = self._range(params.from_block, params.to_block)
        if last - first + 1 > self.limits.max_block_range:
            raise RpcError(LIMIT_EXCEEDED, f"exceed maximum block range: {self.limits.max_block_range}")
        return await trio.to_thread.run_sync(self._scan, selection, first, last)

    def _range(self, from_block: str | None, to_block: str | None) -> tuple[int, int]:
        """The numbers of the first and last block of the range (both included)."""
        head = self.eth.resolve("latest").block_number
        first, last = self._bound(from_block, "fromBlock"), self._bound(to_block, "toBlock")
        if last > head:
            raise RpcError(INVALID_PARAMS, "block range extends beyond current head block")
        if first > last:
            raise RpcError(INVALID_PARAMS, "invalid block range params")
        return first, last

    def _bound(self, bound: str | None, name: str) -> int:
        if bound is None or bound in _HEAD_TAGS:
            return self.eth.resolve("latest").block_number
        if bound in ("safe", "finalized", "earliest"):
            return self.eth.resolve(bound).block_number
        return parse_quantity(bound, name)

    def _scan(self, selection: LogFilter, first: int, last: int) -> list[dict[str, Any]]:
        chain, blockchain = self.eth.engine.chain, self.eth.engine.blockchain
        found: list[dict[str, Any]] = []
        for number in range(first, last + 1):
            block_hash = chain.canonical_hash(number)
            header = blockchain.header(block_hash) if block_hash is not None else None
            if block_hash is None or header is None or not selection.may_match_bloom(header.bloom):
                continue
            block = self.eth.stored_block(block_hash)
            if block is not None:
                self._block_logs(block, selection, found)
        return found

    def _block_logs(
        self, block: StoredBlockView, selection: LogFilter, found: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Append the block's selected logs to ``found`` (-32005 once past the result limit)."""
        if block.receipts is None or not selection.may_match_bloom(block.header.bloom):
            return found
        log_index = 0
        for index, receipt in enumerate(block.receipts):
            for log in receipt.logs:
                topics = [topic.to_bytes(32, "big") for topic in log.topics]
                if selection.matches(bytes(log.address), topics):
                    if len(found) == self.limits.max_results:
                        raise RpcError(
                            LIMIT_EXCEEDED, f"query returned more than {self.limits.max_results} results"
                        )
                    found.append(log_json(block, index, log, log_index))
                log_index += 1
        return found

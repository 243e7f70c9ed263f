"""``engine_getPayloadBodiesByHash/RangeV1/V2``: stored bodies for a consensus client's sync.

V2 adds each block's stored BAL (EIP-7928). Requests are limited to
:data:`MAX_BODIES` blocks (execution-apis shanghai.md: ``-38004`` past it);
unknown blocks are ``null``, and a range stops at the latest block.
"""

from __future__ import annotations

from typing import Any

from .context import EngineContext
from .errors import INVALID_PARAMS, TOO_LARGE_REQUEST, RpcError
from .jsonrpc import Dispatcher, Param
from .models import ExecutionPayloadBodyV1, ExecutionPayloadBodyV2, Hash32, Quantity
from .payload import body_from_rlp

MAX_BODIES = 32  # getPayloadBodies* request limit (execution-apis shanghai.md)


class PayloadBodiesMethods:
    def __init__(self, context: EngineContext) -> None:
        self.context = context

    def register(self, dispatcher: Dispatcher) -> None:
        dispatcher.register(
            "engine_getPayloadBodiesByHashV1", self.bodies_by_hash_v1, Param("blockHashes", list[Hash32])
        )
        dispatcher.register(
            "engine_getPayloadBodiesByRangeV1",
            self.bodies_by_range_v1,
            Param("start", Quantity),
            Param("count", Quantity),
        )
        dispatcher.register(
            "engine_getPayloadBodiesByHashV2", self.bodies_by_hash_v2, Param("blockHashes", list[Hash32])
        )
        dispatcher.register(
            "engine_getPayloadBodiesByRangeV2",
            self.bodies_by_range_v2,
            Param("start", Quantity),
            Param("count", Quantity),
        )

    async def bodies_by_hash_v1(self, hashes: list[bytes]) -> list[dict[str, Any] | None]:
        return self._by_hash(hashes, v2=False)

    async def bodies_by_range_v1(self, start: int, count: int) -> list[dict[str, Any] | None]:
        return self._by_range(start, count, v2=False)

    async def bodies_by_hash_v2(self, hashes: list[bytes]) -> list[dict[str, Any] | None]:
        return self._by_hash(hashes, v2=True)

    async def bodies_by_range_v2(self, start: int, count: int) -> list[dict[str, Any] | None]:
        return self._by_range(start, count, v2=True)

    def _body(self, block_hash: bytes | None, v2: bool) -> dict[str, Any] | None:
        chain = self.context.chain
        body_rlp = None if block_hash is None else chain.body_rlp(block_hash)
        if block_hash is None or body_rlp is None:
            return None
        transactions, withdrawals = body_from_rlp(body_rlp)
        if v2:
            bal_rlp = chain.bal_rlp(block_hash)
            return ExecutionPayloadBodyV2(
                transactions=transactions, withdrawals=withdrawals, block_access_list=bal_rlp
            ).to_json()
        return ExecutionPayloadBodyV1(transactions=transactions, withdrawals=withdrawals).to_json()

    def _by_hash(self, hashes: list[bytes], v2: bool) -> list[dict[str, Any] | None]:
        if len(hashes) > MAX_BODIES:
            raise RpcError(TOO_LARGE_REQUEST, f"too large request: {len(hashes)} hashes > {MAX_BODIES}")
        return [self._body(h, v2) for h in hashes]

    def _by_range(self, start: int, count: int, v2: bool) -> list[dict[str, Any] | None]:
        if start < 1 or count < 1:
            raise RpcError(INVALID_PARAMS, "invalid params: start and count must be at least 1")
        if count > MAX_BODIES:
            raise RpcError(TOO_LARGE_REQUEST, f"too large request: count {count} > {MAX_BODIES}")
        head = self.context.head_number()
        chain = self.context.chain
        bodies = [self._body(chain.canonical_hash(n), v2) for n in range(start, min(start + count, head + 1))]
        while bodies and bodies[-1] is None:  # no trailing nulls past the latest block
            bodies.pop()
        return bodies

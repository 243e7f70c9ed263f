"""``engine_newPayloadV3/V4/V5``: a payload becomes a block, the block goes through the pipeline.

Each version serves its forks (``context``); V4 adds the execution requests,
V5 the block access list, which sends the block down the pipeline's BAL path.
Before any execution the payload must stand for a block: its transactions and
header decode, its fields hash to its ``blockHash``, its blob versioned hashes
are the transactions'. A payload seen invalid before, or whose parent was, is
answered from the memory of invalid payloads.
"""

from __future__ import annotations

import logging
import time
from typing import Any, NamedTuple

import trio

from bal import BalDecodeError, BlockAccessList, decode_bal
from client.chain_config import Fork
from client.engine_versions import NEW_PAYLOAD_V3_FORKS, NEW_PAYLOAD_V4_FORKS, NEW_PAYLOAD_V5_FORKS
from client.forks import FORK_VMS
from pipeline import BAL_RULES, BlockRejected, Rule, UnknownParent, import_block

from .context import EngineContext, invalid_status
from .errors import INVALID_PARAMS, RpcError
from .jsonrpc import Dispatcher, Param
from .models import Data, ExecutionPayloadV3, ExecutionPayloadV4, Hash32, PayloadStatusV1
from .payload import BuiltBlock, blob_versioned_hashes, build_block

log = logging.getLogger("balrex.engine")


class PayloadOutcome(NamedTuple):
    """A newPayload's status, and what its log line says about the payload.

    Gas and reads are ``-`` for a payload that was not executed; reads are
    ``flat-state`` (the parent holds the flat state) or ``tries``. The split is
    None for a payload not stored by this call, else the transactions the
    later-part worker ran and those the node's process took back from its end
    (EIP-7928 parallel execution; both 0 for a block run in one part).
    """

    status: PayloadStatusV1
    txs: int
    gas: int | str = "-"
    reads: str = "-"
    split: tuple[int, int] | None = None


class NewPayloadMethods:
    def __init__(self, context: EngineContext) -> None:
        self.context = context

    def register(self, dispatcher: Dispatcher) -> None:
        dispatcher.register(
            "engine_newPayloadV3",
            self.new_payload_v3,
            Param("executionPayload", ExecutionPayloadV3),
            Param("expectedBlobVersionedHashes", list[Hash32]),
            Param("parentBeaconBlockRoot", Hash32),
        )
        dispatcher.register(
            "engine_newPayloadV4",
            self.new_payload_v4,
            Param("executionPayload", ExecutionPayloadV3),
            Param("expectedBlobVersionedHashes", list[Hash32]),
            Param("parentBeaconBlockRoot", Hash32),
            Param("executionRequests", list[Data]),
        )
        dispatcher.register(
            "engine_newPayloadV5",
            self.new_payload_v5,
            Param("executionPayload", ExecutionPayloadV4),
            Param("expectedBlobVersionedHashes", list[Hash32]),
            Param("parentBeaconBlockRoot", Hash32),
            Param("executionRequests", list[Data]),
        )

    async def new_payload_v3(
        self, payload: ExecutionPayloadV3, versioned_hashes: list[bytes], beacon_root: bytes
    ) -> dict[str, Any]:
        status = await self._new_payload(
            payload, versioned_hashes, beacon_root, None, NEW_PAYLOAD_V3_FORKS, "newPayloadV3"
        )
        return status.to_json()

    async def new_payload_v4(
        self,
        payload: ExecutionPayloadV3,
        versioned_hashes: list[bytes],
        beacon_root: bytes,
        requests: list[bytes],
    ) -> dict[str, Any]:
        check_requests(requests)
        status = await self._new_payload(
            payload, versioned_hashes, beacon_root, requests, NEW_PAYLOAD_V4_FORKS, "newPayloadV4"
        )
        return status.to_json()

    async def new_payload_v5(
        self,
        payload: ExecutionPayloadV4,
        versioned_hashes: list[bytes],
        beacon_root: bytes,
        requests: list[bytes],
    ) -> dict[str, Any]:
        check_requests(requests)
        status = await self._new_payload(
            payload, versioned_hashes, beacon_root, requests, NEW_PAYLOAD_V5_FORKS, "newPayloadV5"
        )
        return status.to_json()

    async def _new_payload(
        self,
        payload: ExecutionPayloadV3,
        versioned_hashes: list[bytes],
        beacon_root: bytes,
        requests: list[bytes] | None,
        served: tuple[Fork, ...],
        method: str,
    ) -> PayloadStatusV1:
        fork = self.context.fork_for(payload.timestamp, served, method)
        started = time.perf_counter()
        async with self.context.lock:
            outcome = await self._import_payload(
                FORK_VMS[fork].get_block_class(), payload, versioned_hashes, beacon_root, requests
            )
        status, split = outcome.status, outcome.split
        log.info(
            "newPayload number=%d hash=0x%s status=%s txs=%s gas=%s reads=%s ms=%.1f%s%s",
            payload.block_number,
            payload.block_hash.hex(),
            status.status,
            outcome.txs,
            outcome.gas,
            outcome.reads,
            (time.perf_counter() - started) * 1000,
            f" later_txs={split[0]} stolen_txs={split[1]}" if split is not None else "",
            f" error={status.validation_error!r}" if status.validation_error else "",
        )
        return status

    async def _import_payload(
        self,
        block_class: type,
        payload: ExecutionPayloadV3,
        versioned_hashes: list[bytes],
        beacon_root: bytes,
        requests: list[bytes] | None,
    ) -> PayloadOutcome:
        """The payload's status and what the log line says about it (:class:`PayloadOutcome`)."""
        context = self.context
        txs = len(payload.transactions)
        block_hash = payload.block_hash
        try:
            # Decoding a payload's transactions and BAL is CPU work: off the event loop.
            given_bal, built = await trio.to_thread.run_sync(
                _decode_payload, payload, block_class, beacon_root, requests
            )
            if built.block_hash != block_hash:
                raise BlockRejected(
                    Rule.BLOCK_HASH_MISMATCH,
                    f"payload says 0x{block_hash.hex()}, its fields hash to 0x{built.block_hash.hex()}",
                )
            if blob_versioned_hashes(built.block.transactions) != versioned_hashes:
                raise BlockRejected(Rule.BLOB_VERSIONED_HASHES_MISMATCH, "they differ from the transactions'")
        except BlockRejected as exc:
            return PayloadOutcome(invalid_status(None, str(exc)), txs)
        known_invalid = context.invalid.get(block_hash)
        if known_invalid is not None:
            status = invalid_status(known_invalid.latest_valid_hash, known_invalid.validation_error)
            return PayloadOutcome(status, txs)
        if context.chain.header_rlp(block_hash) is not None:
            known = PayloadStatusV1(status="VALID", latest_valid_hash=block_hash)
            return PayloadOutcome(known, txs, payload.gas_used)
        invalid_parent = context.invalid.get(payload.parent_hash)
        if invalid_parent is not None:
            error = str(
                BlockRejected(Rule.INVALID_ANCESTOR, f"parent 0x{payload.parent_hash.hex()} is invalid")
            )
            context.invalid.remember(block_hash, invalid_parent.latest_valid_hash, error)
            return PayloadOutcome(invalid_status(invalid_parent.latest_valid_hash, error), txs)
        try:
            imported = await import_block(
                context.blockchain,
                built.rlp,
                given_bal,
                merkleizer=context.merkleizer,
                later_parts=context.later_parts,
                block=built.block,  # decoded from the payload already: prepare does not decode it again
            )
        except UnknownParent:
            return PayloadOutcome(PayloadStatusV1(status="SYNCING"), txs)
        except BlockRejected as exc:
            # The parent is stored, and only valid blocks are stored: it is the latest valid one.
            # A BAL that fails validation is answered with latestValidHash null (amsterdam.md).
            latest_valid = None if exc.rule in BAL_RULES else payload.parent_hash
            context.invalid.remember(block_hash, latest_valid, str(exc))
            return PayloadOutcome(invalid_status(latest_valid, str(exc)), txs)
        return PayloadOutcome(
            PayloadStatusV1(status="VALID", latest_valid_hash=block_hash),
            imported.tx_count,
            imported.gas_used,
            "flat-state" if imported.timings.flat_state else "tries",
            (imported.timings.later_txs, imported.timings.stolen_txs),
        )


def _decode_payload(
    payload: ExecutionPayloadV3, block_class: type, beacon_root: bytes, requests: list[bytes] | None
) -> tuple[BlockAccessList | None, BuiltBlock]:
    return _decode_payload_bal(payload), build_block(payload, block_class, beacon_root, requests)


def _decode_payload_bal(payload: ExecutionPayloadV3) -> BlockAccessList | None:
    """The payload's BAL (V4 payloads only); undecodable RLP is an invalid payload."""
    if not isinstance(payload, ExecutionPayloadV4):
        return None
    try:
        return decode_bal(payload.block_access_list)
    except BalDecodeError as exc:
        raise BlockRejected(Rule.MALFORMED_BLOCK_ACCESS_LIST, str(exc)) from None


def check_requests(requests: list[bytes]) -> None:
    """execution-apis prague.md: each request is ``type || data`` with data, types strictly ascending."""
    previous = -1
    for index, request in enumerate(requests):
        if len(request) < 2:
            raise RpcError(INVALID_PARAMS, f"invalid params: executionRequests[{index}] has no request data")
        if request[0] <= previous:
            raise RpcError(
                INVALID_PARAMS, "invalid params: executionRequests are not in strictly ascending type order"
            )
        previous = request[0]

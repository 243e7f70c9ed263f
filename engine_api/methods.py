"""The Engine API methods (and the few ``eth_`` reads a consensus client uses) over a Blockchain.

Imports are serialized by one ``trio.Lock`` and run in the event loop (a
block blocks the server while it executes; the pipeline will move that work
off the loop). This node validates payloads but does not build them:
forkchoiceUpdated with payload attributes checks them and answers
``payloadId: null`` (see the README). Amsterdam payloads (newPayloadV5) carry
their block access list, which drives the import (the BAL path of ``pipeline.import_block``).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from importlib.metadata import version as package_version
from typing import Any

import rlp
import trio
from eth_hash.auto import keccak
from pydantic import ValidationError

from bal import BalDecodeError, BalError, BlockAccessList, decode_bal
from bal.mismatch import BalMismatch
from client.blockchain import Blockchain, BlockRejected, UnknownBlock, UnknownParent
from client.chain_config import UnsupportedChainConfig
from client.chaindb import decode_header
from client.forks import FORK_VMS
from pipeline import Merkleizer, PartWorkerPool, import_block
from storage import FINALIZED, HEAD, SAFE

from .errors import (
    INVALID_FORKCHOICE_STATE,
    INVALID_PARAMS,
    INVALID_PAYLOAD_ATTRIBUTES,
    TOO_LARGE_REQUEST,
    UNSUPPORTED_FORK,
    RpcError,
)
from .jsonrpc import Dispatcher, Param
from .models import (
    QUANTITY_RE,
    WIRE,
    BlockV1,
    ClientVersionV1,
    Data,
    ExecutionPayloadBodyV1,
    ExecutionPayloadBodyV2,
    ExecutionPayloadV3,
    ExecutionPayloadV4,
    ForkchoiceStateV1,
    ForkchoiceUpdatedResponseV1,
    Hash32,
    PayloadAttributesV3,
    PayloadAttributesV4,
    PayloadStatusV1,
    Quantity,
)
from .payload import InvalidPayload, blob_versioned_hashes, body_from_rlp, build_block

log = logging.getLogger("balrex.engine")

ZERO_HASH = b"\x00" * 32
MAX_BODIES = 32  # getPayloadBodies* request limit (execution-apis shanghai.md)
INVALID_CACHE_SIZE = 4096
CLIENT_CODE = "BX"  # not a registered two-letter code; ours until balrex has one

# Which forks each newPayload / forkchoiceUpdated version serves (execution-apis).
NEW_PAYLOAD_V3_FORKS = ("cancun",)
NEW_PAYLOAD_V4_FORKS = ("prague", "osaka", "bpo1", "bpo2")
NEW_PAYLOAD_V5_FORKS = ("amsterdam",)
FORKCHOICE_V3_FORKS = ("cancun", "prague", "osaka", "bpo1", "bpo2")
FORKCHOICE_V4_FORKS = ("amsterdam",)


def _bal_rules() -> frozenset[str]:
    rules, todo = set(), [BalError, BalMismatch]  # BalMismatch is a BalError; named to load it
    while todo:
        cls = todo.pop()
        rules.add(cls.rule)
        todo.extend(cls.__subclasses__())
    return frozenset(rules)


# Rejections of a block because its given BAL is wrong (structure, hash, or not what
# execution produced): amsterdam.md answers these INVALID with latestValidHash null.
BAL_RULES = _bal_rules() | {"block-access-list-mismatch"}

SUPPORTED_METHODS = (
    "engine_exchangeCapabilities",
    "engine_getClientVersionV1",
    "engine_newPayloadV3",
    "engine_newPayloadV4",
    "engine_newPayloadV5",
    "engine_forkchoiceUpdatedV3",
    "engine_forkchoiceUpdatedV4",
    "engine_getPayloadBodiesByHashV1",
    "engine_getPayloadBodiesByRangeV1",
    "engine_getPayloadBodiesByHashV2",
    "engine_getPayloadBodiesByRangeV2",
)


class EngineApi:
    def __init__(
        self,
        blockchain: Blockchain,
        merkleizer: Merkleizer | None = None,
        parts: PartWorkerPool | None = None,
    ) -> None:
        self.blockchain = blockchain
        # Where the BAL path's merkleizer and later transactions run (the node passes its worker pools).
        self.merkleizer = merkleizer
        self.parts = parts
        self.chain = blockchain.chain
        self.lock = trio.Lock()
        # block hash -> (latest valid hash, validation error): a repeat is answered from here.
        self.invalid: OrderedDict[bytes, tuple[bytes | None, str]] = OrderedDict()

    def dispatcher(self) -> Dispatcher:
        d = Dispatcher()
        d.register(
            "engine_exchangeCapabilities", self.exchange_capabilities, Param("capabilities", list[str])
        )
        d.register(
            "engine_getClientVersionV1", self.get_client_version, Param("clientVersion", ClientVersionV1)
        )
        d.register(
            "engine_newPayloadV3",
            self.new_payload_v3,
            Param("executionPayload", ExecutionPayloadV3),
            Param("expectedBlobVersionedHashes", list[Hash32]),
            Param("parentBeaconBlockRoot", Hash32),
        )
        d.register(
            "engine_newPayloadV4",
            self.new_payload_v4,
            Param("executionPayload", ExecutionPayloadV3),
            Param("expectedBlobVersionedHashes", list[Hash32]),
            Param("parentBeaconBlockRoot", Hash32),
            Param("executionRequests", list[Data]),
        )
        d.register(
            "engine_newPayloadV5",
            self.new_payload_v5,
            Param("executionPayload", ExecutionPayloadV4),
            Param("expectedBlobVersionedHashes", list[Hash32]),
            Param("parentBeaconBlockRoot", Hash32),
            Param("executionRequests", list[Data]),
        )
        d.register(
            "engine_forkchoiceUpdatedV4",
            self.forkchoice_updated_v4,
            Param("forkchoiceState", ForkchoiceStateV1),
            # Checked in the method: a mismatch with PayloadAttributesV4 is -38003, not -32602.
            Param("payloadAttributes", dict[str, Any] | None, required=False),
        )
        d.register(
            "engine_forkchoiceUpdatedV3",
            self.forkchoice_updated_v3,
            Param("forkchoiceState", ForkchoiceStateV1),
            Param("payloadAttributes", PayloadAttributesV3 | None, required=False),
        )
        d.register(
            "engine_getPayloadBodiesByHashV1", self.bodies_by_hash_v1, Param("blockHashes", list[Hash32])
        )
        d.register(
            "engine_getPayloadBodiesByRangeV1",
            self.bodies_by_range_v1,
            Param("start", Quantity),
            Param("count", Quantity),
        )
        d.register(
            "engine_getPayloadBodiesByHashV2", self.bodies_by_hash_v2, Param("blockHashes", list[Hash32])
        )
        d.register(
            "engine_getPayloadBodiesByRangeV2",
            self.bodies_by_range_v2,
            Param("start", Quantity),
            Param("count", Quantity),
        )
        d.register("eth_chainId", self.chain_id)
        d.register("eth_blockNumber", self.block_number)
        d.register("eth_getBlockByNumber", self.block_by_number, Param("block", str), Param("full", bool))
        d.register("eth_getBlockByHash", self.block_by_hash, Param("blockHash", Hash32), Param("full", bool))
        return d

    # -- capabilities, version ------------------------------------------------

    async def exchange_capabilities(self, capabilities: list[str]) -> list[str]:
        """The Engine API methods this node serves; common.md §Capabilities: never this one."""
        return [name for name in SUPPORTED_METHODS if name != "engine_exchangeCapabilities"]

    async def get_client_version(self, _consensus: ClientVersionV1) -> list[dict[str, Any]]:
        me = ClientVersionV1(
            code=CLIENT_CODE, name="balrex", version=package_version("balrex"), commit="0x00000000"
        )
        return [me.to_json()]

    # -- newPayload -----------------------------------------------------------

    async def new_payload_v3(
        self, payload: ExecutionPayloadV3, versioned_hashes: list[bytes], beacon_root: bytes
    ) -> dict[str, Any]:
        return (
            await self._new_payload(
                payload, versioned_hashes, beacon_root, None, NEW_PAYLOAD_V3_FORKS, "newPayloadV3"
            )
        ).to_json()

    async def new_payload_v4(
        self,
        payload: ExecutionPayloadV3,
        versioned_hashes: list[bytes],
        beacon_root: bytes,
        requests: list[bytes],
    ) -> dict[str, Any]:
        _check_requests(requests)
        return (
            await self._new_payload(
                payload, versioned_hashes, beacon_root, requests, NEW_PAYLOAD_V4_FORKS, "newPayloadV4"
            )
        ).to_json()

    async def new_payload_v5(
        self,
        payload: ExecutionPayloadV4,
        versioned_hashes: list[bytes],
        beacon_root: bytes,
        requests: list[bytes],
    ) -> dict[str, Any]:
        _check_requests(requests)
        return (
            await self._new_payload(
                payload, versioned_hashes, beacon_root, requests, NEW_PAYLOAD_V5_FORKS, "newPayloadV5"
            )
        ).to_json()

    def _fork_for(self, timestamp: int, served: tuple[str, ...], method: str) -> str:
        try:
            fork = self.blockchain.config.fork_at(timestamp)
        except UnsupportedChainConfig as exc:
            raise RpcError(UNSUPPORTED_FORK, f"unsupported fork: {exc}") from None
        if fork not in served:
            raise RpcError(
                UNSUPPORTED_FORK, f"unsupported fork: timestamp {timestamp} is {fork}, not {method}'s"
            )
        if fork not in FORK_VMS:
            raise RpcError(UNSUPPORTED_FORK, f"unsupported fork: {fork} does not execute in this node yet")
        return fork

    async def _new_payload(
        self,
        payload: ExecutionPayloadV3,
        versioned_hashes: list[bytes],
        beacon_root: bytes,
        requests: list[bytes] | None,
        served: tuple[str, ...],
        method: str,
    ) -> PayloadStatusV1:
        fork = self._fork_for(payload.timestamp, served, method)
        started = time.perf_counter()
        async with self.lock:
            status, txs, gas = await self._import_payload(
                fork, payload, versioned_hashes, beacon_root, requests
            )
        log.info(
            "newPayload number=%d hash=0x%s status=%s txs=%s gas=%s ms=%.1f%s",
            payload.block_number,
            payload.block_hash.hex(),
            status.status,
            txs,
            gas,
            (time.perf_counter() - started) * 1000,
            f" error={status.validation_error!r}" if status.validation_error else "",
        )
        return status

    async def _import_payload(
        self,
        fork: str,
        payload: ExecutionPayloadV3,
        versioned_hashes: list[bytes],
        beacon_root: bytes,
        requests: list[bytes] | None,
    ) -> tuple[PayloadStatusV1, int, int | str]:
        txs = len(payload.transactions)
        block_hash = payload.block_hash
        try:
            given_bal = _decode_payload_bal(payload)
            built = build_block(payload, FORK_VMS[fork].get_block_class(), beacon_root, requests)
        except InvalidPayload as exc:
            return _invalid(None, str(exc)), txs, "-"
        if built.block_hash != block_hash:
            return (
                _invalid(
                    None,
                    f"block-hash-mismatch: payload says 0x{block_hash.hex()}, "
                    f"its fields hash to 0x{built.block_hash.hex()}",
                ),
                txs,
                "-",
            )
        if blob_versioned_hashes(built.block.transactions) != versioned_hashes:
            return (
                _invalid(None, "blob-versioned-hashes-mismatch: they differ from the transactions'"),
                txs,
                "-",
            )
        if block_hash in self.invalid:
            latest_valid, error = self.invalid[block_hash]
            return _invalid(latest_valid, error), txs, "-"
        if self.chain.header_rlp(block_hash) is not None:
            return PayloadStatusV1(status="VALID", latest_valid_hash=block_hash), txs, payload.gas_used
        if payload.parent_hash in self.invalid:
            latest_valid, _ = self.invalid[payload.parent_hash]
            error = f"invalid-ancestor: parent 0x{payload.parent_hash.hex()} is invalid"
            self._remember_invalid(block_hash, latest_valid, error)
            return _invalid(latest_valid, error), txs, "-"
        try:
            imported = await import_block(
                self.blockchain, built.rlp, given_bal, merkleizer=self.merkleizer, parts=self.parts
            )
        except UnknownParent:
            return PayloadStatusV1(status="SYNCING"), txs, "-"
        except BlockRejected as exc:
            # The parent is stored, and only valid blocks are stored: it is the latest valid one.
            # A BAL that fails validation is answered with latestValidHash null (amsterdam.md).
            latest_valid = None if exc.rule in BAL_RULES else payload.parent_hash
            self._remember_invalid(block_hash, latest_valid, str(exc))
            return _invalid(latest_valid, str(exc)), txs, "-"
        return (
            PayloadStatusV1(status="VALID", latest_valid_hash=block_hash),
            imported.tx_count,
            imported.gas_used,
        )

    def _remember_invalid(self, block_hash: bytes, latest_valid: bytes | None, error: str) -> None:
        self.invalid[block_hash] = (latest_valid, error)
        while len(self.invalid) > INVALID_CACHE_SIZE:
            self.invalid.popitem(last=False)

    # -- forkchoiceUpdated ------------------------------------------------------

    async def forkchoice_updated_v3(
        self, state: ForkchoiceStateV1, attributes: PayloadAttributesV3 | None
    ) -> dict[str, Any]:
        check = None if attributes is None else partial(self._check_attributes, attributes)
        return await self._forkchoice_updated(state, check)

    async def forkchoice_updated_v4(
        self, state: ForkchoiceStateV1, raw_attributes: dict[str, Any] | None
    ) -> dict[str, Any]:
        check = None if raw_attributes is None else partial(self._check_attributes_v4, raw_attributes)
        return await self._forkchoice_updated(state, check)

    async def _forkchoice_updated(
        self, state: ForkchoiceStateV1, check: Callable[[int], None] | None
    ) -> dict[str, Any]:
        async with self.lock:
            response = self._forkchoice(state, check)
        log.info(
            "forkchoiceUpdated head=0x%s status=%s",
            state.head_block_hash.hex(),
            response.payload_status.status,
        )
        return response.to_json()

    def _forkchoice(
        self, state: ForkchoiceStateV1, check: Callable[[int], None] | None
    ) -> ForkchoiceUpdatedResponseV1:
        head = state.head_block_hash
        if head in self.invalid:
            latest_valid, error = self.invalid[head]
            return ForkchoiceUpdatedResponseV1(payload_status=_invalid(latest_valid, error))
        head_header = self.blockchain.header(head)
        if head_header is None:
            return ForkchoiceUpdatedResponseV1(payload_status=PayloadStatusV1(status="SYNCING"))
        safe = state.safe_block_hash if state.safe_block_hash != ZERO_HASH else None
        finalized = state.finalized_block_hash if state.finalized_block_hash != ZERO_HASH else None
        for name, block_hash in (("safe", safe), ("finalized", finalized)):
            if block_hash is not None and not self._is_ancestor(block_hash, head_header):
                raise RpcError(
                    INVALID_FORKCHOICE_STATE,
                    f"invalid forkchoice state: {name} block 0x{block_hash.hex()} is not on the head's chain",
                )
        try:
            self.blockchain.set_forkchoice(head, safe=safe, finalized=finalized)
        except UnknownBlock as exc:  # checked above; kept for safety
            raise RpcError(INVALID_FORKCHOICE_STATE, f"invalid forkchoice state: {exc}") from None
        if check is not None:  # after the update, which stays even if the attributes are refused
            check(head_header.timestamp)
        # This node does not build payloads: no build process is started, payloadId is null.
        return ForkchoiceUpdatedResponseV1(
            payload_status=PayloadStatusV1(status="VALID", latest_valid_hash=head), payload_id=None
        )

    def _is_ancestor(self, block_hash: bytes, head_header: Any) -> bool:
        """True if ``block_hash`` is the head or one of its stored ancestors."""
        target = self.blockchain.header(block_hash)
        if target is None:
            return False
        header = head_header
        while header is not None and header.block_number > target.block_number:
            header = self.blockchain.header(header.parent_hash)
        return header is not None and header.hash == block_hash

    def _check_attributes(self, attributes: PayloadAttributesV3, head_timestamp: int) -> None:
        if attributes.timestamp <= head_timestamp:
            raise RpcError(
                INVALID_PAYLOAD_ATTRIBUTES,
                f"invalid payload attributes: timestamp {attributes.timestamp} is not after the head's "
                f"{head_timestamp}",
            )
        self._fork_for(attributes.timestamp, FORKCHOICE_V3_FORKS, "forkchoiceUpdatedV3")

    def _check_attributes_v4(self, raw: dict[str, Any], head_timestamp: int) -> None:
        """amsterdam.md order: structure (-38003), fork (-38005), timestamp (-38003)."""
        try:
            attributes = PayloadAttributesV4.model_validate(raw, context=WIRE)
        except ValidationError as exc:
            detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
            raise RpcError(
                INVALID_PAYLOAD_ATTRIBUTES, f"invalid payload attributes: not PayloadAttributesV4: {detail}"
            ) from None
        self._fork_for(attributes.timestamp, FORKCHOICE_V4_FORKS, "forkchoiceUpdatedV4")
        if attributes.timestamp <= head_timestamp:
            raise RpcError(
                INVALID_PAYLOAD_ATTRIBUTES,
                f"invalid payload attributes: timestamp {attributes.timestamp} is not after the head's "
                f"{head_timestamp}",
            )

    # -- payload bodies -------------------------------------------------------

    def _body(self, block_hash: bytes | None, v2: bool) -> dict[str, Any] | None:
        body_rlp = None if block_hash is None else self.chain.body_rlp(block_hash)
        if body_rlp is None:
            return None
        transactions, withdrawals = body_from_rlp(body_rlp)
        if v2:
            bal = self.chain.bal_rlp(block_hash)  # type: ignore[arg-type]
            return ExecutionPayloadBodyV2(
                transactions=transactions, withdrawals=withdrawals, block_access_list=bal
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
        head = self._head_number()
        bodies = [
            self._body(self.chain.canonical_hash(n), v2) for n in range(start, min(start + count, head + 1))
        ]
        while bodies and bodies[-1] is None:  # no trailing nulls past the latest block
            bodies.pop()
        return bodies

    async def bodies_by_hash_v1(self, hashes: list[bytes]) -> list[dict[str, Any] | None]:
        return self._by_hash(hashes, v2=False)

    async def bodies_by_range_v1(self, start: int, count: int) -> list[dict[str, Any] | None]:
        return self._by_range(start, count, v2=False)

    async def bodies_by_hash_v2(self, hashes: list[bytes]) -> list[dict[str, Any] | None]:
        return self._by_hash(hashes, v2=True)

    async def bodies_by_range_v2(self, start: int, count: int) -> list[dict[str, Any] | None]:
        return self._by_range(start, count, v2=True)

    # -- eth_ -----------------------------------------------------------------

    async def chain_id(self) -> str:
        return hex(self.blockchain.config.chain_id)

    def _head_number(self) -> int:
        head = self.chain.head_hash()
        header = self.blockchain.header(head) if head else None
        return 0 if header is None else header.block_number

    async def block_number(self) -> str:
        return hex(self._head_number())

    async def block_by_number(self, tag: str, full: bool) -> dict[str, Any] | None:
        _no_full(full)
        pointers = {"latest": HEAD, "safe": SAFE, "finalized": FINALIZED}
        if tag in pointers:
            block_hash = self.chain.pointer(pointers[tag])
        elif tag == "earliest":
            block_hash = self.chain.canonical_hash(0)
        elif tag == "pending":
            block_hash = self.chain.head_hash()
        else:
            try:
                number = _block_number(tag)
            except ValueError as exc:
                raise RpcError(INVALID_PARAMS, f"invalid params: block: {exc}") from None
            block_hash = self.chain.canonical_hash(number)
        return None if block_hash is None else self._block_json(block_hash)

    async def block_by_hash(self, block_hash: bytes, full: bool) -> dict[str, Any] | None:
        _no_full(full)
        return self._block_json(block_hash)

    def _block_json(self, block_hash: bytes) -> dict[str, Any] | None:
        header_rlp = self.chain.header_rlp(block_hash)
        body_rlp = self.chain.body_rlp(block_hash)
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


def _invalid(latest_valid: bytes | None, error: str) -> PayloadStatusV1:
    return PayloadStatusV1(status="INVALID", latest_valid_hash=latest_valid, validation_error=error)


def _decode_payload_bal(payload: ExecutionPayloadV3) -> BlockAccessList | None:
    """The payload's BAL (V4 payloads only); undecodable RLP is an invalid payload."""
    if not isinstance(payload, ExecutionPayloadV4):
        return None
    try:
        return decode_bal(payload.block_access_list)
    except BalDecodeError as exc:
        raise InvalidPayload("malformed-block-access-list", str(exc)) from None


def _check_requests(requests: list[bytes]) -> None:
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

"""``engine_forkchoiceUpdatedV3/V4``: the consensus client moves the head, safe and finalized blocks.

The update itself is the chain's (``Blockchain.set_forkchoice``, one batch);
here are the Engine API's rules around it: an invalid or unknown head, safe
and finalized on the head's chain, and payload attributes checked after the
update (which stays even if they are refused). Valid attributes start a
payload build on the new head (``payload_builds``) and the answer carries its
``payloadId``; without attributes it is null.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import trio
from eth.abc import BlockHeaderAPI
from eth.vm.forks.shanghai.withdrawals import Withdrawal
from pydantic import ValidationError

from client.block_builder import BlockAttributes
from client.blockchain import UnknownBlock
from client.engine_versions import FORKCHOICE_V3_FORKS, FORKCHOICE_V4_FORKS

from .context import ZERO_HASH, EngineContext, invalid_status
from .errors import INVALID_FORKCHOICE_STATE, INVALID_PAYLOAD_ATTRIBUTES, RpcError
from .jsonrpc import Dispatcher, Param
from .models import (
    WIRE,
    ForkchoiceStateV1,
    ForkchoiceUpdatedResponseV1,
    PayloadAttributesV3,
    PayloadAttributesV4,
    PayloadStatusV1,
)
from .payload_builds import PayloadBuilds

log = logging.getLogger("balrex.engine")

# Checks payload attributes against the head's timestamp; the builder's inputs, or RpcError.
AttributesCheck = Callable[[int], BlockAttributes]


class ForkchoiceMethods:
    def __init__(self, context: EngineContext, builds: PayloadBuilds | None = None) -> None:
        self.context = context
        # Where valid payload attributes start a build (None: this node builds nothing, payloadId null).
        self.builds = builds

    def register(self, dispatcher: Dispatcher) -> None:
        dispatcher.register(
            "engine_forkchoiceUpdatedV4",
            self.forkchoice_updated_v4,
            Param("forkchoiceState", ForkchoiceStateV1),
            # Checked in the method: a mismatch with PayloadAttributesV4 is -38003, not -32602.
            Param("payloadAttributes", dict[str, Any] | None, required=False),
        )
        dispatcher.register(
            "engine_forkchoiceUpdatedV3",
            self.forkchoice_updated_v3,
            Param("forkchoiceState", ForkchoiceStateV1),
            Param("payloadAttributes", PayloadAttributesV3 | None, required=False),
        )

    async def forkchoice_updated_v3(
        self, state: ForkchoiceStateV1, attributes: PayloadAttributesV3 | None
    ) -> dict[str, Any]:
        check = None if attributes is None else partial(self._check_attributes, attributes)
        return await self._forkchoice_updated(state, check, 3)

    async def forkchoice_updated_v4(
        self, state: ForkchoiceStateV1, raw_attributes: dict[str, Any] | None
    ) -> dict[str, Any]:
        check = None if raw_attributes is None else partial(self._check_attributes_v4, raw_attributes)
        return await self._forkchoice_updated(state, check, 4)

    async def _forkchoice_updated(
        self, state: ForkchoiceStateV1, check: AttributesCheck | None, version: int
    ) -> dict[str, Any]:
        context = self.context
        async with context.forkchoice_lock:
            if state.head_block_hash == context.chain.head_hash():
                # The head stays (the consensus client repeats it, or moves safe and finalized):
                # the flat state does not move, so this need not wait for an import in progress.
                response = await trio.to_thread.run_sync(self._forkchoice, state, check, version)
            else:
                # Moving the flat state under an import that reads it would corrupt that import.
                async with context.lock:
                    response = await trio.to_thread.run_sync(self._forkchoice, state, check, version)
                    # The flat state moved: the idle workers replay that now, not when the next block comes.
                    context.catch_up_workers()
        log.info(
            "forkchoiceUpdated head=0x%s status=%s",
            state.head_block_hash.hex(),
            response.payload_status.status,
        )
        return response.to_json()

    def _forkchoice(
        self, state: ForkchoiceStateV1, check: AttributesCheck | None, version: int
    ) -> ForkchoiceUpdatedResponseV1:
        blockchain = self.context.blockchain
        head = state.head_block_hash
        known_invalid = self.context.invalid.get(head)
        if known_invalid is not None:
            return ForkchoiceUpdatedResponseV1(
                payload_status=invalid_status(known_invalid.latest_valid_hash, known_invalid.validation_error)
            )
        head_header = blockchain.header(head)
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
            blockchain.set_forkchoice(head, safe=safe, finalized=finalized)
        except UnknownBlock as exc:  # checked above; kept for safety
            raise RpcError(INVALID_FORKCHOICE_STATE, f"invalid forkchoice state: {exc}") from None
        build_id = None
        if check is not None:  # after the update, which stays even if the attributes are refused
            attributes = check(head_header.timestamp)
            if self.builds is not None:
                # This runs in a worker thread; a build is a task of the event loop.
                build_id = trio.from_thread.run_sync(self.builds.start, version, head_header, attributes)
        return ForkchoiceUpdatedResponseV1(
            payload_status=PayloadStatusV1(status="VALID", latest_valid_hash=head), payload_id=build_id
        )

    def _is_ancestor(self, block_hash: bytes, head_header: BlockHeaderAPI) -> bool:
        """True if ``block_hash`` is the head or one of its stored ancestors."""
        blockchain = self.context.blockchain
        target = blockchain.header(block_hash)
        if target is None:
            return False
        header: BlockHeaderAPI | None = head_header
        while header is not None and header.block_number > target.block_number:
            header = blockchain.header(header.parent_hash)
        return header is not None and header.hash == block_hash

    def _check_attributes(self, attributes: PayloadAttributesV3, head_timestamp: int) -> BlockAttributes:
        _check_timestamp(attributes.timestamp, head_timestamp)
        self.context.fork_for(attributes.timestamp, FORKCHOICE_V3_FORKS, "forkchoiceUpdatedV3")
        return block_attributes(attributes)

    def _check_attributes_v4(self, raw: dict[str, Any], head_timestamp: int) -> BlockAttributes:
        """amsterdam.md order: structure (-38003), fork (-38005), timestamp (-38003)."""
        try:
            attributes = PayloadAttributesV4.model_validate(raw, context=WIRE)
        except ValidationError as exc:
            detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
            raise RpcError(
                INVALID_PAYLOAD_ATTRIBUTES, f"invalid payload attributes: not PayloadAttributesV4: {detail}"
            ) from None
        self.context.fork_for(attributes.timestamp, FORKCHOICE_V4_FORKS, "forkchoiceUpdatedV4")
        _check_timestamp(attributes.timestamp, head_timestamp)
        return block_attributes(attributes, attributes.slot_number)


def block_attributes(attributes: PayloadAttributesV3, slot_number: int | None = None) -> BlockAttributes:
    """The builder's inputs from checked payload attributes (V4 adds the slot number)."""
    return BlockAttributes(
        timestamp=attributes.timestamp,
        fee_recipient=attributes.suggested_fee_recipient,
        prev_randao=attributes.prev_randao,
        parent_beacon_block_root=attributes.parent_beacon_block_root,
        withdrawals=tuple(
            Withdrawal(w.index, w.validator_index, w.address, w.amount) for w in attributes.withdrawals
        ),
        slot_number=slot_number,
    )


def _check_timestamp(timestamp: int, head_timestamp: int) -> None:
    if timestamp <= head_timestamp:
        raise RpcError(
            INVALID_PAYLOAD_ATTRIBUTES,
            f"invalid payload attributes: timestamp {timestamp} is not after the head's {head_timestamp}",
        )

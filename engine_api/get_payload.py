"""``engine_getPayloadV3/V4/V5/V6``: the payload a build process produced, in each version's shape.

=====  ============  =================================  ================  ============
method forks         executionPayload                   blobsBundle       requests
=====  ============  =================================  ================  ============
V3     Cancun        ExecutionPayloadV3                 V1 (blob proofs)  -
V4     Prague        ExecutionPayloadV3                 V1 (blob proofs)  yes
V5     Osaka, BPOs   ExecutionPayloadV3                 V2 (cell proofs)  yes
V6     Amsterdam     ExecutionPayloadV4 (BAL, slot)     V2 (cell proofs)  yes
=====  ============  =================================  ================  ============

Every version also answers ``blockValue`` (the priority fees the fee
recipient receives) and ``shouldOverrideBuilder`` (always false: this node
has no view of censorship). An unknown ``payloadId`` is ``-38001``, a payload
of a fork the version does not serve ``-38005`` (execution-apis cancun.md,
prague.md, osaka.md, amsterdam.md).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from bal import encode_bal
from client.block_builder import ProducedBlock
from client.chain_config import Fork
from client.engine_versions import (
    GET_PAYLOAD_V3_FORKS,
    GET_PAYLOAD_V4_FORKS,
    GET_PAYLOAD_V5_FORKS,
    GET_PAYLOAD_V6_FORKS,
)

from .errors import INTERNAL_ERROR, UNKNOWN_PAYLOAD, UNSUPPORTED_FORK, RpcError
from .jsonrpc import Dispatcher, Param
from .models import Bytes8, Data, ExecutionPayloadV3, ExecutionPayloadV4, Model, WithdrawalV1
from .payload_builds import BuildFailed, PayloadBuild, PayloadBuilds


class BlobsBundle(Model):
    """BlobsBundleV1 (one blob proof per blob) and V2 (CELLS_PER_EXT_BLOB cell proofs per blob)."""

    commitments: list[Data]
    proofs: list[Data]
    blobs: list[Data]


def execution_payload(produced: ProducedBlock) -> ExecutionPayloadV3:
    """The block as an ExecutionPayloadV3, or V4 (with its BAL and slot) from Amsterdam on."""
    header, block = produced.header, produced.block
    fields: dict[str, Any] = dict(
        parent_hash=header.parent_hash,
        fee_recipient=header.coinbase,
        state_root=header.state_root,
        receipts_root=header.receipt_root,
        logs_bloom=header.bloom.to_bytes(256, "big"),
        prev_randao=header.mix_hash,
        block_number=header.block_number,
        gas_limit=header.gas_limit,
        gas_used=header.gas_used,
        timestamp=header.timestamp,
        extra_data=header.extra_data,
        base_fee_per_gas=header.base_fee_per_gas,
        block_hash=header.hash,
        transactions=[tx.encode() for tx in block.transactions],
        withdrawals=[
            WithdrawalV1(index=w.index, validator_index=w.validator_index, address=w.address, amount=w.amount)
            for w in block.withdrawals
        ],
        blob_gas_used=header.blob_gas_used,
        excess_blob_gas=header.excess_blob_gas,
    )
    if produced.block_access_list is None:
        return ExecutionPayloadV3(**fields)
    return ExecutionPayloadV4(
        **fields, block_access_list=encode_bal(produced.block_access_list), slot_number=header.slot_number
    )


def blobs_bundle(build: PayloadBuild) -> BlobsBundle:
    sidecars = build.sidecars
    return BlobsBundle(
        commitments=[c for sidecar in sidecars for c in sidecar.commitments],
        proofs=[p for sidecar in sidecars for p in sidecar.proofs],
        blobs=[b for sidecar in sidecars for b in sidecar.blobs],
    )


class GetPayloadMethods:
    def __init__(self, builds: PayloadBuilds) -> None:
        self.builds = builds

    def register(self, dispatcher: Dispatcher) -> None:
        for version, served, with_requests in (
            (3, GET_PAYLOAD_V3_FORKS, False),
            (4, GET_PAYLOAD_V4_FORKS, True),
            (5, GET_PAYLOAD_V5_FORKS, True),
            (6, GET_PAYLOAD_V6_FORKS, True),
        ):
            handler = partial(
                self._get_payload, served=served, with_requests=with_requests, method=f"getPayloadV{version}"
            )
            dispatcher.register(f"engine_getPayloadV{version}", handler, Param("payloadId", Bytes8))

    async def _get_payload(
        self, build_id: bytes, *, served: tuple[Fork, ...], with_requests: bool, method: str
    ) -> dict[str, Any]:
        build = self.builds.get(build_id)
        if build is None:
            raise RpcError(UNKNOWN_PAYLOAD, f"unknown payload: no build 0x{build_id.hex()}")
        fork = self.builds.context.fork_of(build.attributes.timestamp)
        if fork not in served:
            raise RpcError(
                UNSUPPORTED_FORK, f"unsupported fork: payload 0x{build_id.hex()} is {fork}, not {method}'s"
            )
        try:
            produced = await build.result()
        except BuildFailed as exc:
            raise RpcError(INTERNAL_ERROR, f"payload build failed: {exc}") from None
        answer: dict[str, Any] = {
            "executionPayload": execution_payload(produced).to_json(),
            "blockValue": hex(produced.block_value),
            "blobsBundle": blobs_bundle(build).to_json(),
            "shouldOverrideBuilder": False,
        }
        if with_requests:
            requests = produced.execution_requests or ()
            answer["executionRequests"] = ["0x" + request.hex() for request in requests]
        return answer

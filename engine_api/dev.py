"""The block producer of ``balrex dev``: a stand-in consensus client driving the node's own Engine API.

Every slot it does what a beacon node does with its execution client, over
HTTP with the data dir's JWT secret: ``forkchoiceUpdated`` on the head with
payload attributes (timestamp: the wall clock, at least one second after the
head; randao and beacon root derived from the block number; no withdrawals;
the fee recipient given), ``getPayload`` of the build it started,
``newPayload`` of that payload, and ``forkchoiceUpdated`` to make it the
head (and safe and finalized: one producer, no reorgs to wait for). Each
call takes the method version of the payload's fork, so a dev chain of any
fork from Cancun on runs through the same calls a consensus client makes.
A call that fails is logged and the slot skipped.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx
import trio
from eth_hash.auto import keccak

from client.chain_config import ChainConfig, Fork
from client.forks import FORK_VMS

from .auth import make_token
from .payload import blob_versioned_hashes, decode_transactions

log = logging.getLogger("balrex.dev")
# One line per call of the producer would drown the node's own log.
logging.getLogger("httpx").setLevel(logging.WARNING)

DEFAULT_SLOT_SECONDS = 2.0
# (forkchoiceUpdated, getPayload, newPayload) versions of each fork's payloads.
_VERSIONS = {
    Fork.CANCUN: (3, 3, 3),
    Fork.PRAGUE: (3, 4, 4),
    Fork.OSAKA: (3, 5, 4),
    Fork.BPO1: (3, 5, 4),
    Fork.BPO2: (3, 5, 4),
    Fork.AMSTERDAM: (4, 6, 5),
}


@dataclass(frozen=True)
class DevProducerOptions:
    fee_recipient: bytes
    slot_seconds: float = DEFAULT_SLOT_SECONDS


class EngineCallFailed(RuntimeError):
    """The node answered a producer's call with an error, or a payload status other than VALID."""


class DevProducer:
    def __init__(self, url: str, secret: bytes, config: ChainConfig, options: DevProducerOptions) -> None:
        self.url = url
        self.secret = secret
        self.config = config
        self.options = options

    async def run(self, stop: trio.Event) -> None:
        """Produce one block per slot until ``stop`` is set."""
        async with httpx.AsyncClient(timeout=30) as client:
            while not stop.is_set():
                with trio.move_on_after(self.options.slot_seconds):
                    await stop.wait()
                if stop.is_set():
                    return
                try:
                    await self.produce(client)
                except (EngineCallFailed, httpx.HTTPError) as exc:
                    log.warning("slot skipped: %s", exc)

    async def produce(self, client: httpx.AsyncClient) -> dict[str, Any]:
        """Build, import and make head one block on the current head; return its payload."""
        head = await self._call(client, "eth_getBlockByNumber", "latest", False)
        number = int(head["number"], 16) + 1
        timestamp = max(int(time.time()), int(head["timestamp"], 16) + 1)
        fork = self.config.fork_at(timestamp)
        fcu, get, new = _VERSIONS[fork]
        tag = number.to_bytes(8, "big")
        beacon_root = "0x" + keccak(b"balrex dev beacon root" + tag).hex()
        attributes: dict[str, Any] = {
            "timestamp": hex(timestamp),
            "prevRandao": "0x" + keccak(b"balrex dev randao" + tag).hex(),
            "suggestedFeeRecipient": "0x" + self.options.fee_recipient.hex(),
            "withdrawals": [],
            "parentBeaconBlockRoot": beacon_root,
        }
        if fcu == 4:
            attributes["slotNumber"] = hex(int(head.get("slotNumber", "0x0"), 16) + 1)
        forkchoice = f"engine_forkchoiceUpdatedV{fcu}"
        started = await self._call(client, forkchoice, _state(head["hash"]), attributes)
        if started["payloadId"] is None:
            raise EngineCallFailed(f"no payload build started: {started['payloadStatus']}")
        built = await self._call(client, f"engine_getPayloadV{get}", started["payloadId"])
        payload = built["executionPayload"]
        block_class = FORK_VMS[fork].get_block_class()
        raw = [bytes.fromhex(tx[2:]) for tx in payload["transactions"]]
        hashes = ["0x" + h.hex() for h in blob_versioned_hashes(decode_transactions(block_class, raw))]
        params: list[Any] = [payload, hashes, beacon_root]
        if new >= 4:
            params.append(built["executionRequests"])
        status = await self._call(client, f"engine_newPayloadV{new}", *params)
        if status["status"] != "VALID":
            raise EngineCallFailed(f"own payload {payload['blockHash']} is {status}")
        moved = await self._call(client, forkchoice, _state(payload["blockHash"]), None)
        if moved["payloadStatus"]["status"] != "VALID":
            raise EngineCallFailed(f"forkchoice to own payload: {moved['payloadStatus']}")
        log.info(
            "produced block number=%d hash=%s txs=%d gas=%d value=%d",
            number,
            payload["blockHash"],
            len(payload["transactions"]),
            int(payload["gasUsed"], 16),
            int(built["blockValue"], 16),
        )
        return dict(payload)

    async def _call(self, client: httpx.AsyncClient, method: str, *params: Any) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        headers = {"Authorization": "Bearer " + make_token(self.secret)}
        response = await client.post(self.url, json=body, headers=headers)
        answer = response.json()
        if "error" in answer:
            raise EngineCallFailed(f"{method}: {answer['error']['code']} {answer['error']['message']}")
        return answer["result"]


def _state(head: str) -> dict[str, str]:
    return {"headBlockHash": head, "safeBlockHash": head, "finalizedBlockHash": head}

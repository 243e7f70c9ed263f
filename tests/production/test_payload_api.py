"""Payload building through the Engine API's dispatcher, in process (no HTTP, no worker processes).

forkchoiceUpdated with attributes -> getPayload -> newPayload must give a VALID
block; the spec's errors for bad attributes, unknown ids and a version of
another fork; getBlobs on an empty pool; the capabilities are what is served.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import trio
from wallet import ADDRESSES, GWEI, dynamic, raw_hex

from client.blockchain import Blockchain
from client.chain_config import Fork
from client.dev_chain import dev_genesis_for
from client.genesis import build_genesis
from engine_api.jsonrpc import Dispatcher
from engine_api.methods import EngineApi
from storage import MemoryStore

ZERO = "0x" + "00" * 32
BEACON_ROOT = "0x" + "44" * 32


class Api:
    def __init__(self, fork: Fork) -> None:
        genesis = build_genesis(dev_genesis_for(fork))
        self.blockchain = Blockchain(MemoryStore(), genesis.config)
        self.blockchain.init_genesis_state(genesis.state, genesis.block_rlp)
        self.api = EngineApi(self.blockchain)
        self.engine = self.api.dispatcher()
        self.public = self.api.public_dispatcher()
        self.head = "0x" + genesis.block_hash.hex()

    async def call(self, dispatcher: Dispatcher, method: str, *params: Any) -> dict[str, Any]:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        answer = await dispatcher.handle_body(json.dumps(body).encode())
        assert answer is not None
        return dict(json.loads(answer))

    async def result(self, method: str, *params: Any) -> Any:
        dispatcher = self.public if method.startswith("eth_") else self.engine
        answer = await self.call(dispatcher, method, *params)
        assert "error" not in answer, answer
        return answer["result"]

    async def error(self, method: str, *params: Any) -> int:
        answer = await self.call(self.engine, method, *params)
        return int(answer["error"]["code"])


def attributes(timestamp: int, *, slot: int | None = 1) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "timestamp": hex(timestamp),
        "prevRandao": "0x" + "11" * 32,
        "suggestedFeeRecipient": "0x" + "22" * 20,
        "withdrawals": [
            {"index": "0x0", "validatorIndex": "0x1", "address": "0x" + "33" * 20, "amount": "0x5"}
        ],
        "parentBeaconBlockRoot": BEACON_ROOT,
    }
    if slot is not None:
        fields["slotNumber"] = hex(slot)
    return fields


def state(head: str) -> dict[str, str]:
    return {"headBlockHash": head, "safeBlockHash": ZERO, "finalizedBlockHash": ZERO}


def test_build_get_import_amsterdam() -> None:
    async def main() -> None:
        api = Api(Fork.AMSTERDAM)
        for account in range(3):
            await api.result("eth_sendRawTransaction", raw_hex(dynamic(account, 0, tip=(account + 1) * GWEI)))
        answer = await api.result("engine_forkchoiceUpdatedV4", state(api.head), attributes(12))
        payload_id = answer["payloadId"]
        assert payload_id is not None and len(payload_id) == 18 and payload_id.startswith("0x04")
        again = await api.result("engine_forkchoiceUpdatedV4", state(api.head), attributes(12))
        assert again["payloadId"] == payload_id  # the same attributes name the same build
        other = await api.result("engine_forkchoiceUpdatedV4", state(api.head), attributes(13))
        assert other["payloadId"] != payload_id
        for version in (3, 4, 5):
            assert await api.error(f"engine_getPayloadV{version}", payload_id) == -38005
        assert await api.error("engine_getPayloadV6", "0x" + "00" * 8) == -38001
        built = await api.result("engine_getPayloadV6", payload_id)
        payload = built["executionPayload"]
        assert len(payload["transactions"]) == 3
        # The best tip first: account 2 (3 gwei), then 1, then 0.
        assert int(built["blockValue"], 16) == 21_000 * GWEI * (3 + 2 + 1)
        assert built["blobsBundle"] == {"commitments": [], "proofs": [], "blobs": []}
        assert built["executionRequests"] == [] and built["shouldOverrideBuilder"] is False
        assert payload["slotNumber"] == "0x1" and payload["blockAccessList"].startswith("0x")
        status = await api.result("engine_newPayloadV5", payload, [], BEACON_ROOT, [])
        assert status["status"] == "VALID"
        moved = await api.result("engine_forkchoiceUpdatedV4", state(payload["blockHash"]), None)
        assert moved["payloadStatus"]["status"] == "VALID" and moved["payloadId"] is None
        assert await api.result("eth_getTransactionCount", "0x" + ADDRESSES[2].hex(), "latest") == "0x1"
        assert await api.result("eth_getBalance", "0x" + "33" * 20, "latest") == hex(5 * GWEI)

    trio.run(main)


@pytest.mark.parametrize(("fork", "fcu", "get", "new"), [(Fork.CANCUN, 3, 3, 3), (Fork.PRAGUE, 3, 4, 4)])
def test_build_get_import_before_amsterdam(fork: Fork, fcu: int, get: int, new: int) -> None:
    async def main() -> None:
        api = Api(fork)
        await api.result("eth_sendRawTransaction", raw_hex(dynamic(0, 0)))
        v3_attributes = attributes(12, slot=None)
        answer = await api.result(f"engine_forkchoiceUpdatedV{fcu}", state(api.head), v3_attributes)
        built = await api.result(f"engine_getPayloadV{get}", answer["payloadId"])
        payload = built["executionPayload"]
        assert "blockAccessList" not in payload and len(payload["transactions"]) == 1
        assert ("executionRequests" in built) == (get >= 4)
        params: list[Any] = [payload, [], BEACON_ROOT] + ([built["executionRequests"]] if new >= 4 else [])
        assert (await api.result(f"engine_newPayloadV{new}", *params))["status"] == "VALID"

    trio.run(main)


def test_bad_attributes_start_nothing() -> None:
    async def main() -> None:
        api = Api(Fork.AMSTERDAM)
        # Not after the head's timestamp (0): -38003; the forkchoice update itself stays.
        assert await api.error("engine_forkchoiceUpdatedV4", state(api.head), attributes(0)) == -38003
        missing_slot = attributes(12, slot=None)
        assert await api.error("engine_forkchoiceUpdatedV4", state(api.head), missing_slot) == -38003
        # V3 attributes for an Amsterdam timestamp: the wrong version, -38005.
        assert await api.error("engine_forkchoiceUpdatedV3", state(api.head), missing_slot) == -38005
        assert len(api.api.builds) == 0

    trio.run(main)


def test_get_blobs_and_capabilities() -> None:
    async def main() -> None:
        api = Api(Fork.OSAKA)
        hashes = ["0x01" + "ab" * 31, "0x01" + "cd" * 31]
        assert await api.result("engine_getBlobsV1", hashes) == [None, None]
        assert await api.result("engine_getBlobsV2", hashes) == [None, None]
        assert await api.error("engine_getBlobsV2", hashes * 65) == -38004
        served = await api.result("engine_exchangeCapabilities", [])
        registered = {name for name in api.engine.methods if name.startswith("engine_")}
        assert set(served) == registered - {"engine_exchangeCapabilities"}
        assert {f"engine_getPayloadV{v}" for v in (3, 4, 5, 6)} <= set(served)

    trio.run(main)


def test_a_build_is_refined_until_get_payload() -> None:
    """A round when the pool changed keeps the payload only if it pays more; getPayload ends the build."""

    async def main() -> None:
        api = Api(Fork.AMSTERDAM)
        api.api.builds.recommit_seconds = 0.05
        answer = await api.result("engine_forkchoiceUpdatedV4", state(api.head), attributes(12))
        build = api.api.builds.get(bytes.fromhex(answer["payloadId"][2:]))
        assert build is not None

        async def rounds(count: int) -> None:
            with trio.fail_after(30):
                while build.rounds < count:
                    await trio.sleep(0.01)

        await rounds(1)
        empty = build.produced
        assert empty is not None and empty.block_value == 0
        # A transaction after a nonce gap changes the pool but not what a block can hold: not kept.
        await api.result("eth_sendRawTransaction", raw_hex(dynamic(0, 1)))
        await rounds(2)
        assert build.produced is empty
        await api.result("eth_sendRawTransaction", raw_hex(dynamic(0, 0)))
        await rounds(3)
        built = await api.result("engine_getPayloadV6", answer["payloadId"])
        assert len(built["executionPayload"]["transactions"]) == 2
        assert int(built["blockValue"], 16) == 2 * 21_000 * GWEI
        # Resolved: later pool changes start no round and the answer stays.
        await api.result("eth_sendRawTransaction", raw_hex(dynamic(1, 0)))
        await trio.sleep(0.3)
        assert build.rounds == 3
        assert await api.result("engine_getPayloadV6", answer["payloadId"]) == built

    trio.run(main)
